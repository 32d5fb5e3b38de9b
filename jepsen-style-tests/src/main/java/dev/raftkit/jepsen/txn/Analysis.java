package dev.raftkit.jepsen.txn;

import dev.raftkit.jepsen.history.OpStatus;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;

/**
 * One check of one history (see {@link TxnChecker} for what it infers and why). Single-threaded;
 * a new instance per check.
 */
final class Analysis {

    /** Examples kept per anomaly type (all are counted). */
    static final int EXAMPLES = 8;
    /** Edges a cycle search of one class in one component may look at before settling for what it has. */
    private static final long SEARCH_BUDGET = 4_000_000;
    /** Closing edges tried once a cycle is found, looking for a shorter one. */
    private static final int EXTRA_TRIES = 64;
    /** Edges of a long cycle named in its explanation at each end. */
    private static final int SHOWN = 6;

    private static final int DATA = EdgeType.WW.bit() | EdgeType.WR.bit() | EdgeType.RW.bit();
    private static final int ORDER = EdgeType.PROCESS.bit() | EdgeType.REALTIME.bit();
    private static final int WW = EdgeType.WW.bit();
    private static final int WR = EdgeType.WR.bit();
    private static final int RW = EdgeType.RW.bit();

    private final List<Txn> txns;
    private final int n;
    /** OK transactions, and INFO ones a read shows took effect: the nodes that get edges. */
    private final boolean[] committed;

    private final Map<String, Integer> keyIds = new HashMap<>();
    private final List<String> keyNames = new ArrayList<>();
    private final List<Boolean> listKey = new ArrayList<>();
    /** Per key: value -> (writing transaction << 1 | 1 if it is that transaction's last write of the key). */
    private final List<Map<Long, Long>> writers = new ArrayList<>();

    private record ListRead(int txn, int key, List<Long> values, int external) {
    }

    private record RegRead(int txn, int key, Long value) {
    }

    /** A register version order fact: transaction {@code txn} read {@code before} and then wrote {@code after}. */
    private record Fact(long after, int txn) {
    }

    private final List<ListRead> listReads = new ArrayList<>();
    private final List<RegRead> regReads = new ArrayList<>();
    /** Per register key: a value read -> the facts saying what was written over it. */
    private final Map<Integer, Map<Long, List<Fact>>> facts = new HashMap<>();

    private final Map<AnomalyType, Integer> counts = new EnumMap<>(AnomalyType.class);
    private final List<Anomaly> anomalies = new ArrayList<>();
    private Graph graph;

    Analysis(TxnHistory history) {
        this.txns = history.txns();
        this.n = txns.size();
        this.committed = new boolean[n];
    }

    TxnResult run(Consistency model) {
        long t0 = System.nanoTime();
        indexWriters();
        for (Txn t : txns) {
            if (t.status() == OpStatus.OK) {
                committed[t.index()] = true;
                readsOf(t);
            }
        }
        graph = new Graph(n);
        List<List<Long>> versions = listEdges();
        registerEdges();
        lostAppends(versions);
        processEdges();
        realTimeEdges();
        graph.freeze();
        cycles();
        int committedCount = 0;
        for (boolean c : committed) {
            committedCount += c ? 1 : 0;
        }
        anomalies.sort(Comparator.comparing(Anomaly::type));
        return new TxnResult(model, n, committedCount, graph.edgeCount(), anomalies, counts,
                System.nanoTime() - t0);
    }

    // ---------------------------------------------------------------- keys, writers, reads

    private int key(String name, boolean list) {
        Integer id = keyIds.get(name);
        if (id == null) {
            id = keyNames.size();
            keyIds.put(name, id);
            keyNames.add(name);
            listKey.add(list);
            writers.add(new HashMap<>());
        }
        return id;
    }

