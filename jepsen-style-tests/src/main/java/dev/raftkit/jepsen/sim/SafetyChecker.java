package dev.raftkit.jepsen.sim;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.RaftLog;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The safety properties of Raft (Figure 3.2 of the thesis), each named once, checked as the state
 * they speak of changes — so effectively after every event of a run:
 *
 * <ul>
 *   <li><b>Election Safety</b>: at most one leader per term.
 *   <li><b>Leader Append-Only</b>: a leader never overwrites or deletes entries in its log.
 *   <li><b>Log Matching</b>: two entries with the same index and term hold the same command and
 *       follow the same term (which, by induction, makes the logs identical up to there).
 *   <li><b>Leader Completeness</b>: a leader's log holds every entry committed before its term.
 *   <li><b>State Machine Safety</b>: no two nodes apply different entries at one index.
 *   <li>Commit and applied indexes never go backwards: within a node's lifetime, across restarts
 *       for the durable commit index, and cluster-wide.
 * </ul>
 */
public final class SafetyChecker {

    private final List<String> violations = new ArrayList<>();
    private final Map<Long, Long> leaderOfTerm = new HashMap<>();
    /** Log Matching registry: (index, term) → (payload hash, term before it). */
    private final Map<Long, Map<Long, long[]>> entriesSeen = new HashMap<>();
    /** Term of the committed entry at each index, 0 if not known committed yet. */
    private long[] committedTerm = new long[1024];
    private long maxCommitted;
    /** Hash and term of the entry applied at each index. */
    private final Map<Long, long[]> appliedAt = new HashMap<>();
    private final Map<Long, Long> durableCommit = new HashMap<>();
    private final Map<Long, Long> leaderLastAppended = new HashMap<>();

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

    /** Node {@code node} became leader of {@code term} with {@code log}. */
    void onLeader(long time, long node, long term, RaftLog log) {
        Long other = leaderOfTerm.putIfAbsent(term, node);
        if (other != null && other != node) {
            violation(time, "Election Safety", "nodes " + other + " and " + node + " both lead term " + term);
        }
        leaderLastAppended.put(node, log.lastIndex());
        long first = log.firstIndex();
        for (long i = Math.max(1, first); i <= maxCommitted; i++) {
            long t = log.termOrZero(i);
            if (t != committedTerm[(int) i]) {
                violation(time, "Leader Completeness", "leader " + node + " of term " + term + " holds term " + t
                        + " at index " + i + ", where term " + committedTerm[(int) i] + " was committed");
                return;
            }
        }
    }

    void onNotLeader(long node) {
        leaderLastAppended.remove(node);
    }

    /** Node {@code node} hands out {@code entries} to persist; {@code leader} if it leads now. */
    void onAppend(long time, long node, boolean leader, List<Entry> entries, RaftLog log) {
        if (entries.isEmpty()) {
            return;
        }
        if (leader) {
            Long last = leaderLastAppended.get(node);
            if (last != null && entries.get(0).index() <= last) {
                violation(time, "Leader Append-Only", "leader " + node + " rewrites index " + entries.get(0).index()
                        + " at or below its last appended index " + last);
            }
            leaderLastAppended.put(node, entries.get(entries.size() - 1).index());
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

    /** Node {@code node}'s commit index moved from {@code before} to {@code after} in one lifetime. */
    void onCommit(long time, long node, long before, long after, RaftLog log) {
        if (after < before) {
            violation(time, "Commit monotonic", "node " + node + " commit went back from " + before + " to " + after);
            return;
        }
        for (long i = Math.max(before + 1, log.firstIndex()); i <= after; i++) {
            long t = log.termOrZero(i);
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

    /** Node {@code node} made commit index {@code commit} durable. */
    void onDurableCommit(long time, long node, long commit) {
        Long before = durableCommit.put(node, commit);
        if (before != null && commit < before) {
            violation(time, "Commit monotonic across restarts", "node " + node + " durable commit went back from "
                    + before + " to " + commit);
        }
    }

    /** Node {@code node} applied {@code e} right after {@code appliedBefore}. */
    void onApply(long time, long node, long appliedBefore, Entry e) {
        if (e.index() != appliedBefore + 1) {
            violation(time, "Applied monotonic", "node " + node + " applied " + e.id() + " after " + appliedBefore);
        }
        long[] seen = appliedAt.putIfAbsent(e.index(), new long[] {e.term(), hash(e)});
        if (seen != null && (seen[0] != e.term() || seen[1] != hash(e))) {
            violation(time, "State Machine Safety", "node " + node + " applied " + e.id()
                    + " where another node applied term " + seen[0]);
        }
    }

    void onConvergenceFailure(long time, String detail) {
        violation(time, "Convergence", detail);
    }

    void onLinearizabilityFailure(String detail) {
        violation(-1, "Linearizability", detail);
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
