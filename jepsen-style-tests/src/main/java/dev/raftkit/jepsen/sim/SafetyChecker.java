package dev.raftkit.jepsen.sim;

import dev.raftkit.core.log.Entry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The safety properties of Raft (Figure 3.2 of the thesis), each named once, checked as the state
 * they speak of changes on the real nodes — what each node's log storage is given, what its state
 * machine applies, what its listener reports — so effectively after every event of a run:
 *
 * <ul>
 *   <li><b>Election Safety</b>: at most one leader per term.
 *   <li><b>Log Matching</b>: two entries with the same index and term hold the same command and
 *       follow the same term (which, by induction, makes the logs identical up to there).
 *   <li><b>Leader Completeness</b>: a leader's log holds every entry committed before its term
 *       (checked on the prefix of its durable log that precedes its first entry of its term).
 *   <li><b>State Machine Safety</b>: no two nodes commit or apply different entries at one index.
 *   <li>Commit and applied indexes never go backwards within a node's lifetime, and a restarted
 *       node's recovered committed prefix agrees with what the cluster committed.
 * </ul>
 */
public final class SafetyChecker {

    /** What the checker reads of one node's log: its storage, as the node gave it. */
    interface LogView {
        long firstIndex();

        long lastIndex();

        /** The term of entry {@code index}, or 0 if this log does not hold it. */
        long termOrZero(long index);
    }

    private final List<String> violations = new ArrayList<>();
    private final Map<Long, Long> leaderOfTerm = new HashMap<>();
    /** Log Matching registry: (index, term) → (payload hash, term before it). */
    private final Map<Long, Map<Long, long[]>> entriesSeen = new HashMap<>();
    /** Term of the committed entry at each index, 0 if not known committed yet. */
    private long[] committedTerm = new long[1024];
    private long maxCommitted;
    /** Term and payload hash of the command applied at each index. */
    private final Map<Long, long[]> appliedAt = new HashMap<>();
    /** The indexes at which some node's state machine applied a command. */
    private final java.util.BitSet commandIndexes = new java.util.BitSet();
    /**
     * Digests of states some node's state machine held, keyed by the last command they reflect
     * ({@link #stateKey}), and which node's: the oracle a restored backup is compared with.
     */
    private final Map<Long, long[]> digestAfter = new HashMap<>();
    /** Log indexes some node's runtime processed without handing them to its state machine, and which node. */
    private final Map<Long, Long> skippedBy = new HashMap<>();
    /** Leaders whose Leader Completeness check waits for their first entry of their term: node → term. */
    private final Map<Long, Long> pendingCompleteness = new HashMap<>();

    public List<String> violations() {
        return violations;
    }

    public boolean ok() {
        return violations.isEmpty();
    }

    private void violation(long time, String property, String detail) {
        if (violations.size() < 20) {
            violations.add("t=" + time + "us " + property + ": " + detail);
        }
    }

    /**
     * Node {@code node} reported leading {@code term}; {@code log} is its log storage now. The
     * storage's entries before its first entry of {@code term} are the log it won the election
     * with (a leader only appends); if it holds none of {@code term} yet, the check waits for it.
     */
    void onLeader(long time, long node, long term, LogView log) {
        Long other = leaderOfTerm.putIfAbsent(term, node);
        if (other != null && other != node) {
            violation(time, "Election Safety", "nodes " + other + " and " + node + " both lead term " + term);
        }
        long last = log.lastIndex();
        if (log.termOrZero(last) != term) {
            pendingCompleteness.put(node, term);
            return;
        }
        long first = last;
        while (first - 1 >= log.firstIndex() && log.termOrZero(first - 1) == term) {
            first--;
        }
        checkCompleteness(time, node, term, log, first - 1);
    }

    private void checkCompleteness(long time, long node, long term, LogView log, long upTo) {
        for (long i = Math.max(1, log.firstIndex()); i <= Math.min(upTo, maxCommitted); i++) {
            long t = log.termOrZero(i);
            if (committedTerm[(int) i] != 0 && t != committedTerm[(int) i]) {
                violation(time, "Leader Completeness", "leader " + node + " of term " + term + " holds term " + t
                        + " at index " + i + ", where term " + committedTerm[(int) i] + " was committed");
                return;
            }
        }
    }