    private void indexWriters() {
        for (Txn t : txns) {
            Map<Integer, Long> last = new HashMap<>();
            for (Mop m : t.mops()) {
                long v;
                if (m instanceof Mop.Append a) {
                    v = a.value();
                } else if (m instanceof Mop.Write w) {
                    v = w.value();
                } else {
                    key(m.key(), m instanceof Mop.Read);
                    continue;
                }
                int k = key(m.key(), m instanceof Mop.Append);
                writers.get(k).put(v, (long) t.index() << 1);
                last.put(k, v);
            }
            for (Map.Entry<Integer, Long> e : last.entrySet()) {
                writers.get(e.getKey()).put(e.getValue(), (long) t.index() << 1 | 1);
            }
        }
    }

    /** The transaction that wrote {@code v} to key {@code k}, or -1. */
    private int writer(int k, long v) {
        Long w = writers.get(k).get(v);
        return w == null ? -1 : (int) (w >> 1);
    }

    private boolean lastWrite(int k, long v) {
        Long w = writers.get(k).get(v);
        return w != null && (w & 1) == 1;
    }

    /** Register state of one key inside one transaction. */
    private static final class RegState {
        boolean known;
        Long value;
        boolean externalRead;
        Long externalValue;
        boolean wrote;
        long lastWrite;
    }

    /** Checks the reads of one ok transaction and records them for the graph. */
    private void readsOf(Txn t) {
        int ti = t.index();
        Map<Integer, List<Long>> expected = new HashMap<>();
        Map<Integer, List<Long>> own = new HashMap<>();
        Map<Integer, RegState> regs = new HashMap<>();
        for (Mop m : t.mops()) {
            if (m instanceof Mop.Append a) {
                int k = keyIds.get(a.key());
                own.computeIfAbsent(k, x -> new ArrayList<>()).add(a.value());
                List<Long> e = expected.get(k);
                if (e != null) {
                    e.add(a.value());
                }
            } else if (m instanceof Mop.Read r) {
                int k = keyIds.get(r.key());
                List<Long> values = r.values();
                List<Long> e = expected.get(k);
                List<Long> mine = own.getOrDefault(k, List.of());
                if (e != null && !e.equals(values)) {
                    report(AnomalyType.INTERNAL, List.of(ti), t.name() + " read " + r.key() + " = " + values
                            + ", but its own earlier reads and appends left " + r.key() + " = " + e);
                } else if (e == null && !endsWith(values, mine)) {
                    report(AnomalyType.INTERNAL, List.of(ti), t.name() + " appended " + mine + " to " + r.key()
                            + " and then read " + r.key() + " = " + values + ", which does not end with them");
                } else {
                    for (long v : values) {
                        if (writer(k, v) == ti && !mine.contains(v)) {
                            report(AnomalyType.INTERNAL, List.of(ti), t.name() + " read " + r.key() + " = " + values
                                    + ", including " + v + ", which it appends only afterwards");
                            break;
                        }
                    }
                }
                expected.put(k, new ArrayList<>(values));
                int external = values.size();
                while (external > 0 && writer(k, values.get(external - 1)) == ti) {
                    external--;
                }
                listReads.add(new ListRead(ti, k, values, external));
                checkListRead(t, r.key(), k, values, external);
            } else if (m instanceof Mop.Write w) {
                RegState s = regs.computeIfAbsent(keyIds.get(w.key()), x -> new RegState());
                s.known = true;
                s.value = w.value();
                s.wrote = true;
                s.lastWrite = w.value();
            } else if (m instanceof Mop.ReadRegister r) {
                int k = keyIds.get(r.key());
                RegState s = regs.computeIfAbsent(k, x -> new RegState());
                if (s.known) {
                    if (!Objects.equals(s.value, r.value())) {
                        report(AnomalyType.INTERNAL, List.of(ti), t.name() + " read " + r.key() + " = "
                                + show(r.value()) + ", but its own earlier operations left " + r.key() + " = "
                                + show(s.value));
                    }
                    continue;
                }
                s.known = true;
                s.value = r.value();
                s.externalRead = true;
                s.externalValue = r.value();
                regReads.add(new RegRead(ti, k, r.value()));
                checkRegisterRead(t, r.key(), k, r.value());
            }
        }
        for (Map.Entry<Integer, RegState> e : regs.entrySet()) {
            RegState s = e.getValue();
            if (s.externalRead && s.wrote && s.externalValue != null) {
                facts.computeIfAbsent(e.getKey(), x -> new HashMap<>())
                        .computeIfAbsent(s.externalValue, x -> new ArrayList<>()).add(new Fact(s.lastWrite, ti));
            }
        }
    }

