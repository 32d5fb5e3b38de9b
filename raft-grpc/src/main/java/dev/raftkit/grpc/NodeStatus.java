package dev.raftkit.grpc;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.Role;
import dev.raftkit.grpc.proto.FollowerStatus;
import dev.raftkit.grpc.proto.StatusResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One node's status as it answered {@link RaftClient#status(long)}: a snapshot, possibly slightly
 * stale by the time it arrives. Immutable. The client-side twin of the server's
 * {@link dev.raftkit.runtime.ServerStatus}.
 *
 * @param nodeId        the id of the node that answered
 * @param role          its role; {@link Role#FOLLOWER} once it stopped (see {@code running})
 * @param term          its current term
 * @param leaderId      the leader it knows of, 0 if none
 * @param commitIndex   the highest log index it knows to be committed
 * @param appliedIndex  the highest index its state machine has applied
 * @param lastIndex     the last index of its log
 * @param voters        the voters of the configuration as of {@code appliedIndex}, in the order the
 *                      node listed them
 * @param learners      the learners of that configuration (they receive the log but do not vote)
 * @param leaderAddress the leader's client address ({@code HOST:PORT}) if the node knows it, else null
 * @param running       false once the node's server stopped after a fault (its client port stays up)
 * @param recovering    the node started without its durable state (wiped, or new) and has not been
 *                      caught up by a leader yet: it neither votes nor counts toward commits (§3.8)
 * @param version       Raftkit's version on the node, null if it did not say (an older server)
 * @param uptime        how long the node's server has run
 * @param snapshotIndex the index of the newest snapshot the node stored, 0 if none
 * @param logBytes      the bytes its log takes on disk, -1 if unknown
 * @param followers     on a running leader, its view of every other member, by id; empty otherwise
 */
public record NodeStatus(long nodeId, Role role, long term, long leaderId, long commitIndex, long appliedIndex,
                         long lastIndex, List<Long> voters, List<Long> learners, String leaderAddress,
                         boolean running, boolean recovering, String version, Duration uptime,
                         long snapshotIndex, long logBytes, List<Follower> followers) {

    /** Checks the arguments and copies the lists. */
    public NodeStatus {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(uptime, "uptime");
        voters = List.copyOf(voters);
        learners = List.copyOf(learners);
        followers = List.copyOf(followers);
    }

    /**
     * A leader's view of one other member, as the leader answered.
     *
     * @param nodeId     the member
     * @param match      the highest index the leader knows it holds
     * @param lag        entries it is behind the leader's last index
     * @param live       the leader heard from it within the last election timeout
     * @param recovering it said it is recovering lost state (it neither votes nor counts yet)
     * @param learner    it is a learner
     */
    public record Follower(long nodeId, long match, long lag, boolean live, boolean recovering, boolean learner) {
    }

    /** This leader's view of member {@code id}, or null if it has none (not a leader, or not a member). */
    public Follower follower(long id) {
        for (Follower f : followers) {
            if (f.nodeId() == id) {
                return f;
            }
        }
        return null;
    }

    /** True if the node leads and is running. */
    public boolean isLeader() {
        return role == Role.LEADER && running;
    }

    /**
     * The role's name while running, {@code STOPPED} once stopped: what {@code raftkit status} shows,
     * as {@link dev.raftkit.runtime.ServerStatus#state()}.
     */
    public String state() {
        return running ? role.name() : "STOPPED";
    }

    /**
     * Decodes a node's answer.
     *
     * @throws RaftException with reason {@code UNSUPPORTED} if the role is not one this client knows
     */
    static NodeStatus fromProto(StatusResponse r) {
        String state = r.getRole().toUpperCase(Locale.ROOT);
        Role role;
        if (state.equals("STOPPED")) {
            role = Role.FOLLOWER;
        } else {
            try {
                role = Role.valueOf(state);
            } catch (IllegalArgumentException e) {
                throw new RaftException(RaftException.Reason.UNSUPPORTED, 0, "node " + r.getNodeId() + " answered the status"
                        + " call with an unknown role '" + r.getRole() + "' (a newer server?)", e);
            }
        }
        boolean running = r.getRunning() && !state.equals("STOPPED");
        List<Follower> followers = new ArrayList<>();
        for (FollowerStatus f : r.getFollowersList()) {
            followers.add(new Follower(f.getNodeId(), f.getMatchIndex(), f.getLag(), f.getLive(), f.getRecovering(),
                    f.getLearner()));
        }
        // An older server sends neither version nor log size: proto3 defaults them to "" and 0,
        // which would read as a real log of 0 bytes, so "" (no version) marks the size unknown too.
        boolean old = r.getVersion().isEmpty() && r.getLogBytes() == 0;
        return new NodeStatus(r.getNodeId(), role, r.getTerm(), r.getLeaderId(), r.getCommitIndex(),
                r.getAppliedIndex(), r.getLastIndex(), r.getVotersList(), r.getLearnersList(),
                r.getLeaderAddress().isEmpty() ? null : r.getLeaderAddress(), running, r.getRecovering(),
                r.getVersion().isEmpty() ? null : r.getVersion(), Duration.ofMillis(r.getUptimeMillis()),
                r.getSnapshotIndex(), old ? -1 : r.getLogBytes(), followers);
    }
}
