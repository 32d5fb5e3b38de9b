package dev.raftkit.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The leader's pending ReadIndex requests (§6.4) and its heartbeat rounds.
 *
 * <p>Every heartbeat broadcast is a numbered round. A read arriving at commit index <i>c</i> is
 * queued with the number of the round broadcast right after it; once a quorum has acknowledged that
 * round (or a later one), the leader was still leader after the read arrived, so <i>c</i> is a safe
 * read index. Acknowledging round <i>r</i> confirms every read queued at or before <i>r</i>, so one
 * answer releases a whole batch.
 *
 * <p>The same rounds time the lease (§6.4.1): a follower that acknowledged round <i>r</i> received
 * it no earlier than it was sent, and with CheckQuorum it then refuses to vote for other candidates
 * for an election timeout. So until (tick <i>r</i> was sent) + electionTicks − drift, no other
 * leader can exist, provided clocks tick at the same rate within the drift.
 */
final class ReadOnly {

    /** A read waiting for round {@code round} to be confirmed; {@code requester} 0 for none. */
    public record Request(long requester, long requestId, long index, long round) {
    }

    private final ArrayDeque<Request> pending = new ArrayDeque<>();
    private final TreeMap<Long, Long> roundSentAt = new TreeMap<>();
    private long round;

    /** Starts a new heartbeat round at local tick {@code now}; forgets rounds too old to matter. */
    public long nextRound(long now, long horizonTicks) {
        round++;
        roundSentAt.put(round, now);
        while (!roundSentAt.isEmpty() && roundSentAt.firstEntry().getValue() < now - horizonTicks) {
            roundSentAt.pollFirstEntry();
        }
        return round;
    }

    public long currentRound() {
        return round;
    }

    public void add(Request r) {
        pending.addLast(r);
    }

    /** Removes and returns every request confirmed by a quorum acknowledging {@code confirmedRound}. */
    public List<Request> release(long confirmedRound) {
        List<Request> out = new ArrayList<>();
        while (!pending.isEmpty() && pending.peekFirst().round() <= confirmedRound) {
            out.add(pending.pollFirst());
        }
        return out;
    }

    /** True if the lease confirmed by a quorum acknowledging {@code quorumRound} still holds at {@code now}. */
    public boolean leaseValid(long quorumRound, long now, int electionTicks, int driftTicks) {
        Long sent = roundSentAt.get(quorumRound);
        return sent != null && now < sent + electionTicks - driftTicks;
    }

    public boolean hasPending() {
        return !pending.isEmpty();
    }

    /** Drops every pending request and round (leadership lost; the requests will time out). */
    public void reset() {
        pending.clear();
        roundSentAt.clear();
    }
}
