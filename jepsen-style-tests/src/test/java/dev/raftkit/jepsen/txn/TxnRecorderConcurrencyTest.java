package dev.raftkit.jepsen.txn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.OpStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The recorder fed from real threads, against a store that is strict serializable by construction
 * (one lock around every transaction): the history it records must check valid, whatever the
 * interleaving. Some transactions are abandoned (recorded info) after they took effect, and some
 * refused before they start (recorded fail).
 */
class TxnRecorderConcurrencyTest {

    private final Map<String, List<Long>> store = new HashMap<>();

    private synchronized List<Mop> apply(List<Mop> txn) {
        List<Mop> done = new ArrayList<>();
        for (Mop m : txn) {
            if (m instanceof Mop.Append a) {
                store.computeIfAbsent(a.key(), k -> new ArrayList<>()).add(a.value());
                done.add(a);
            } else {
                done.add(new Mop.Read(m.key(), List.copyOf(store.getOrDefault(m.key(), List.of()))));
            }
        }
        return done;
    }

    @Test
    void historyOfAStrictSerializableStoreFromFourThreadsIsValid() throws Exception {
        TxnRecorder rec = new TxnRecorder();
        AtomicLong values = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                long process = p;
                done.add(pool.submit(() -> {
                    Random rnd = new Random(process);
                    for (int i = 0; i < 500; i++) {
                        List<Mop> txn = new ArrayList<>();
                        for (int j = 0, n = 1 + rnd.nextInt(3); j < n; j++) {
                            String key = "k" + rnd.nextInt(4);
                            txn.add(rnd.nextBoolean() ? Mop.append(key, values.incrementAndGet()) : Mop.read(key));
                        }
                        int handle = rec.invoke(process, txn);
                        int fate = rnd.nextInt(20);
                        if (fate == 0) {
                            rec.fail(handle);
                        } else if (fate == 1) {
                            apply(txn);
                            rec.info(handle);
                        } else {
                            rec.ok(handle, apply(txn));
                        }
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        TxnHistory h = rec.history();
        assertEquals(2000, h.size());
        assertTrue(h.txns().stream().anyMatch(t -> t.status() == OpStatus.INFO));
        TxnResult r = TxnChecker.check(h);
        assertTrue(r.valid() && r.types().isEmpty(), r::text);
    }
}