    /** Node {@code node}'s storage is given {@code entries}; {@code log} is the storage before. */
    void onAppend(long time, long node, List<Entry> entries, LogView log) {
        if (entries.isEmpty()) {
            return;
        }
        Long leading = pendingCompleteness.get(node);
        if (leading != null) {
            for (Entry e : entries) {
                if (e.term() == leading) {
                    pendingCompleteness.remove(node);
                    checkCompleteness(time, node, leading, log, e.index() - 1);
                    break;
                }
            }
        }
        long prevTerm = log.termOrZero(entries.get(0).index() - 1);
        for (Entry e : entries) {
            long[] seen = entriesSeen.computeIfAbsent(e.index(), k -> new HashMap<>())
                    .putIfAbsent(e.term(), new long[] {hash(e), prevTerm});
            if (seen != null && (seen[0] != hash(e) || (prevTerm != 0 && seen[1] != 0 && seen[1] != prevTerm))) {
                violation(time, "Log Matching", "node " + node + " holds a different entry " + e.id()
                        + " than another node (payload or previous term differ)");
            }
            prevTerm = e.term();
        }
    }

    /**
     * Node {@code node}'s commit index moved from {@code before} to {@code after} in one lifetime
     * (or, at a restart, from 0 to what it recovered); {@code log} holds the entries.
     */
    void onCommit(long time, long node, long before, long after, LogView log) {
        if (after < before) {
            violation(time, "Commit monotonic", "node " + node + " commit went back from " + before + " to " + after);
            return;
        }
        for (long i = Math.max(before + 1, log.firstIndex()); i <= after; i++) {
            long t = log.termOrZero(i);
            if (t == 0) {
                continue;
            }
            grow(i);
            if (committedTerm[(int) i] == 0) {
                committedTerm[(int) i] = t;
            } else if (committedTerm[(int) i] != t) {
                violation(time, "State Machine Safety", "node " + node + " commits term " + t + " at index " + i
                        + ", where term " + committedTerm[(int) i] + " was committed");
            }
        }
        maxCommitted = Math.max(maxCommitted, after);
    }

    /** Node {@code node}'s state machine applied the command at {@code index} right after {@code appliedBefore}. */
    /**
     * Node {@code node}'s state machine applied the command at {@code index} and answered {@code
     * result}. Every replica must apply the same command at an index (State Machine Safety) and,
     * applying it to the same state, answer the same: a different answer means the replicas'
     * states had already parted (a command applied twice, a restore that does not rebuild the
     * snapshot, a corrupt snapshot restored) or apply is not deterministic. Caught at the command,
     * long before the end-of-run digests, and even when a later write would have hidden it.
     */
    void onApply(long time, long node, long appliedBefore, long index, long term, byte[] payload, byte[] result) {
        if (index <= appliedBefore) {
            violation(time, "Applied monotonic", "node " + node + " applied " + index + "@" + term + " after "
                    + appliedBefore);
        }
        Long skipper = skippedBy.get(index);
        if (skipper != null && skipper != node) {
            exactlyOnce(time, node, index, skipper);
        }
        if (index <= Integer.MAX_VALUE) {
            commandIndexes.set((int) index);
        }
        long h = Arrays.hashCode(payload);
        long r = result == null ? 0 : Arrays.hashCode(result) | 1L << 40;
        long[] seen = appliedAt.putIfAbsent(index, new long[] {term, h, r, node});
        if (seen == null) {
            return;
        }
        if (seen[0] != term || seen[1] != h) {
            violation(time, "State Machine Safety", "node " + node + " applied " + index + "@" + term
                    + " where another node applied term " + seen[0] + (seen[0] == term ? " with another payload" : ""));
        } else if (seen[2] != r) {
            violation(time, "Replica divergence", "node " + node + "'s state machine answered the command at " + index
                    + "@" + term + " differently from node " + seen[3] + "'s: their states had parted before it (a"
                    + " command applied twice, a restore that does not rebuild its snapshot) or apply is not"
                    + " deterministic");
        }
    }

    /**
     * The state a state machine holds once it has applied every command up to log index
     * {@code index}, named by the last of them: states at two indexes with no command between
     * them are one state (no-ops and membership changes never reach a state machine). 0 before
     * the first command.
     */
    /**
     * A live restore switched the replicas' state at {@code index} (a log entry that is no
     * command): from there on, a state is keyed by the switch, not by the commands before it.
     */
    void onStateSwitch(long index) {
        commandIndexes.set((int) index);
    }

    long stateKey(long index) {
        int i = commandIndexes.previousSetBit((int) Math.min(index, Integer.MAX_VALUE));
        return Math.max(0, i);
    }