    private static boolean endsWith(List<Long> list, List<Long> tail) {
        return list.size() >= tail.size() && list.subList(list.size() - tail.size(), list.size()).equals(tail);
    }

    private static String show(Long v) {
        return v == null ? "nil" : v.toString();
    }

    private void checkListRead(Txn t, String name, int k, List<Long> values, int external) {
        Set<Long> distinct = new HashSet<>();
        boolean dup = false;
        boolean garbage = false;
        boolean aborted = false;
        for (long v : values) {
            if (!distinct.add(v) && !dup) {
                dup = true;
                report(AnomalyType.DUPLICATE_ELEMENTS, List.of(t.index()), t.name() + " read " + name + " = "
                        + values + ", in which " + v + " appears more than once, though it was appended once");
            }
            int w = writer(k, v);
            if (w < 0) {
                if (!garbage) {
                    garbage = true;
                    report(AnomalyType.GARBAGE_READ, List.of(t.index()), t.name() + " read " + name + " = " + values
                            + ", but no transaction appended " + v + " to " + name);
                }
            } else if (txns.get(w).status() == OpStatus.FAIL) {
                if (!aborted) {
                    aborted = true;
                    report(AnomalyType.G1A, List.of(t.index(), w), t.name() + " read " + name + " = " + values
                            + ", including " + v + ", which T" + w + " appended; but T" + w + " failed (aborted)");
                }
            } else if (txns.get(w).status() == OpStatus.INFO) {
                committed[w] = true;
            }
        }
        if (external > 0) {
            long v = values.get(external - 1);
            int w = writer(k, v);
            if (w >= 0 && w != t.index() && txns.get(w).status() != OpStatus.FAIL && !lastWrite(k, v)) {
                report(AnomalyType.G1B, List.of(t.index(), w), t.name() + " read " + name + " = " + values
                        + ", ending at " + v + ", an intermediate state of T" + w + ", which appended more to "
                        + name + " after " + v);
            }
        }
    }

    private void checkRegisterRead(Txn t, String name, int k, Long v) {
        if (v == null) {
            return;
        }
        int w = writer(k, v);
        if (w < 0) {
            report(AnomalyType.GARBAGE_READ, List.of(t.index()), t.name() + " read " + name + " = " + v
                    + ", but no transaction wrote " + v + " to " + name);
        } else if (w == t.index()) {
            report(AnomalyType.INTERNAL, List.of(t.index()), t.name() + " read " + name + " = " + v
                    + " before it wrote " + v + " itself");
        } else if (txns.get(w).status() == OpStatus.FAIL) {
            report(AnomalyType.G1A, List.of(t.index(), w), t.name() + " read " + name + " = " + v
                    + ", which T" + w + " wrote; but T" + w + " failed (aborted)");
        } else {
            if (txns.get(w).status() == OpStatus.INFO) {
                committed[w] = true;
            }
            if (!lastWrite(k, v)) {
                report(AnomalyType.G1B, List.of(t.index(), w), t.name() + " read " + name + " = " + v
                        + ", an intermediate state of T" + w + ", which wrote " + name + " again afterwards");
            }
        }
    }

    // ---------------------------------------------------------------- edges

