package dev.raftkit.core.message;

/** The reply to a {@link Heartbeat}, echoing its round number. */
public record HeartbeatResponse(long from, long to, long term, long context) implements Message {
}
