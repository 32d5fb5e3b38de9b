package dev.raftkit.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.spi.StateMachine;
import dev.raftkit.testkit.fuzz.Fuzz;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of every KV decoder that reads outside input: commands (what a client submits
 * and every replica applies), results (what a client reads back), the apply and query paths of
 * the state machine (an exception from {@code apply} stops the node, so garbage must be answered
 * with a rejection on every replica), and snapshot images (installed from a leader or a backup).
 * See {@link Fuzz} for the knobs ({@code -Dfuzz.iterations}, {@code -Dfuzz.seconds},
 * {@code -Dfuzz.replay}).
 */
class KvDecoderFuzzTest {

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static List<byte[]> commands() {
        return List.of(
                KvOps.put("k", "v"), KvOps.put(b("key-1"), new byte[300]), KvOps.delete("k"),
                KvOps.casVersion("k", 7, "new"), KvOps.casValue("k", "old", "new"),
                KvOps.casVersion("k", 0, "x"), KvOps.get("k"), KvOps.scan("p", 10),
                KvOps.scan(b("p"), b("p1"), 1000), KvOps.digest(), KvOps.put(new byte[] {(byte) 0xFF}, new byte[0]));
    }

    /** Random commands with hostile field values, encoded as a client would. */
    static byte[] randomCommand(Random rnd) {
        byte[] key = new byte[1 + rnd.nextInt(rnd.nextInt(16) == 0 ? KvCommand.MAX_KEY_BYTES : 8)];
        rnd.nextBytes(key);
        byte[] value = new byte[rnd.nextInt(rnd.nextInt(16) == 0 ? 70_000 : 16)];
        rnd.nextBytes(value);
        long version = rnd.nextBoolean() ? rnd.nextInt(10) : rnd.nextLong() & Long.MAX_VALUE;
        return switch (rnd.nextInt(7)) {
            case 0 -> KvOps.put(key, value);
            case 1 -> KvOps.delete(key);
            case 2 -> KvOps.casVersion(key, version, value);
            case 3 -> KvOps.casValue(key, value, value);
            case 4 -> KvOps.get(key);
            case 5 -> KvOps.scan(key, rnd.nextBoolean() ? new byte[0] : key, 1 + rnd.nextInt(KvCommand.MAX_SCAN_LIMIT));
            default -> KvOps.digest();
        };
    }

    @Test
    void commandDecoderReturnsACommandOrRefusesWithKvCodecException() {
        Fuzz.target("kv-command", KvCommand::decode)
                .corpus(commands())
                .generator(KvDecoderFuzzTest::randomCommand)
                .refusesWith(KvCodecException.class)
                .accepted((input, command) -> assertEquals(command, KvCommand.decode(command.encode()),
                        "a decoded command encodes back to itself"))
                .iterations(40_000)
                .run();
    }

    @Test
    void resultDecoderReturnsAResultOrRefusesWithKvCodecException() {
        KvEntry e = new KvEntry(b("k"), b("v"), 3);
        List<byte[]> corpus = List.of(new KvResult.Written(9).encode(), new KvResult.Deleted(true).encode(),
                new KvResult.Found(e).encode(), new KvResult.NotFound().encode(),
                new KvResult.CasFailed(Optional.of(e)).encode(), new KvResult.CasFailed(Optional.empty()).encode(),
                new KvResult.Scanned(List.of(e, new KvEntry(b("l"), new byte[0], 4)), true).encode(),
                new KvResult.Digest(5, 2, new byte[32]).encode(), new KvResult.Rejected("no such thing").encode());
        Fuzz.target("kv-result", KvResult::decode)
                .corpus(corpus)
                .refusesWith(KvCodecException.class)
                .accepted((input, result) -> assertEquals(result, KvResult.decode(result.encode())))
                .iterations(40_000)
                .run();
    }

    @Test
    void applyAnswersEveryCommandOnEveryReplicaAndNeverThrows() {
        Fuzz.target("kv-apply", bytes -> {
            KvStateMachine machine = new KvStateMachine();
            List<StateMachine.Command> batch = List.of(
                    new StateMachine.Command(1, 1, 1000, KvOps.put("k", "v")),
                    new StateMachine.Command(2, 1, 1001, bytes));
            List<byte[]> results = machine.apply(batch);
            assertEquals(2, results.size(), "one result per command");
            KvResult result = KvResult.decode(results.get(1));
            // The same command on another replica gives the same answer and the same state.
            KvStateMachine twin = new KvStateMachine();
            List<byte[]> again = twin.apply(batch);
            assertEquals(result, KvResult.decode(again.get(1)), "replicas answer alike");
            assertEquals(machine.digest(), twin.digest(), "replicas agree");
            return result;
        }).corpus(commands()).generator(KvDecoderFuzzTest::randomCommand).iterations(15_000).run();
    }

    @Test
    void queryAnswersEveryInputAndNeverThrows() {
        KvStateMachine machine = new KvStateMachine();
        List<StateMachine.Command> fill = new ArrayList<>();
        for (int i = 1; i <= 50; i++) {
            fill.add(new StateMachine.Command(i, 1, 1000 + i, KvOps.put("k" + i, "v" + i)));
        }
        machine.apply(fill);
        Fuzz.target("kv-query", bytes -> KvResult.decode(machine.query(bytes)))
                .corpus(commands()).generator(KvDecoderFuzzTest::randomCommand).iterations(15_000).run();
    }

    @Test
    void snapshotImageReaderReturnsAnImageOrRefusesWithCorruptSnapshotException() throws IOException {
        List<byte[]> corpus = new ArrayList<>();
        for (int n : new int[] {0, 1, 3, 20}) {
            PersistentSortedMap<KvStateMachine.Stored> map = PersistentSortedMap.empty();
            for (int i = 0; i < n; i++) {
                map = map.put(b("key-" + (char) ('a' + i)), new KvStateMachine.Stored(b("value " + i), 1 + i));
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            SnapshotFormat.write(40, map, out);
            corpus.add(out.toByteArray());
        }
        Fuzz.target("kv-snapshot-image", bytes -> SnapshotFormat.read(40, new ByteArrayInputStream(bytes)))
                .corpus(corpus)
                .refusesWith(CorruptSnapshotException.class)
                .accepted((input, image) -> assertEquals(40, image.lastApplied()))
                .allocationLimit(16L << 20)
                .iterations(15_000)
                .run();
    }
}