    /**
     * List-append edges. A key's version order is its longest read (every read reveals a prefix of
     * it); reads that are not a prefix of it are incompatible-order anomalies and give no rw edges.
     * Returns each key's version order (null for register keys).
     */
    private List<List<Long>> listEdges() {
        List<List<ListRead>> byKey = new ArrayList<>();
        for (int k = 0; k < keyNames.size(); k++) {
            byKey.add(new ArrayList<>());
        }
        for (ListRead r : listReads) {
            byKey.get(r.key).add(r);
        }
        List<List<Long>> versions = new ArrayList<>();
        for (int k = 0; k < keyNames.size(); k++) {
            List<ListRead> reads = byKey.get(k);
            if (!listKey.get(k) || reads.isEmpty()) {
                versions.add(listKey.get(k) ? List.of() : null);
                continue;
            }
            ListRead longest = reads.get(0);
            for (ListRead r : reads) {
                if (r.values.size() > longest.values.size()) {
                    longest = r;
                }
            }
            List<Long> version = longest.values;
            versions.add(version);
            String name = keyNames.get(k);
            // ww: consecutive committed writers in the version order.
            int prevW = -1;
            long prevV = 0;
            Set<Long> placed = new HashSet<>();
            for (long v : version) {
                int w = writer(k, v);
                if (!placed.add(v) || w < 0 || !committed[w]) {
                    continue;
                }
                if (prevW >= 0 && prevW != w) {
                    graph.add(prevW, w, EdgeType.WW, k, prevV, v);
                }
                prevW = w;
                prevV = v;
            }
            for (ListRead r : reads) {
                boolean compatible = r.values.size() <= version.size()
                        && version.subList(0, r.values.size()).equals(r.values);
                if (!compatible) {
                    report(AnomalyType.INCOMPATIBLE_ORDER, List.of(r.txn, longest.txn), "T" + r.txn + " read "
                            + name + " = " + r.values + " but T" + longest.txn + " read " + name + " = " + version
                            + ": neither is a prefix of the other, so no one order of appends explains both");
                }
                if (r.external > 0) {
                    long v = r.values.get(r.external - 1);
                    int w = writer(k, v);
                    if (w >= 0 && committed[w] && w != r.txn) {
                        graph.add(w, r.txn, EdgeType.WR, k, v, 0);
                    }
                }
                if (compatible) {
                    for (int p = r.values.size(); p < version.size(); p++) {
                        int w = writer(k, version.get(p));
                        if (w >= 0 && committed[w] && w != r.txn) {
                            graph.add(r.txn, w, EdgeType.RW, k, 0, version.get(p));
                            break;
                        }
                    }
                }
            }
        }
        return versions;
    }

    /**
     * Register edges. Without list prefixes, the version order is known only where a transaction read
     * a version and then wrote over it, and the initial state comes before every write.
     */
    private void registerEdges() {
        for (RegRead r : regReads) {
            if (r.value != null) {
                int w = writer(r.key, r.value);
                if (w >= 0 && committed[w] && w != r.txn) {
                    graph.add(w, r.txn, EdgeType.WR, r.key, r.value, 0);
                }
                for (Fact f : facts.getOrDefault(r.key, Map.of()).getOrDefault(r.value, List.of())) {
                    if (f.txn != r.txn) {
                        graph.add(r.txn, f.txn, EdgeType.RW, r.key, r.value, f.after);
                    }
                }
            } else {
                // The initial state precedes every version: the reader comes before every writer.
                for (Map.Entry<Long, Long> e : writers.get(r.key).entrySet()) {
                    int w = (int) (e.getValue() >> 1);
                    if ((e.getValue() & 1) == 1 && committed[w] && w != r.txn) {
                        graph.add(r.txn, w, EdgeType.RW, r.key, 0, e.getKey());
                    }
                }
            }
        }
        for (Map.Entry<Integer, Map<Long, List<Fact>>> byKey : facts.entrySet()) {
            int k = byKey.getKey();
            for (Map.Entry<Long, List<Fact>> e : byKey.getValue().entrySet()) {
                int w = writer(k, e.getKey());
                if (w < 0 || !committed[w]) {
                    continue;
                }
                for (Fact f : e.getValue()) {
                    if (f.txn != w) {
                        graph.add(w, f.txn, EdgeType.WW, k, e.getKey(), f.after);
                    }
                }
            }
        }
    }

