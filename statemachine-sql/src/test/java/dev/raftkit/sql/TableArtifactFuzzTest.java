package dev.raftkit.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StateMachine.Command;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Damaged table artifacts whose checksum was recomputed after the damage (so the parser, not the
 * checksum, meets them): decoding answers an artifact or a {@link TableArtifactException}, never
 * another exception, and a replica applying one answers a result (never throws), leaving the
 * database unchanged when it refuses.
 */
class TableArtifactFuzzTest {

    private static byte[] rehash(byte[] bytes) {
        int body = bytes.length - TableArtifact.CHECKSUM_BYTES;
        byte[] sum = TableArtifact.newSha256().digest(Arrays.copyOf(bytes, body));
        System.arraycopy(sum, 0, bytes, body, sum.length);
        return bytes;
    }

    private static byte[] mutate(byte[] good, Random rnd) {
        byte[] b = good.clone();
        switch (rnd.nextInt(4)) {
            case 0 -> {
                for (int i = 1 + rnd.nextInt(4); i > 0; i--) {
                    b[12 + rnd.nextInt(b.length - 12 - TableArtifact.CHECKSUM_BYTES)] = (byte) rnd.nextInt(256);
                }
            }
            case 1 -> { // a length or count field set to something large or negative
                int at = 12 + rnd.nextInt(b.length - 16 - TableArtifact.CHECKSUM_BYTES);
                int v = rnd.nextBoolean() ? Integer.MAX_VALUE - rnd.nextInt(10) : -1 - rnd.nextInt(10);
                b[at] = (byte) (v >>> 24);
                b[at + 1] = (byte) (v >>> 16);
                b[at + 2] = (byte) (v >>> 8);
                b[at + 3] = (byte) v;
            }
            case 2 -> { // cut somewhere, then a checksum for what is left
                int keep = 12 + rnd.nextInt(b.length - 12 - TableArtifact.CHECKSUM_BYTES);
                b = Arrays.copyOf(Arrays.copyOf(b, keep), keep + TableArtifact.CHECKSUM_BYTES);
            }
            default -> { // bytes inserted in the middle
                int at = 12 + rnd.nextInt(b.length - 12 - TableArtifact.CHECKSUM_BYTES);
                byte[] extra = new byte[1 + rnd.nextInt(9)];
                rnd.nextBytes(extra);
                byte[] n = new byte[b.length + extra.length];
                System.arraycopy(b, 0, n, 0, at);
                System.arraycopy(extra, 0, n, at, extra.length);
                System.arraycopy(b, at, n, at + extra.length, b.length - at);
                b = n;
            }
        }
        return rehash(b);
    }

    @Test
    void mutatedArtifactsDecodeOrAreRefusedAndReplicasNeverThrow() throws Exception {
        List<Object> kinds = Arrays.asList(null, 7L, -2.5, "text", new byte[] {1, 2, 3});
        List<List<Object>> rows = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            rows.add(Arrays.asList((long) i, kinds.get(i % kinds.size()), "r" + i));
        }
        byte[] good = TableArtifact.encode("c", "b", "t", 9, 1_700_000_000_000L,
                "CREATE TABLE t (id INTEGER PRIMARY KEY, v, w TEXT)", List.of("CREATE INDEX t_w ON t (w)"),
                List.of("id", "v", "w"), rows, rows.size());
        assertEquals(rows.size(), TableArtifact.decode(good, "good", null).rows().size());

        try (SqlStateMachine sm = new SqlStateMachine()) {
            sm.apply(List.of(new Command(1, 1, 0, SqlOps.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v, w TEXT);"
                    + " INSERT INTO t VALUES (100, 'kept', 'x')"))));
            String before = Replicas.digest(sm);
            Random rnd = new Random(20261207);
            int decoded = 0;
            long index = 2;
            for (int round = 0; round < 1_500; round++) {
                byte[] bad = mutate(good, rnd);
                try {
                    TableArtifact.decode(bad, "fuzz", null);
                    decoded++;
                } catch (TableArtifactException e) {
                    assertTrue(e.getMessage().startsWith("fuzz "), e.getMessage());
                }
                if (round % 10 == 0) {
                    byte[] request = new SqlRequest.Execute(List.of(new SqlStatement("RESTORE TABLE t FROM 'b'",
                            List.of(bad)))).encode();
                    SqlResult r = SqlResult.decode(sm.apply(List.of(new Command(index++, 1, 0, request))).get(0));
                    if (r instanceof SqlResult.Error) {
                        assertEquals(before, Replicas.digest(sm), "a refused restore changes nothing");
                    } else {
                        // A mutation the format cannot tell from a real artifact: undo it for the next round.
                        assertInstanceOf(SqlResult.Ok.class, r);
                        sm.apply(List.of(new Command(index++, 1, 0, SqlOps.execute(
                                "DELETE FROM t; INSERT INTO t VALUES (100, 'kept', 'x')"))));
                        before = Replicas.digest(sm);
                    }
                }
            }
            assertTrue(decoded < 1_500, "most mutations are refused");
        }
    }
}
