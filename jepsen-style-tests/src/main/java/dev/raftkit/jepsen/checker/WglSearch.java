package dev.raftkit.jepsen.checker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The Wing &amp; Gong search with Lowe's memoization, over one partition (see the package docs).
 *
 * <p>Not thread-safe; one instance checks one partition once.
 */
final class WglSearch<S, Op> {

    private static final int NONE = -1;
    // How many loop iterations between clock reads: reading the clock costs ~25 ns, an iteration
    // a few more; this keeps the overhead negligible and the overrun under a millisecond.
    private static final int CLOCK_EVERY = 1 << 12;

    private final String key;
    private final List<Call<Op>> calls;
    private final Model<S, Op> model;
    private final long deadlineNanos;
    private final long maxStates;

    // The entry list, over entry indexes 0..2n-1 plus the HEAD sentinel. Entry e belongs to
    // operation opOf[e]; it is a call entry iff match[e] != NONE or the op is indeterminate
    // (which has no return entry at all: its return is at +infinity, past the end of the list).
    private final int head;
    private final int[] next;
    private final int[] prev;
    private final int[] opOf;
    private final boolean[] isCall;
    private final int[] match;

    // Two independent 64-bit Zobrist codes per operation: the linearized set is fingerprinted as
    // the XOR of its members' codes, updated in O(1) on every push and pop.
    private final long[] code1;
    private final long[] code2;

    // Model states, interned to small ints so the memo stores and compares ints.
    private final Map<S, Integer> stateIds = new HashMap<>();
    private final List<S> states = new ArrayList<>();

    private final Memo memo = new Memo();

    // Best (deepest) failure point, for the explanation. bestPrefix[0..bestDepth) holds its
    // linearized ops; its first `sharedWithStack` ops are also the bottom of the current DFS stack.
    private int bestDepth = NONE;
    private final int[] bestPrefix;
    private int sharedWithStack;
    private int bestState;
    private int bestStuck;
    private int[] bestConcurrent = new int[0];

    WglSearch(String key, List<Call<Op>> calls, Model<S, Op> model, long deadlineNanos, long maxStates) {
        this.key = key;
        this.calls = calls;
        this.model = model;
        this.deadlineNanos = deadlineNanos;
        this.maxStates = maxStates;
        int n = calls.size();
        this.head = 2 * n;
        this.next = new int[2 * n + 1];
        this.prev = new int[2 * n + 1];
        this.opOf = new int[2 * n];
        this.isCall = new boolean[2 * n];
        this.match = new int[2 * n];
        this.code1 = new long[n];
        this.code2 = new long[n];
        this.bestPrefix = new int[n];
        // A fixed seed: the search, and so its explored-state count, is reproducible.
        SplittableRandom random = new SplittableRandom(0x5EED_CAFE_F00DL);
        for (int i = 0; i < n; i++) {
            code1[i] = random.nextLong();
            code2[i] = random.nextLong();
        }
        buildEntryList();
    }

    /**
     * Sorts call and return events by time into the doubly linked entry list. At equal times calls
     * come first: an operation invoked at the very instant another returned is treated as
     * concurrent with it, which can only make the checker more lenient, never report a
     * violation that real time does not prove.
     */
    private void buildEntryList() {
        int n = calls.size();
        int entries = 0;
        long[] sortKeys = new long[2 * n];
        Integer[] order = new Integer[2 * n];
        for (int i = 0; i < n; i++) {
            Call<Op> c = calls.get(i);
            opOf[entries] = i;
            isCall[entries] = true;
            match[entries] = NONE;
            sortKeys[entries] = c.invokeNanos();
            order[entries] = entries;
            int callEntry = entries++;
            if (!c.isIndeterminate()) {
                opOf[entries] = i;
                isCall[entries] = false;
                match[entries] = NONE;
                match[callEntry] = entries;
                sortKeys[entries] = c.returnNanos();
                order[entries] = entries;
                entries++;
            }
        }
        Integer[] sorted = Arrays.copyOf(order, entries);
        Arrays.sort(sorted, (a, b) -> {
            int byTime = Long.compare(sortKeys[a], sortKeys[b]);
            if (byTime != 0) {
                return byTime;
            }
            if (isCall[a] != isCall[b]) {
                return isCall[a] ? -1 : 1;
            }
            return Integer.compare(a, b);
        });
        int last = head;
        next[head] = NONE;
        prev[head] = NONE;
        for (Integer e : sorted) {
            next[last] = e;
            prev[e] = last;
            last = e;
        }
        next[last] = NONE;
    }

