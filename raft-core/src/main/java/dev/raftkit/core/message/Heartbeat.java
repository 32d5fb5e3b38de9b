package dev.raftkit.core.message;

/**
 * The leader's heartbeat (§3.4). {@code commit} is capped at what the follower is known to hold.
 * {@code context} is the leader's heartbeat round number, echoed back so the leader can confirm
 * leadership for ReadIndex (§6.4) and time its lease (§6.4.1).
 */
public record Heartbeat(long from, long to, long term, long commit, long context) implements Message {
}
