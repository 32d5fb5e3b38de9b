package dev.raftkit.jepsen.txn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.OpStatus;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Size and speed. The default build checks 10,000 transactions; {@code -Draftkit.txn.scale=100000}
 * checks 100,000 (the figure in docs/jepsen.md):
 * <pre>
 * mvn -o -pl jepsen-style-tests test -Dtest=TxnScaleTest -Draftkit.txn.scale=100000
 * </pre>
 */
class TxnScaleTest {

    private static final int SIZE = Integer.getInteger("raftkit.txn.scale", 10_000);

    /**
     * A strict serializable history: transaction i takes effect at instant 10·i, inside an interval
     * of up to ±30 around it (so about six run at once), on process i mod 10; 1 to 4 micro-ops each
     * over 8 live keys, each key retired after 16 appends (Elle's workloads bound list lengths the
     * same way, since every read returns the whole list); 5% of transactions indeterminate (half of
     * them took effect) and 5% failed.
     */
    static TxnHistory generate(int n, long seed) {
        Random rnd = new Random(seed);
        Map<String, List<Long>> lists = new HashMap<>();
        String[] live = new String[8];
        int nextKey = 0;
        for (int i = 0; i < live.length; i++) {
            live[i] = "k" + nextKey++;
        }
        long nextValue = 1;
        TxnHistory.Builder b = TxnHistory.builder();
        for (int i = 0; i < n; i++) {
            int kind = rnd.nextInt(20);
            OpStatus status = kind == 0 ? OpStatus.FAIL : kind == 1 ? OpStatus.INFO : OpStatus.OK;
            boolean effect = status == OpStatus.OK || (status == OpStatus.INFO && rnd.nextBoolean());
            List<Mop> mops = new ArrayList<>();
            int size = 1 + rnd.nextInt(4);
            for (int j = 0; j < size; j++) {
                int slot = rnd.nextInt(live.length);
                String key = live[slot];
                if (rnd.nextBoolean()) {
                    long v = nextValue++;
                    mops.add(Mop.append(key, v));
                    if (effect) {
                        List<Long> list = lists.computeIfAbsent(key, k -> new ArrayList<>());
                        list.add(v);
                        if (list.size() >= 16) {
                            live[slot] = "k" + nextKey++;
                        }
                    }
                } else {
                    mops.add(new Mop.Read(key, status == OpStatus.OK
                            ? List.copyOf(lists.getOrDefault(key, List.of())) : null));
                }
            }
            long at = 10L * i;
            long invoke = at - rnd.nextInt(30);
            long complete = status == OpStatus.INFO ? invoke + 1000 : at + rnd.nextInt(30);
            b.add(i % 10, status, invoke, complete, mops);
        }
        return b.build();
    }

    @Test
    void largeStrictSerializableHistoryIsAcceptedQuickly() {
        TxnHistory h = generate(SIZE, 2026);
        // CPU time beside the wall clock: on a shared machine the difference is the waiting.
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu = threads.getCurrentThreadCpuTime();
        TxnResult r = TxnChecker.check(h);
        cpu = threads.getCurrentThreadCpuTime() - cpu;
        System.out.printf("txn scale: %d transactions: %s; checker CPU time %d ms, load average %.1f%n", SIZE,
                r.summary(), cpu / 1_000_000, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        assertTrue(r.valid() && r.types().isEmpty(), r::text);
        // Seconds, not minutes: a generous bound for a shared, loaded machine.
        assertTrue(r.checkNanos() < 60_000_000_000L, r::summary);
    }

    @Test
    void oneStaleReadInALargeHistoryIsFound() {
        TxnHistory h = generate(SIZE, 2027);
        List<Txn> txns = new ArrayList<>(h.txns());
        Map<String, Txn> writers = new HashMap<>();
        for (Txn t : txns) {
            for (Mop m : t.mops()) {
                if (m instanceof Mop.Append a) {
                    writers.put(a.key() + "=" + a.value(), t);
                }
            }
        }
        // Half-way through, drop the last element of a read whose writer had completed before the
        // read began: the read is then stale in real time.
        for (int i = txns.size() / 2; ; i++) {
            Txn t = txns.get(i);
            int m = indexOfNonEmptyRead(t);
            if (t.status() != OpStatus.OK || m < 0) {
                continue;
            }
            Mop.Read read = (Mop.Read) t.mops().get(m);
            Txn w = writers.get(read.key() + "=" + read.values().get(read.values().size() - 1));
            if (w.status() == OpStatus.OK && w.completeNanos() < t.invokeNanos()) {
                List<Mop> mops = new ArrayList<>(t.mops());
                mops.set(m, new Mop.Read(read.key(), read.values().subList(0, read.values().size() - 1)));
                txns.set(i, new Txn(i, t.process(), t.status(), t.invokeNanos(), t.completeNanos(), mops));
                break;
            }
        }
        TxnResult r = TxnChecker.check(new TxnHistory(txns));
        System.out.println("txn scale, one stale read: " + r.summary());
        assertFalse(r.valid(), r::text);
    }

    @Test
    void aCycleAsLongAsTheHistory_iterativeTarjanAndBreadthFirstSearch() {
        // T0 appends 1 to x; then SIZE transactions one after another in real time, each reading a
        // key of its own; then one that reads x without 1. The only cycle runs through all of them:
        // T0 -realtime-> T1 -> ... -> T(SIZE+1) -rw-> T0. A recursive search would overflow here.
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 10, Mop.append("x", 1));
        for (int i = 1; i <= SIZE; i++) {
            b.ok(i, 20L * i, 20L * i + 10, Mop.read("k" + i));
        }
        // Processes of their own: no process edge may shorten the real-time chain.
        int stale = b.ok(SIZE + 1, 20L * (SIZE + 1), 20L * (SIZE + 1) + 10, Mop.read("x"));
        b.ok(SIZE + 2, 0, 20L * (SIZE + 2), Mop.read("x", 1));
        TxnResult r = TxnChecker.check(b.build());
        System.out.println("txn scale, one cycle of " + (SIZE + 2) + ": " + r.summary());
        assertEquals(List.of(AnomalyType.G_SINGLE_REALTIME), r.types(), r::summary);
        Anomaly a = r.anomalies().get(0);
        assertEquals(SIZE + 2, a.cycle().size());
        assertTrue(a.cycle().stream().anyMatch(s -> s.from() == stale && s.type() == EdgeType.RW));
        assertTrue(a.explanation().length() < 2_000, "a long cycle's sentence names its ends only");
        assertTrue(r.validUnder(Consistency.SERIALIZABLE));
        assertTrue(r.toHtml().contains("too long to draw"));
    }

    private static int indexOfNonEmptyRead(Txn t) {
        for (int m = 0; m < t.mops().size(); m++) {
            if (t.mops().get(m) instanceof Mop.Read r && r.values() != null && !r.values().isEmpty()
                    && t.mops().stream().noneMatch(o -> o instanceof Mop.Append a && a.key().equals(r.key()))) {
                return m;
            }
        }
        return -1;
    }
}