    /** Removes a call entry, and its return entry if any, from the list. */
    private void lift(int call) {
        next[prev[call]] = next[call];
        if (next[call] != NONE) {
            prev[next[call]] = prev[call];
        }
        int ret = match[call];
        if (ret != NONE) {
            next[prev[ret]] = next[ret];
            if (next[ret] != NONE) {
                prev[next[ret]] = prev[ret];
            }
        }
    }

    /** Undoes {@link #lift}: entries go back exactly where they were, in reverse order. */
    private void unlift(int call) {
        int ret = match[call];
        if (ret != NONE) {
            next[prev[ret]] = ret;
            if (next[ret] != NONE) {
                prev[next[ret]] = ret;
            }
        }
        next[prev[call]] = call;
        if (next[call] != NONE) {
            prev[next[call]] = call;
        }
    }

    private int intern(S state) {
        Integer id = stateIds.get(state);
        if (id == null) {
            id = states.size();
            states.add(state);
            stateIds.put(state, id);
        }
        return id;
    }

    KeyResult<Op> run() {
        long started = System.nanoTime();
        int n = calls.size();
        // The DFS stack, iterative so that 10^5 operations per key need no deep Java stack.
        int[] stackEntry = new int[Math.max(1, n)];
        int[] stackState = new int[Math.max(1, n)];
        int depth = 0;

        S init = model.init();
        if (init == null) {
            throw new IllegalArgumentException("model " + model + " has a null initial state");
        }
        int state = intern(init);
        long fp1 = 0;
        long fp2 = 0;
        long iterations = 0;
        int entry = next[head];
        while (true) {
            if (entry == NONE) {
                // Every remaining entry is a call that cannot (or need not) be linearized and no
                // return entry is left: every completed operation has been linearized. Leftover
                // calls are indeterminate operations that never took effect — allowed.
                return result(Verdict.LINEARIZABLE, started, null);
            }
            if ((++iterations & (CLOCK_EVERY - 1)) == 0 && System.nanoTime() - deadlineNanos > 0) {
                return result(Verdict.BUDGET_EXCEEDED, started, "time limit reached after " + iterations
                        + " search steps at depth " + depth + " of " + n);
            }
            if (isCall[entry]) {
                int op = opOf[entry];
                Optional<S> after = model.step(states.get(state), calls.get(op).op());
                if (after.isPresent()) {
                    int afterId = intern(after.get());
                    long nfp1 = fp1 ^ code1[op];
                    long nfp2 = fp2 ^ code2[op];
                    // Lowe's memoization: a (linearized set, state) configuration reached before
                    // either is on the current path or has already been explored and failed.
                    if (memo.add(nfp1, nfp2, afterId)) {
                        if (memo.size() > maxStates) {
                            return result(Verdict.BUDGET_EXCEEDED, started, "explored more than " + maxStates
                                    + " states (linearized " + depth + " of " + n + " ops on the current path)");
                        }
                        stackEntry[depth] = entry;
                        stackState[depth] = state;
                        depth++;
                        state = afterId;
                        fp1 = nfp1;
                        fp2 = nfp2;
                        lift(entry);
                        entry = next[head];
                        continue;
                    }
                }
                entry = next[entry];
            } else {
                // A return entry: its operation must have taken effect by now, yet none of the
                // orders tried on this path allows it. Backtrack.
                if (depth > bestDepth) {
                    remember(depth, stackEntry, state, entry);
                }
                if (depth == 0) {
                    return result(Verdict.NOT_LINEARIZABLE, started, null);
                }
                depth--;
                sharedWithStack = Math.min(sharedWithStack, depth);
                int undone = stackEntry[depth];
                state = stackState[depth];
                fp1 ^= code1[opOf[undone]];
                fp2 ^= code2[opOf[undone]];
                unlift(undone);
                entry = next[undone];
            }
        }
    }

