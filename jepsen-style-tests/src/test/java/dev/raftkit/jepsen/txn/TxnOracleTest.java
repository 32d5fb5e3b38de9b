package dev.raftkit.jepsen.txn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.OpStatus;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Generated small histories against a brute-force serializability oracle that tries every order.
 *
 * <p><b>The class on which checker and oracle must agree exactly</b> ({@link #agreesWithTheOracle}):
 * list-append histories of at most 6 transactions over at most 3 keys, values unique per key,
 * every transaction completed ok, and the last transaction reads every key that has appends and
 * sees every value appended to it (so some read reveals each key's whole version order); the other
 * reads are prefixes of those lists (each either what a serial order gave, or another prefix
 * chosen at random, which may make the history unserializable). On that class, "the oracle finds
 * a serial order that reproduces every read" must equal "the checker reports no anomaly that
 * serializability forbids".
 *
 * <p>Outside it ({@link #neverFlagsASerializableHistory}): failed and indeterminate transactions,
 * reads that reveal only part of the order, registers, and real time consistent with the serial
 * order; the checker must report nothing at all, under strict serializability.
 */
class TxnOracleTest {

    private static final String[] KEYS = {"x", "y", "z"};

    /** A generated transaction: its mops, with reads as the serial execution would fill them in. */
    private static List<List<Mop>> randomTxns(Random rnd, int count, boolean registers) {
        List<List<Mop>> out = new ArrayList<>();
        long next = 1;
        for (int i = 0; i < count; i++) {
            List<Mop> mops = new ArrayList<>();
            int size = 1 + rnd.nextInt(3);
            for (int j = 0; j < size; j++) {
                String k = KEYS[rnd.nextInt(KEYS.length)];
                boolean reg = registers && rnd.nextBoolean();
                String key = reg ? "r" + k : k;
                if (rnd.nextBoolean()) {
                    mops.add(reg ? Mop.write(key, next++) : Mop.append(key, next++));
                } else {
                    mops.add(reg ? new Mop.ReadRegister(key, null) : new Mop.Read(key, null));
                }
            }
            out.add(mops);
        }
        return out;
    }

    /** Runs {@code txn} on {@code state}, returning its mops with reads filled in. */
    private static List<Mop> run(List<Mop> txn, Map<String, List<Long>> lists, Map<String, Long> regs) {
        List<Mop> done = new ArrayList<>();
        for (Mop m : txn) {
            if (m instanceof Mop.Append a) {
                lists.computeIfAbsent(a.key(), k -> new ArrayList<>()).add(a.value());
                done.add(a);
            } else if (m instanceof Mop.Read r) {
                done.add(new Mop.Read(r.key(), List.copyOf(lists.getOrDefault(r.key(), List.of()))));
            } else if (m instanceof Mop.Write w) {
                regs.put(w.key(), w.value());
                done.add(w);
            } else {
                done.add(new Mop.ReadRegister(m.key(), regs.get(m.key())));
            }
        }
        return done;
    }

    /** True if some order of {@code txns} reproduces every read they record. */
    private static boolean oracle(List<List<Mop>> txns) {
        int[] perm = new int[txns.size()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        return permute(perm, 0, txns);
    }

    private static boolean permute(int[] p, int at, List<List<Mop>> txns) {
        if (at == p.length) {
            Map<String, List<Long>> lists = new HashMap<>();
            Map<String, Long> regs = new HashMap<>();
            for (int i : p) {
                List<Mop> txn = txns.get(i);
                if (!run(txn, lists, regs).equals(txn)) {
                    return false;
                }
            }
            return true;
        }
        for (int i = at; i < p.length; i++) {
            swap(p, at, i);
            boolean ok = permute(p, at + 1, txns);
            swap(p, at, i);
            if (ok) {
                return true;
            }
        }
        return false;
    }

    private static void swap(int[] p, int i, int j) {
        int t = p[i];
        p[i] = p[j];
        p[j] = t;
    }

    @Test
    void agreesWithTheOracle() {
        Random rnd = new Random(17);
        int serializable = 0;
        int not = 0;
        for (int round = 0; round < 2000; round++) {
            List<List<Mop>> txns = randomTxns(rnd, 2 + rnd.nextInt(4), false);
            // Execute in a random serial order, then append the fully informative final read.
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < txns.size(); i++) {
                order.add(i);
            }
            Collections.shuffle(order, rnd);
            Map<String, List<Long>> lists = new HashMap<>();
            Map<String, Long> regs = new HashMap<>();
            List<List<Mop>> done = new ArrayList<>(txns);
            for (int i : order) {
                done.set(i, run(txns.get(i), lists, regs));
            }
            List<Mop> last = new ArrayList<>();
            for (String k : KEYS) {
                if (lists.containsKey(k)) {
                    last.add(new Mop.Read(k, List.copyOf(lists.get(k))));
                }
            }
            if (last.isEmpty()) {
                continue;
            }
            // Corrupt one or two reads (in two rounds of three): another prefix of the key's final list.
            List<int[]> reads = new ArrayList<>();
            for (int t = 0; t < done.size(); t++) {
                for (int m = 0; m < done.get(t).size(); m++) {
                    if (done.get(t).get(m) instanceof Mop.Read r && lists.containsKey(r.key())) {
                        reads.add(new int[] {t, m});
                    }
                }
            }
            int corrupt = reads.isEmpty() || rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(2);
            for (int c = 0; c < corrupt; c++) {
                int[] at = reads.get(rnd.nextInt(reads.size()));
                List<Mop> mops = new ArrayList<>(done.get(at[0]));
                String key = mops.get(at[1]).key();
                List<Long> full = lists.get(key);
                mops.set(at[1], new Mop.Read(key, full.subList(0, rnd.nextInt(full.size() + 1))));
                done.set(at[0], mops);
            }
            done.add(last);
            TxnHistory.Builder b = TxnHistory.builder();
            for (int i = 0; i < done.size(); i++) {
                b.add(i, OpStatus.OK, 0, 100, done.get(i));
            }
            TxnHistory h = b.build();
            boolean expected = oracle(done);
            TxnResult r = TxnChecker.check(h, Consistency.SERIALIZABLE);
            assertEquals(expected, r.valid(), () -> "oracle says " + (expected ? "serializable" : "not serializable")
                    + " for " + h.txns() + "\n" + r.text());
            if (expected) {
                serializable++;
            } else {
                not++;
            }
        }
        System.out.println("oracle agreement: " + serializable + " serializable, " + not + " not");
        assertTrue(serializable > 200 && not > 200, "both kinds generated: " + serializable + " / " + not);
    }

    @Test
    void neverFlagsASerializableHistory() {
        Random rnd = new Random(71);
        for (int round = 0; round < 2000; round++) {
            int count = 2 + rnd.nextInt(5);
            List<List<Mop>> txns = randomTxns(rnd, count, true);
            Map<String, List<Long>> lists = new HashMap<>();
            Map<String, Long> regs = new HashMap<>();
            TxnHistory.Builder b = TxnHistory.builder();
            // The serial order is the index order; each transaction takes effect at instant 100 * i,
            // inside its interval, so real time agrees with the order too.
            for (int i = 0; i < count; i++) {
                int kind = rnd.nextInt(6);
                OpStatus status = kind == 0 ? OpStatus.FAIL : kind == 1 ? OpStatus.INFO : OpStatus.OK;
                boolean tookEffect = status == OpStatus.OK || (status == OpStatus.INFO && rnd.nextBoolean());
                List<Mop> mops = tookEffect ? run(txns.get(i), lists, regs) : txns.get(i);
                if (status != OpStatus.OK) {
                    mops = mops.stream().map(Mop::unread).toList();
                }
                long at = 100L * i;
                long invoke = at - rnd.nextInt(150);
                long complete = status == OpStatus.INFO ? invoke + rnd.nextInt(400) : at + rnd.nextInt(150);
                b.add(i, status, invoke, Math.max(invoke, complete), mops);
            }
            TxnHistory h = b.build();
            TxnResult r = TxnChecker.check(h);
            assertTrue(r.types().isEmpty(), () -> h.txns() + "\n" + r.text());
        }
    }
}