    /**
     * Node {@code node}'s state machine held state {@code key} ({@link #stateKey}) with digest
     * {@code digest}; another node's state of the same key with another digest is divergence.
     */
    void onStateDigest(long time, long node, long key, long digest) {
        long[] seen = digestAfter.putIfAbsent(key, new long[] {digest, node});
        if (seen != null && seen[0] != digest) {
            violation(time, "Replica divergence", "nodes " + seen[1] + " and " + node + " held different states (digests "
                    + seen[0] + " and " + digest + ") after applying the same commands up to index " + key + ": a"
                    + " snapshot that does not restore what it saved, or an apply that is not deterministic");
        }
    }

    /** The digest some node's state machine had in state {@code key}, or null if none was seen. */
    Long digestAfter(long key) {
        long[] seen = digestAfter.get(key);
        return seen == null ? null : seen[0];
    }

    /** The state keys with a known digest in {@code [from, to]}, ascending. */
    List<Long> digestKeys(long from, long to) {
        return digestAfter.keySet().stream().filter(k -> k >= from && k <= to).sorted().toList();
    }

    /** A backup or restore did what no correct one may (a restored state that is not the cluster's, say). */
    void onBackupViolation(long time, String detail) {
        violation(time, "Backup", detail);
    }

    void onConvergenceFailure(long time, String detail) {
        violation(time, "Convergence", detail);
    }

    /**
     * Node {@code node}'s runtime went from index {@code after} to {@code next} without handing the
     * entries between to its state machine: no-ops, configuration changes, session entries, and
     * commands it judged duplicates. That judgement rests on the replicated session table, so it is
     * the same on every node; a command one node applied and another skipped is a command applied
     * twice, or lost (§6.3).
     */
    void onSkipped(long time, long node, long after, long next) {
        for (long i = after + 1; i < next; i++) {
            long[] applied = appliedAt.get(i);
            if (applied != null && applied[3] != node) {
                exactlyOnce(time, applied[3], i, node);
                return;
            }
            skippedBy.putIfAbsent(i, node);
        }
    }

    private void exactlyOnce(long time, long applier, long index, long skipper) {
        violation(time, "Exactly once", "node " + applier + "'s state machine applied the command at " + index
                + ", which node " + skipper + " processed without applying (a duplicate of an earlier command, or of"
                + " an expired session): their client-session tables had parted, so some node applies a retried"
                + " command twice (§6.3)");
    }

    /** A client was answered with something that is no answer to its request. */
    void onWrongAnswer(long time, String detail) {
        violation(time, "Wrong answer", detail);
    }

    /** Two replicas applied the same commands to an equal index and hold different states. */
    void onReplicaDivergence(long time, String detail) {
        violation(time, "Replica divergence", detail);
    }

    /** A leader whose disk hung kept leading past the bound the runtime promises. */
    void onHungLeader(long time, String detail) {
        violation(time, "Hung leader", detail);
    }

    /** A leader whose disk was below the free-space watermark acknowledged a new write. */
    void onFullDiskAccepted(long time, String detail) {
        violation(time, "Full disk accepted", detail);
    }

    /** A node that lost its durable state was trusted with a vote and acknowledgements. */
    void onLostStateTrusted(long time, String detail) {
        violation(time, "Lost state trusted", detail);
    }

    /** The workload's verdict over the whole history failed; {@code kind} names the check. */
    void onVerdict(String kind, String detail) {
        violation(-1, kind, detail);
    }

    /** A check of the workload's own (an invariant over a node's state, or over its history). */
    void onWorkloadViolation(long time, String detail) {
        violation(time, "Workload invariant", detail);
    }

    /**
     * The run spent its whole event budget: messages or tasks multiplying with virtual time barely
     * moving (a retry loop with no backoff, a message storm). Not a safety violation but a bug, and
     * the budget keeps such a run from exhausting the memory of whoever runs the simulator.
     */
    void onEventStorm(long time, String detail) {
        violation(time, "Event storm", detail);
    }

    /** A node stopped by itself (fail-stop), or a simulated thread threw: a bug either way. */
    void onNodeFailure(long time, String detail) {
        violation(time, "Node failure", detail);
    }

    private void grow(long index) {
        if (index >= committedTerm.length) {
            committedTerm = Arrays.copyOf(committedTerm, (int) Math.max(index + 1, committedTerm.length * 2L));
        }
    }

    private static long hash(Entry e) {
        return 31L * Arrays.hashCode(e.data()) + e.type().ordinal();
    }
}