    /**
     * Keeps the deepest failure point. Copying the whole stack at every new record would cost
     * O(n) each time, O(n²) over a search that backtracks at ever greater depths (10^10 steps at
     * 10^5 ops); instead only the part of the stack that changed since the last record is copied,
     * so every push is copied at most once per record it survives into.
     */
    private void remember(int depth, int[] stackEntry, int state, int stuckEntry) {
        for (int i = sharedWithStack; i < depth; i++) {
            bestPrefix[i] = opOf[stackEntry[i]];
        }
        sharedWithStack = depth;
        bestDepth = depth;
        bestState = state;
        bestStuck = opOf[stuckEntry];
        int[] concurrent = new int[Explanation.TAIL];
        int count = 0;
        for (int e = next[head]; e != stuckEntry && e != NONE && count < concurrent.length; e = next[e]) {
            if (isCall[e] && opOf[e] != bestStuck) {
                concurrent[count++] = opOf[e];
            }
        }
        bestConcurrent = Arrays.copyOf(concurrent, count);
    }

    private KeyResult<Op> result(Verdict verdict, long started, String budgetNote) {
        Optional<Explanation<Op>> explanation = Optional.empty();
        if (verdict == Verdict.NOT_LINEARIZABLE) {
            List<Op> tail = new ArrayList<>();
            for (int i = Math.max(0, bestDepth - Explanation.TAIL); i < bestDepth; i++) {
                tail.add(calls.get(bestPrefix[i]).op());
            }
            List<Op> concurrent = new ArrayList<>();
            for (int op : bestConcurrent) {
                concurrent.add(calls.get(op).op());
            }
            explanation = Optional.of(new Explanation<>(bestDepth, tail,
                    model.describe(states.get(bestState)), calls.get(bestStuck).op(), concurrent));
        }
        return new KeyResult<>(key, verdict, calls.size(), memo.size(), Duration.ofNanos(System.nanoTime() - started),
                explanation, Optional.ofNullable(budgetNote));
    }

    /**
     * An open-addressing hash set of (fingerprint1, fingerprint2, state id) triples.
     *
     * <p>Why fingerprints rather than the linearized bitsets themselves: a bitset costs n/8 bytes,
     * so with 10^5 operations per key every memoized configuration would cost 12.5 KB and a
     * search of 10^5 steps over a gigabyte. A 128-bit fingerprint costs 16 bytes. A collision
     * between two different linearized sets (probability about m²/2^129 for m memoized
     * configurations: below 10^-20 for a billion) can only make the search skip a configuration
     * it has not explored, i.e. miss a linearization and report NOT_LINEARIZABLE — it can never
     * turn a violation into a pass.
     */
    private static final class Memo {
        private long[] fp1 = new long[1 << 10];
        private long[] fp2 = new long[1 << 10];
        private int[] stateIdPlusOne = new int[1 << 10]; // 0 marks an empty slot
        private int size;

        int size() {
            return size;
        }

        boolean add(long a, long b, int stateId) {
            if (2 * (size + 1) > stateIdPlusOne.length) {
                grow();
            }
            return insert(a, b, stateId + 1);
        }

        private boolean insert(long a, long b, int sPlusOne) {
            int mask = stateIdPlusOne.length - 1;
            int slot = (int) mix(a ^ (sPlusOne * 0x9E3779B97F4A7C15L)) & mask;
            while (stateIdPlusOne[slot] != 0) {
                if (stateIdPlusOne[slot] == sPlusOne && fp1[slot] == a && fp2[slot] == b) {
                    return false;
                }
                slot = (slot + 1) & mask;
            }
            fp1[slot] = a;
            fp2[slot] = b;
            stateIdPlusOne[slot] = sPlusOne;
            size++;
            return true;
        }

        private void grow() {
            long[] oldA = fp1;
            long[] oldB = fp2;
            int[] oldS = stateIdPlusOne;
            fp1 = new long[oldS.length * 2];
            fp2 = new long[oldS.length * 2];
            stateIdPlusOne = new int[oldS.length * 2];
            size = 0;
            for (int i = 0; i < oldS.length; i++) {
                if (oldS[i] != 0) {
                    insert(oldA[i], oldB[i], oldS[i]);
                }
            }
        }

        // The finalizer of SplitMix64: spreads every input bit over the slot index.
        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }
}
