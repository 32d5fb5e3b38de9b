package dev.raftkit.jepsen.checker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

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
    // What the search holds per operation of the key, in bytes: next/prev/opOf/match (4 ints per
    // entry, 2 entries), isCall (2 booleans), two Zobrist codes, the best prefix and the two stack
    // arrays (3 ints) — and, while the entry list is built, the sort keys and the boxed order
    // (a long, a reference and an Integer per entry): 126 bytes.
    static final long BYTES_PER_OP = 2 * (4 * 4 + 1) + 2 * 8 + 3 * 4 + 2 * (8 + 8 + 16);
    // What each distinct model state costs besides the state itself and its Zobrist codes (which
    // are counted by their arrays' capacity): its HashMap node and boxed id, its HashMap table and
    // list slots with their growth slack, and heap overhead seen in MemoryFootprintTest's
    // measurement of a million distinct states (they retained 28 bytes a state more than the
    // structures add up to).
    static final long BYTES_PER_STATE = 32 + 16 + 8 + 8 + 32;

    private final String key;
    private final List<Call<Op>> calls;
    private final Model<S, Op> model;
    private final long deadlineNanos;
    private final long maxStates;
    private final long maxBytes;
    private final BooleanSupplier cancelled;

    // The entry list, over entry indexes 0..2n-1 plus the HEAD sentinel. Entry e belongs to
    // operation opOf[e]; it is a call entry iff match[e] != NONE or the op is indeterminate
    // (which has no return entry at all: its return is at +infinity, past the end of the list).
    // Allocated by run(), once the budget is known to allow them.
    private int head;
    private int[] next;
    private int[] prev;
    private int[] opOf;
    private boolean[] isCall;
    private int[] match;

    // Two independent 64-bit Zobrist codes per operation: the linearized set is fingerprinted as
    // the XOR of its members' codes, updated in O(1) on every push and pop.
    private long[] code1;
    private long[] code2;
    // A fixed seed: the search, and so its explored-state count, is reproducible.
    private final SplittableRandom random = new SplittableRandom(0x5EED_CAFE_F00DL);

    // Model states, interned to small ints, each with two Zobrist codes of its own so that a
    // (linearized set, state) configuration is one 128-bit fingerprint in the memo.
    private final Map<S, Integer> stateIds = new HashMap<>();
    private final List<S> states = new ArrayList<>();
    private long[] stateCode1 = new long[16];
    private long[] stateCode2 = new long[16];
    private long stateBytes;

    private final Memo memo = new Memo();
    private long fixedBytes;
    private long peakBytes;

    // Best (deepest) failure point, for the explanation. bestPrefix[0..bestDepth) holds its
    // linearized ops; its first `sharedWithStack` ops are also the bottom of the current DFS stack.
    private int bestDepth = NONE;
    private int[] bestPrefix;
    private int sharedWithStack;
    private int bestState;
    private int bestStuck;
    private int[] bestConcurrent = new int[0];

    /**
     * @param cancelled polled now and then; once true the search stops and {@link #run} returns
     *                  {@code null} (used to stop keys after a violation)
     */
    WglSearch(String key, List<Call<Op>> calls, Model<S, Op> model, long deadlineNanos, Budget budget,
              BooleanSupplier cancelled) {
        this.key = key;
        this.calls = calls;
        this.model = model;
        this.deadlineNanos = deadlineNanos;
        this.maxStates = budget.maxStatesPerKey();
        this.maxBytes = budget.maxBytesPerKey();
        this.cancelled = cancelled;
    }

    private void allocate() {
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
        for (int i = 0; i < n; i++) {
            code1[i] = random.nextLong();
            code2[i] = random.nextLong();
        }
        buildEntryList();
    }

    /** Bytes held now: per-operation arrays, interned states and their codes, the memo. */
    long heldBytes() {
        return fixedBytes + stateBytes + 16L * stateCode1.length + memo.bytes();
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

    /** The state's id, or NONE if keeping one more state would exceed the memory budget. */
    private int intern(S state) {
        Integer id = stateIds.get(state);
        if (id != null) {
            return id;
        }
        long cost = BYTES_PER_STATE + Math.max(0, model.estimatedBytes(state));
        int newId = states.size();
        boolean growCodes = newId == stateCode1.length;
        long growth = growCodes ? 16L * 2 * newId : 0; // new code arrays, while the old are still held
        if (heldBytes() + cost + growth > maxBytes) {
            return NONE;
        }
        peakBytes = Math.max(peakBytes, heldBytes() + cost + growth);
        if (growCodes) {
            stateCode1 = Arrays.copyOf(stateCode1, newId * 2);
            stateCode2 = Arrays.copyOf(stateCode2, newId * 2);
        }
        stateCode1[newId] = random.nextLong();
        stateCode2[newId] = random.nextLong();
        states.add(state);
        stateIds.put(state, newId);
        stateBytes += cost;
        peakBytes = Math.max(peakBytes, heldBytes());
        return newId;
    }

    /** Runs the search; {@code null} if cancelled. Never throws {@link OutOfMemoryError} for its own data. */
    KeyResult<Op> run() {
        long started = System.nanoTime();
        fixedBytes = BYTES_PER_OP * calls.size() + 64;
        peakBytes = heldBytes();
        if (heldBytes() > maxBytes) {
            return result(Verdict.BUDGET_EXCEEDED, started, "its " + calls.size() + " operations alone need "
                    + heldBytes() + " bytes (with the memo's first table), over the budget of " + maxBytes);
        }
        try {
            allocate();
            return search(started);
        } catch (OutOfMemoryError e) {
            // The estimate is below what the JVM could give (other keys, other threads, a model
            // whose estimatedBytes is too low): end the search rather than the process.
            memo.release();
            return result(Verdict.BUDGET_EXCEEDED, started, "the JVM heap ran out (" + e.getMessage()
                    + ") before the budget of " + maxBytes + " bytes was reached; give the JVM more heap (-Xmx)"
                    + " or this check a smaller maxBytesPerKey");
        }
    }

    private String spent(long started, int depth) {
        return memo.size() + " states, ~" + peakBytes + " bytes at most, " + (System.nanoTime() - started) / 1_000_000
                + " ms; linearized " + depth + " of " + calls.size() + " ops on the current path";
    }

    private KeyResult<Op> search(long started) {
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
        if (state == NONE) {
            return result(Verdict.BUDGET_EXCEEDED, started, "the initial state alone exceeds the budget of "
                    + maxBytes + " bytes");
        }
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
            if ((++iterations & (CLOCK_EVERY - 1)) == 0) {
                if (cancelled.getAsBoolean()) {
                    return null;
                }
                if (System.nanoTime() - deadlineNanos > 0) {
                    return result(Verdict.BUDGET_EXCEEDED, started, "time limit reached after " + iterations
                            + " search steps: " + spent(started, depth));
                }
            }
            if (isCall[entry]) {
                int op = opOf[entry];
                Optional<S> after = model.step(states.get(state), calls.get(op).op());
                if (after.isPresent()) {
                    int afterId = intern(after.get());
                    if (afterId == NONE) {
                        return result(Verdict.BUDGET_EXCEEDED, started, "memory budget of " + maxBytes
                                + " bytes reached at " + states.size() + " distinct model states: " + spent(started, depth));
                    }
                    long nfp1 = fp1 ^ code1[op];
                    long nfp2 = fp2 ^ code2[op];
                    if (memo.isFull()) {
                        if (heldBytes() + memo.grownBytes() > maxBytes) {
                            return result(Verdict.BUDGET_EXCEEDED, started, "memory budget of " + maxBytes
                                    + " bytes reached: growing the memo would take it to "
                                    + (heldBytes() + memo.grownBytes()) + "; " + spent(started, depth));
                        }
                        peakBytes = Math.max(peakBytes, heldBytes() + memo.grownBytes());
                        memo.grow();
                    }
                    // Lowe's memoization: a (linearized set, state) configuration reached before
                    // either is on the current path or has already been explored and failed.
                    if (memo.add(nfp1 ^ stateCode1[afterId], nfp2 ^ stateCode2[afterId])) {
                        if (memo.size() > maxStates) {
                            return result(Verdict.BUDGET_EXCEEDED, started, "explored more than " + maxStates
                                    + " states: " + spent(started, depth));
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
                explanation, Optional.ofNullable(budgetNote), peakBytes);
    }

    /**
     * An open-addressing hash set of 128-bit fingerprints of (linearized set, model state)
     * configurations: the XOR of the linearized operations' Zobrist codes and the state's. Slots
     * are pairs of longs in one array (16 bytes a slot, one cache line per probe); (0, 0) marks an
     * empty slot, and the configuration whose fingerprint is (0, 0) is kept in a flag. The table
     * doubles when 3/4 full, so it is 3/8 to 3/4 full: 21 to 43 bytes per configuration.
     *
     * <p>Why fingerprints rather than the linearized bitsets themselves: a bitset costs n/8 bytes,
     * so with 10^5 operations per key every memoized configuration would cost 12.5 KB and a
     * search of 10^5 steps over a gigabyte. A collision between two different configurations
     * (probability about m²/2^129 for m memoized configurations: below 10^-20 for a billion) can
     * only make the search skip a configuration it has not explored, i.e. miss a linearization
     * and report NOT_LINEARIZABLE — it can never turn a violation into a pass.
     */
    static final class Memo {
        private long[] slots = new long[2 << 10];
        private boolean hasZero;
        private int size;

        int size() {
            return size;
        }

        long bytes() {
            return slots == null ? 0 : 16L + 8L * slots.length;
        }

        /** Whether one more configuration needs {@link #grow} first. */
        boolean isFull() {
            return 4L * (size + 1) > 3L * (slots.length / 2);
        }

        /** What the new table of {@link #grow} costs; while it copies, the old one is still held too. */
        long grownBytes() {
            return 16L + 8L * slots.length * 2;
        }

        /** Adds a fingerprint; false if it was there. The table must not be {@link #isFull}. */
        boolean add(long a, long b) {
            if (a == 0 && b == 0) {
                if (hasZero) {
                    return false;
                }
                hasZero = true;
                size++;
                return true;
            }
            if (insert(slots, a, b)) {
                size++;
                return true;
            }
            return false;
        }

        private static boolean insert(long[] table, long a, long b) {
            int mask = table.length / 2 - 1;
            int slot = (int) mix(a) & mask;
            while (table[2 * slot] != 0 || table[2 * slot + 1] != 0) {
                if (table[2 * slot] == a && table[2 * slot + 1] == b) {
                    return false;
                }
                slot = (slot + 1) & mask;
            }
            table[2 * slot] = a;
            table[2 * slot + 1] = b;
            return true;
        }

        void grow() {
            long[] old = slots;
            long[] grown = new long[old.length * 2];
            for (int i = 0; i < old.length; i += 2) {
                if (old[i] != 0 || old[i + 1] != 0) {
                    insert(grown, old[i], old[i + 1]);
                }
            }
            slots = grown;
        }

        /** Drops the table (after an OutOfMemoryError), keeping the count. */
        void release() {
            slots = null;
        }

        // The finalizer of SplitMix64: spreads every input bit over the slot index.
        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }
}
