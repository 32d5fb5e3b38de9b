package dev.raftkit.runtime;

import dev.raftkit.core.Role;
import dev.raftkit.core.confchange.ConfState;

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
 */
public record ServerStatus(long id, Role role, long term, long leader, long commit, long applied,
                           long lastIndex, ConfState conf, boolean running, Throwable failure,
                           boolean recovering) {

    public boolean isLeader() {
        return role == Role.LEADER && running;
    }

    /** The role's name while running, {@code STOPPED} once the server stopped (what status reports show). */
    public String state() {
        return running ? role.name() : "STOPPED";
    }
}