    /** Acknowledged appends that no read shows, though a read of the key began after they completed. */
    private void lostAppends(List<List<Long>> versions) {
        List<Set<Long>> seen = new ArrayList<>();
        int[] latest = new int[keyNames.size()];
        Arrays.fill(latest, -1);
        for (int k = 0; k < keyNames.size(); k++) {
            seen.add(new HashSet<>());
        }
        for (ListRead r : listReads) {
            seen.get(r.key).addAll(r.values);
            if (latest[r.key] < 0 || txns.get(r.txn).invokeNanos() > txns.get(latest[r.key]).invokeNanos()) {
                latest[r.key] = r.txn;
            }
        }
        for (Txn t : txns) {
            if (t.status() != OpStatus.OK) {
                continue;
            }
            for (Mop m : t.mops()) {
                if (m instanceof Mop.Append a) {
                    int k = keyIds.get(a.key());
                    int r = latest[k];
                    if (r >= 0 && r != t.index() && !seen.get(k).contains(a.value())
                            && txns.get(r).invokeNanos() > t.completeNanos()) {
                        report(AnomalyType.LOST_APPEND, List.of(t.index(), r), t.name() + " appended " + a.value()
                                + " to " + a.key() + " and completed at " + t.completeNanos() + ", but no read shows "
                                + a.value() + ", though T" + r + " read " + a.key() + " after that (invoked at "
                                + txns.get(r).invokeNanos() + ")");
                    }
                }
            }
        }
    }

    private void processEdges() {
        Map<Long, List<Integer>> byProcess = new HashMap<>();
        for (Txn t : txns) {
            if (committed[t.index()]) {
                byProcess.computeIfAbsent(t.process(), p -> new ArrayList<>()).add(t.index());
            }
        }
        for (List<Integer> list : byProcess.values()) {
            list.sort(Comparator.comparingLong((Integer i) -> txns.get(i).invokeNanos()).thenComparing(i -> i));
            int lastOk = -1;
            for (int t : list) {
                if (lastOk >= 0) {
                    graph.add(lastOk, t, EdgeType.PROCESS, -1, 0, 0);
                }
                // An indeterminate transaction may take effect after the process's later ones: no
                // edge leaves it, and the later ones follow the last ok one instead.
                if (txns.get(t).status() == OpStatus.OK) {
                    lastOk = t;
                }
            }
        }
    }

    /**
     * Real-time edges, the transitive reduction's way (as Elle builds them): walking invocations and
     * completions in time order, the "frontier" holds the completed transactions not yet known to
     * precede a later completed one; an invocation gets an edge from each of them, and a completion
     * replaces in the frontier the transactions it had edges from. An edge count of about the
     * concurrency per transaction, instead of the square of the history.
     */
    private void realTimeEdges() {
        List<Integer> inv = new ArrayList<>();
        List<Integer> done = new ArrayList<>();
        for (Txn t : txns) {
            if (committed[t.index()]) {
                inv.add(t.index());
                if (t.status() == OpStatus.OK) {
                    done.add(t.index());
                }
            }
        }
        inv.sort(Comparator.comparingLong(i -> txns.get(i).invokeNanos()));
        done.sort(Comparator.comparingLong(i -> txns.get(i).completeNanos()));
        int[][] preds = new int[n][];
        int[] frontier = new int[16];
        int size = 0;
        int[] mark = new int[n];
        int j = 0;
        for (int i = 0; i < inv.size() || j < done.size(); ) {
            // Ties: an invocation at the instant of a completion is concurrent with it (no edge).
            boolean complete = j < done.size() && (i == inv.size()
                    || txns.get(done.get(j)).completeNanos() < txns.get(inv.get(i)).invokeNanos());
            if (complete) {
                int t = done.get(j++);
                int[] p = preds[t] == null ? new int[0] : preds[t];
                for (int x : p) {
                    mark[x] = t + 1;
                }
                int kept = 0;
                for (int f = 0; f < size; f++) {
                    if (mark[frontier[f]] != t + 1) {
                        frontier[kept++] = frontier[f];
                    }
                }
                size = kept;
                if (size == frontier.length) {
                    frontier = Arrays.copyOf(frontier, size * 2);
                }
                frontier[size++] = t;
            } else {
                int t = inv.get(i++);
                preds[t] = Arrays.copyOf(frontier, size);
                for (int f = 0; f < size; f++) {
                    graph.add(frontier[f], t, EdgeType.REALTIME, -1, 0, 0);
                }
            }
        }
    }

