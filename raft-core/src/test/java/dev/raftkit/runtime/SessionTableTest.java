package dev.raftkit.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The replicated session table (§6.3) and the entry framing, against simple expectations. */
class SessionTableTest {

    @Test
    void aDuplicateGetsTheRecordedResponseAndAcknowledgedOnesAreDiscarded() {
        SessionTable t = new SessionTable(60_000, 16);
        t.open(7, 0);
        assertEquals(SessionTable.Verdict.APPLY, t.check(7, 1, 1, 10));
        t.record(7, 1, new byte[] {42});
        assertEquals(SessionTable.Verdict.DUPLICATE, t.check(7, 1, 1, 20));
        assertArrayEquals(new byte[] {42}, t.response(7, 1));
        assertEquals(SessionTable.Verdict.APPLY, t.check(7, 2, 2, 30));
        assertEquals(SessionTable.Verdict.RESPONSE_DISCARDED, t.check(7, 1, 2, 40));
        assertEquals(SessionTable.Verdict.SESSION_EXPIRED, t.check(8, 1, 1, 40));
    }

    @Test
    void expiryMatchesANaiveSweepBeforeEveryEntry() {
        // Oracle: before every entry, drop each session idle for the timeout. The table sweeps
        // lazily (only once log time reaches its earliest possible deadline); it must agree always.
        SplittableRandom r = new SplittableRandom(5);
        SessionTable table = new SessionTable(1_000, 4);
        java.util.Map<Long, Long> oracle = new java.util.HashMap<>();
        long now = 0;
        for (int i = 0; i < 5_000; i++) {
            now += r.nextInt(100);
            long t = now;
            table.expire(now);
            oracle.values().removeIf(last -> last + 1_000 <= t);
            long client = 1 + r.nextInt(20);
            if (r.nextInt(8) == 0) {
                table.open(client, now);
                oracle.put(client, now);
            } else {
                long seq = r.nextInt(10);
                SessionTable.Verdict v = table.check(client, seq, 0, now);
                assertEquals(oracle.containsKey(client), v != SessionTable.Verdict.SESSION_EXPIRED, "step " + i);
                if (oracle.containsKey(client)) {
                    oracle.put(client, now);
                }
                if (v == SessionTable.Verdict.APPLY) {
                    table.record(client, seq, new byte[] {(byte) i});
                }
            }
            for (long c = 1; c <= 20; c++) {
                assertEquals(oracle.containsKey(c), table.contains(c), "session " + c + " at step " + i);
            }
        }
    }

    @Test
    void theTableSurvivesASnapshotRoundTrip() throws Exception {
        SessionTable t = new SessionTable(60_000, 16);
        t.open(3, 100);
        t.check(3, 5, 0, 200);
        t.record(3, 5, new byte[] {1, 2, 3});
        byte[] image = encode(t);
        SessionTable back = new SessionTable(60_000, 16);
        back.readFrom(new DataInputStream(new ByteArrayInputStream(image)));
        assertArrayEquals(image, encode(back));
        assertEquals(SessionTable.Verdict.DUPLICATE, back.check(3, 5, 0, 300));
        back.expire(200 + 60_000);
        assertTrue(!back.contains(3) || back.size() == 1);
    }

    @Test
    void framingCarriesTheLeaderStampAndThePayload() {
        byte[] framed = EntryCodec.sessionCommand(9, 4, 2, new byte[] {7, 8});
        EntryCodec.stamp(framed, 123_456_789L);
        EntryCodec.validate(framed, 1);
        assertEquals(EntryCodec.SESSION_COMMAND, EntryCodec.kind(framed));
        assertEquals(123_456_789L, EntryCodec.timestamp(framed));
        assertEquals(9, EntryCodec.client(framed));
        assertEquals(4, EntryCodec.sequence(framed));
        assertEquals(2, EntryCodec.lowestUnacked(framed));
        assertArrayEquals(new byte[] {7, 8}, EntryCodec.payload(framed));
        assertArrayEquals(new byte[] {5}, EntryCodec.payload(EntryCodec.command(new byte[] {5})));
    }

    private static byte[] encode(SessionTable t) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            t.writeTo(out);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        return bytes.toByteArray();
    }
}
