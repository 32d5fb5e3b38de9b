package dev.raftkit.jepsen.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.checker.CheckResult;
import dev.raftkit.jepsen.checker.LinearizabilityChecker;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HistoryRecorderTest {

    @Test
    void outstandingOperationsBecomeIndeterminate() {
        AtomicLong clock = new AtomicLong();
        HistoryRecorder recorder = new HistoryRecorder(clock::incrementAndGet);
        long w = recorder.invoke(1, Command.write("x", "1"));
        long r = recorder.invoke(2, Command.read("x"));
        recorder.ok(r, Response.read(null));
        History h = recorder.history();
        assertEquals(OpStatus.INFO, h.operations().get((int) w).status());
        assertEquals(Operation.NEVER, h.operations().get((int) w).completeNanos());
        assertEquals(new Operation(r, 2, Command.read("x"), 2, OpStatus.OK, 3, Response.read(null)),
                h.operations().get((int) r));
        // A later completion still counts: the snapshot did not end the recording.
        recorder.ok(w, Response.written());
        assertEquals(OpStatus.OK, recorder.history().operations().get((int) w).status());
    }

    @Test
    void misuseIsRejectedWithAReason() {
        HistoryRecorder recorder = new HistoryRecorder();
        long id = recorder.invoke(1, Command.read("x"));
        IllegalArgumentException wrongKind = assertThrows(IllegalArgumentException.class,
                () -> recorder.ok(id, Response.cas(true)));
        assertTrue(wrongKind.getMessage().contains("does not fit the command"), wrongKind.getMessage());
        recorder.fail(id);
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> recorder.info(id));
        assertTrue(twice.getMessage().contains("not outstanding"), twice.getMessage());
    }

    /**
     * Many threads drive a register that really is linearizable (every operation is one atomic
     * ConcurrentHashMap call); the recorded history must therefore pass the checker. This tests
     * the recorder's timestamps: if an invoke were stamped after the effect, or a completion
     * before it, the checker would reject.
     */
    @Test
    void concurrentClientsOfAnAtomicMap_recordALinearizableHistory() throws Exception {
        ConcurrentHashMap<String, String> map = new ConcurrentHashMap<>();
        HistoryRecorder recorder = new HistoryRecorder();
        int threads = 6;
        int opsPerThread = 400;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int process = t;
                futures.add(pool.submit(() -> {
                    SplittableRandom random = new SplittableRandom(process);
                    for (int i = 0; i < opsPerThread; i++) {
                        String key = "k" + random.nextInt(3);
                        String value = process + "-" + i;
                        switch (random.nextInt(3)) {
                            case 0 -> {
                                long id = recorder.invoke(process, Command.write(key, value));
                                map.put(key, value);
                                recorder.ok(id, Response.written());
                            }
                            case 1 -> {
                                long id = recorder.invoke(process, Command.read(key));
                                recorder.ok(id, Response.read(map.get(key)));
                            }
                            default -> {
                                String expected = random.nextBoolean() ? null : map.get(key);
                                long id = recorder.invoke(process, Command.cas(key, expected, value));
                                boolean swapped = expected == null ? map.putIfAbsent(key, value) == null
                                        : map.replace(key, expected, value);
                                recorder.ok(id, Response.cas(swapped));
                            }
                        }
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        History h = recorder.history();
        assertEquals(threads * opsPerThread, h.size());
        assertTrue(h.operations().stream().allMatch(o -> o.status() == OpStatus.OK));
        CheckResult<Operation> result = LinearizabilityChecker.check(h);
        assertTrue(result.isValid(), result::toString);
        assertTrue(h.operations().stream().map(Operation::id).toList().equals(
                java.util.stream.LongStream.range(0, h.size()).boxed().toList()));
        assertTrue(h.operations().stream().allMatch(o -> Objects.nonNull(o.response())));
    }
}