    // ---------------------------------------------------------------- cycles

    /** A cycle search: a closing edge of a type in {@code close}, and a path back over {@code path}. */
    private record Spec(int close, int path, int need) {
    }

    private static final List<Spec> SPECS = List.of(
            new Spec(WW, WW, 0),                      // G0
            new Spec(WR, WW | WR, 0),                 // G1c
            new Spec(RW, WW | WR, 0),                 // G-single
            new Spec(RW, DATA, RW),                   // G2-item
            new Spec(ORDER, WW | ORDER, 0),           // G0-realtime / -process
            new Spec(ORDER, WW | WR | ORDER, 0),      // G1c-...
            new Spec(RW, WW | WR | ORDER, ORDER),     // G-single-...
            new Spec(RW, DATA | ORDER, ORDER));       // G2-item-...

    private void cycles() {
        List<int[]> members = new ArrayList<>();
        int[] comp = graph.components(members);
        for (int c = 0; c < members.size(); c++) {
            Set<AnomalyType> reported = EnumSet.noneOf(AnomalyType.class);
            for (Spec spec : SPECS) {
                List<Integer> cycle = shortestCycle(members.get(c), c, comp, spec);
                if (cycle != null) {
                    AnomalyType type = classify(cycle);
                    if (reported.add(type)) {
                        reportCycle(type, cycle);
                    }
                }
            }
        }
    }

    private List<Integer> shortestCycle(int[] nodes, int c, int[] comp, Spec spec) {
        long[] budget = {SEARCH_BUDGET};
        List<Integer> best = null;
        int tries = 0;
        for (int v : nodes) {
            for (int i = graph.outStart(v); i < graph.outEnd(v); i++) {
                int e = graph.edgeAt(i);
                if ((graph.type(e).bit() & spec.close) == 0 || comp[graph.to(e)] != c) {
                    continue;
                }
                List<Integer> back = graph.shortestPath(graph.to(e), v, c, comp, spec.path, spec.need, budget);
                // A search that needs an edge type may return a walk through some node twice (once
                // before and once after that edge): that is two shorter cycles, not this class's.
                if (back != null && spec.need != 0 && !simple(e, back)) {
                    back = null;
                }
                if (back != null && (best == null || back.size() + 1 < best.size())) {
                    best = new ArrayList<>();
                    best.add(e);
                    best.addAll(back);
                }
                if (best != null && (best.size() == 2 || ++tries > EXTRA_TRIES)) {
                    return best;
                }
                if (budget[0] <= 0) {
                    return best;
                }
            }
        }
        return best;
    }

    private boolean simple(int first, List<Integer> rest) {
        Set<Integer> nodes = new HashSet<>();
        nodes.add(graph.from(first));
        for (int e : rest) {
            if (!nodes.add(graph.from(e))) {
                return false;
            }
        }
        return true;
    }

