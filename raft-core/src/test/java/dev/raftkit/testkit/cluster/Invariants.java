package dev.raftkit.testkit.cluster;

import dev.raftkit.core.RaftCore;
import dev.raftkit.core.Role;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.LogView;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Raft's safety properties (thesis Figure 3.2), checked over a {@link TestCluster} after every
 * step of a test: election safety, log matching, leader completeness, state machine safety, and a
 * commit index that never moves back within one life of a node. The checker remembers what it saw
 * (each term's leader, every entry committed anywhere), so a property broken between two checks is
 * still caught at the next one. {@link #check} throws an {@link AssertionError} naming the property.
 */
public final class Invariants {

    private final Map<Long, Long> leaderOfTerm = new HashMap<>();
    /** Every entry seen committed (in some node's log at or below its commit index, or applied). */
    private final TreeMap<Long, EntryId> committed = new TreeMap<>();
    /** Commit index last seen, per node object (a restart or wipe makes a new one). */
    private final Map<RaftCore, Long> commitSeen = new IdentityHashMap<>();

    /** Checks every property over {@code cluster}; throws naming the first one broken. */
    public void check(TestCluster cluster) {
        List<TestNode> nodes = cluster.nodes();
        Map<Long, Map<Long, Long>> terms = new HashMap<>();
        for (TestNode n : nodes) {
            terms.put(n.id(), termsOf(n.raft().log()));
        }
        for (TestNode n : nodes) {
            RaftCore r = n.raft();
            if (!n.crashed() && r.role() == Role.LEADER) {
                Long other = leaderOfTerm.putIfAbsent(r.term(), n.id());
                if (other != null && other != n.id()) {
                    throw violation("election safety", "nodes " + other + " and " + n.id() + " both lead term " + r.term());
                }
            }
            Long before = commitSeen.put(r, r.committed());
            if (before != null && r.committed() < before) {
                throw violation("commit monotonic", "node " + n.id() + "'s commit index went back from " + before
                        + " to " + r.committed());
            }
            Map<Long, Long> mine = terms.get(n.id());
            for (long i = r.log().firstIndex(); i <= r.committed(); i++) {
                recordCommitted(n.id(), new EntryId(mine.get(i), i), "committed");
            }
            for (Entry e : n.applied()) {
                recordCommitted(n.id(), e.id(), "applied");
            }
        }
        for (int a = 0; a < nodes.size(); a++) {
            for (int b = a + 1; b < nodes.size(); b++) {
                checkLogMatching(nodes.get(a).id(), terms.get(nodes.get(a).id()), nodes.get(b).id(),
                        terms.get(nodes.get(b).id()));
            }
        }
        for (TestNode n : nodes) {
            RaftCore r = n.raft();
            if (n.crashed() || r.role() != Role.LEADER) {
                continue;
            }
            long snapshotIndex = r.log().firstIndex() - 1;
            for (EntryId e : committed.values()) {
                if (e.term() <= r.term() && e.index() > snapshotIndex) {
                    Long held = terms.get(n.id()).get(e.index());
                    if (held == null || held != e.term()) {
                        throw violation("leader completeness", "node " + n.id() + " leads term " + r.term()
                                + " but lacks the committed entry " + e + (held == null ? "" : " (it holds "
                                + new EntryId(held, e.index()) + ")"));
                    }
                }
            }
        }
    }

    private void recordCommitted(long node, EntryId e, String how) {
        EntryId before = committed.putIfAbsent(e.index(), e);
        if (before != null && !before.equals(e)) {
            throw violation("state machine safety", "node " + node + " " + how + " " + e + " where " + before
                    + " was committed");
        }
    }

    /** Log Matching (§3.5): two logs with an entry of the same index and term agree up to it. */
    private static void checkLogMatching(long a, Map<Long, Long> ta, long b, Map<Long, Long> tb) {
        long highestSame = -1;
        for (Map.Entry<Long, Long> e : ta.entrySet()) {
            Long other = tb.get(e.getKey());
            if (other != null && other.equals(e.getValue()) && e.getKey() > highestSame) {
                highestSame = e.getKey();
            }
        }
        for (Map.Entry<Long, Long> e : ta.entrySet()) {
            Long other = tb.get(e.getKey());
            if (e.getKey() < highestSame && other != null && !other.equals(e.getValue())) {
                throw violation("log matching", "nodes " + a + " and " + b + " both hold "
                        + new EntryId(ta.get(highestSame), highestSame) + " but differ at index " + e.getKey()
                        + " (" + e.getValue() + " vs " + other + ")");
            }
        }
    }

    /** Index to term of every entry a node's log view holds (durable and unstable). */
    private static Map<Long, Long> termsOf(LogView log) {
        Map<Long, Long> out = new HashMap<>();
        long first = log.firstIndex();
        long last = log.lastIndex();
        if (first <= last) {
            for (Entry e : log.slice(first, last + 1, Long.MAX_VALUE)) {
                out.put(e.index(), e.term());
            }
        }
        return out;
    }

    private static AssertionError violation(String property, String detail) {
        return new AssertionError("safety invariant '" + property + "' violated: " + detail);
    }
}
