package dev.raftkit.jepsen.txn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.OpStatus;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Teeth and precision together: histories of a simulated snapshot-isolation store (each
 * transaction reads the snapshot of its start, and commits unless a key it appends to was written
 * since: first committer wins). Snapshot isolation forbids G0, G1 and G-single (Adya's G-SI) but
 * allows write skew, G2-item. So over many runs the checker must find G2-item, and never name an
 * anomaly snapshot isolation cannot produce: a G-single here would be a misclassified cycle or an
 * edge the history does not imply.
 */
class SnapshotIsolationTest {

    private static final Set<AnomalyType> IMPOSSIBLE_UNDER_SI = EnumSet.of(AnomalyType.G0, AnomalyType.G1A,
            AnomalyType.G1B, AnomalyType.G1C, AnomalyType.G_SINGLE, AnomalyType.INTERNAL,
            AnomalyType.INCOMPATIBLE_ORDER, AnomalyType.DUPLICATE_ELEMENTS, AnomalyType.GARBAGE_READ);

    private static final String[] KEYS = {"x", "y", "z"};

    private static final class Running {
        final int index;
        final List<Mop> mops = new ArrayList<>();
        final long startTs;
        final long invoke;

        Running(int index, long startTs, long invoke) {
            this.index = index;
            this.startTs = startTs;
            this.invoke = invoke;
        }
    }

    @Test
    void snapshotIsolationHistoriesShowWriteSkewButNeverWhatSnapshotIsolationForbids() {
        int writeSkews = 0;
        for (int seed = 0; seed < 600; seed++) {
            Random rnd = new Random(seed);
            Map<String, List<Long>> committed = new HashMap<>();
            Map<String, Long> lastWrite = new HashMap<>();
            long clock = 0;
            long nextValue = 1;
            int total = 3 + rnd.nextInt(6);
            int started = 0;
            List<Running> active = new ArrayList<>();
            List<Txn> txns = new ArrayList<>();
            Txn[] byIndex = new Txn[total + 1];
            long time = 0;
            while (started < total || !active.isEmpty()) {
                time++;
                if (started < total && (active.isEmpty() || rnd.nextBoolean())) {
                    Running t = new Running(started++, clock, time);
                    Map<String, List<Long>> view = new HashMap<>();
                    committed.forEach((k, v) -> view.put(k, new ArrayList<>(v)));
                    for (int j = 0, n = 1 + rnd.nextInt(3); j < n; j++) {
                        String key = KEYS[rnd.nextInt(KEYS.length)];
                        if (rnd.nextBoolean()) {
                            long v = nextValue++;
                            view.computeIfAbsent(key, k -> new ArrayList<>()).add(v);
                            t.mops.add(Mop.append(key, v));
                        } else {
                            t.mops.add(new Mop.Read(key, List.copyOf(view.getOrDefault(key, List.of()))));
                        }
                    }
                    active.add(t);
                } else {
                    Running t = active.remove(rnd.nextInt(active.size()));
                    boolean conflict = t.mops.stream().anyMatch(m -> m instanceof Mop.Append
                            && lastWrite.getOrDefault(m.key(), -1L) > t.startTs);
                    if (conflict) {
                        byIndex[t.index] = new Txn(t.index, t.index, OpStatus.FAIL, t.invoke, time,
                                t.mops.stream().map(Mop::unread).toList());
                    } else {
                        clock++;
                        for (Mop m : t.mops) {
                            if (m instanceof Mop.Append a) {
                                committed.computeIfAbsent(a.key(), k -> new ArrayList<>()).add(a.value());
                                lastWrite.put(a.key(), clock);
                            }
                        }
                        byIndex[t.index] = new Txn(t.index, t.index, OpStatus.OK, t.invoke, time, t.mops);
                    }
                }
            }
            // A last reader after everything reveals every key's version order.
            List<Mop> last = new ArrayList<>();
            for (String k : KEYS) {
                last.add(new Mop.Read(k, List.copyOf(committed.getOrDefault(k, List.of()))));
            }
            byIndex[total] = new Txn(total, total, OpStatus.OK, time + 1, time + 2, last);
            for (Txn t : byIndex) {
                txns.add(t);
            }
            TxnResult r = TxnChecker.check(new TxnHistory(txns), Consistency.SERIALIZABLE);
            int s = seed;
            for (AnomalyType t : r.types()) {
                assertTrue(!IMPOSSIBLE_UNDER_SI.contains(t), () -> "seed " + s + ", " + txns + ": " + r.text());
            }
            if (r.types().contains(AnomalyType.G2_ITEM)) {
                writeSkews++;
            }
        }
        System.out.println("snapshot isolation: write skew (G2-item) found in " + writeSkews + " of 600 runs");
        assertTrue(writeSkews >= 10, "write skew found in " + writeSkews + " runs");
    }
}