    private AnomalyType classify(List<Integer> cycle) {
        int rw = 0;
        int wr = 0;
        boolean realtime = false;
        boolean process = false;
        for (int e : cycle) {
            switch (graph.type(e)) {
                case RW -> rw++;
                case WR -> wr++;
                case REALTIME -> realtime = true;
                case PROCESS -> process = true;
                default -> {
                }
            }
        }
        int base = rw == 0 ? (wr == 0 ? 0 : 1) : (rw == 1 ? 2 : 3);
        AnomalyType[][] table = {
            {AnomalyType.G0, AnomalyType.G1C, AnomalyType.G_SINGLE, AnomalyType.G2_ITEM},
            {AnomalyType.G0_PROCESS, AnomalyType.G1C_PROCESS, AnomalyType.G_SINGLE_PROCESS, AnomalyType.G2_ITEM_PROCESS},
            {AnomalyType.G0_REALTIME, AnomalyType.G1C_REALTIME, AnomalyType.G_SINGLE_REALTIME, AnomalyType.G2_ITEM_REALTIME}};
        return table[realtime ? 2 : process ? 1 : 0][base];
    }

    private void reportCycle(AnomalyType type, List<Integer> cycle) {
        List<Integer> txnList = new ArrayList<>();
        List<CycleStep> steps = new ArrayList<>();
        StringJoiner path = new StringJoiner(" -> ");
        StringJoiner why = new StringJoiner("; ");
        // A cycle through a long real-time chain can span most of the history: the structured
        // cycle keeps every edge, the sentence its first and last few.
        int head = cycle.size() <= 2 * SHOWN ? cycle.size() : SHOWN;
        for (int i = 0; i < cycle.size(); i++) {
            int e = cycle.get(i);
            int a = graph.from(e);
            txnList.add(a);
            String text = why(e);
            boolean shown = i < head || i >= cycle.size() - SHOWN;
            if (shown) {
                path.add("T" + a);
                why.add(text);
            } else if (i == head) {
                path.add("... (" + (cycle.size() - 2 * SHOWN) + " more)");
                why.add("... (" + (cycle.size() - 2 * SHOWN) + " more edges)");
            }
            int k = graph.key(e);
            steps.add(new CycleStep(a, graph.to(e), graph.type(e), k < 0 ? null : keyNames.get(k), text));
        }
        path.add("T" + graph.from(cycle.get(0)));
        report(type, txnList, steps, "a cycle of " + cycle.size() + " transactions, " + path + ": " + why + ".");
    }

    private String why(int e) {
        String a = "T" + graph.from(e);
        String b = "T" + graph.to(e);
        int k = graph.key(e);
        String key = k < 0 ? null : keyNames.get(k);
        boolean list = k >= 0 && listKey.get(k);
        long v1 = graph.v1(e);
        long v2 = graph.v2(e);
        return switch (graph.type(e)) {
            case WW -> list ? b + " appended " + v2 + " to " + key + " after " + a + " appended " + v1
                    : b + " read " + key + " = " + v1 + " (written by " + a + ") and overwrote it with " + v2;
            case WR -> list ? a + " appended " + v1 + " to " + key + ", which " + b + " read"
                    : a + " wrote " + key + " = " + v1 + ", which " + b + " read";
            case RW -> list ? b + " appended " + v2 + " to " + key + " after " + a + " read " + key + " without it"
                    : b + " wrote " + key + " = " + v2 + " over the version " + a + " read";
            case PROCESS -> a + " and then " + b + " ran on process " + txns.get(graph.from(e)).process();
            case REALTIME -> a + " completed (at " + txns.get(graph.from(e)).completeNanos() + ") before " + b
                    + " was invoked (at " + txns.get(graph.to(e)).invokeNanos() + ")";
        };
    }

    private void report(AnomalyType type, List<Integer> txnList, String text) {
        report(type, txnList, List.of(), text);
    }

    private void report(AnomalyType type, List<Integer> txnList, List<CycleStep> cycle, String text) {
        int count = counts.merge(type, 1, Integer::sum);
        if (count <= EXAMPLES) {
            anomalies.add(new Anomaly(type, txnList, cycle, type.label() + ": " + text));
        }
    }
}
