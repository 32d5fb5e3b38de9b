package dev.raftkit.runtime;

import dev.raftkit.core.Role;
import dev.raftkit.core.confchange.ConfState;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * A cheap, possibly slightly stale view of a server, readable from any thread.
 *
 * @param role      the node's role; {@link Role#FOLLOWER} once the server stopped (it leads nothing)
 * @param leader    the leader this node knows of, 0 if none or once the server stopped
 * @param applied   the last index the state machine applied
 * @param conf      the configuration as of {@code applied}
 * @param running   false once the server stopped (see {@code failure})
 * @param failure   why the server stopped after a fault, or null
 * @param recovering the node started with no durable state (or lost part of it) and has not yet
 *                   caught up from a leader: it grants no vote and counts toward no commit (§3.8)
 * @param snapshotIndex the index of the newest snapshot this node stored (taken, installed from a
 *                   leader, or restored at start), 0 if none
 * @param logBytes  the bytes its log takes ({@link dev.raftkit.spi.LogStorage#sizeBytes()}), -1 if
 *                   the log storage does not know
 * @param uptime    how long ago the server was built, by its clock
 * @param followers on a running leader, its view of every other member by id (refreshed every tick);
 *                   empty on any other node
 */
public record ServerStatus(long id, Role role, long term, long leader, long commit, long applied,
                           long lastIndex, ConfState conf, boolean running, Throwable failure,
                           boolean recovering, long snapshotIndex, long logBytes, Duration uptime,
                           Map<Long, Follower> followers) {

    /** Checks the arguments and copies the map. */
    public ServerStatus {
        Objects.requireNonNull(uptime, "uptime");
        followers = Map.copyOf(followers);
    }

    /**
     * A leader's view of one other member.
     *
     * @param id         the member
     * @param match      the highest index the leader knows it holds
     * @param lag        entries it is behind the leader's last index ({@code lastIndex - match})
     * @param live       the leader heard from it within the last election timeout
     * @param recovering it said it is recovering lost state (it neither votes nor counts yet)
     * @param learner    it is a learner (it receives the log but does not vote)
     */
    public record Follower(long id, long match, long lag, boolean live, boolean recovering, boolean learner) {
    }

    public boolean isLeader() {
        return role == Role.LEADER && running;
    }

    /** The role's name while running, {@code STOPPED} once the server stopped (what status reports show). */
    public String state() {
        return running ? role.name() : "STOPPED";
    }
}
