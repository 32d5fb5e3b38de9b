package dev.raftkit.core.message;

/** Tells a caught-up follower to start an election at once (leadership transfer, §3.10). */
public record TimeoutNow(long from, long to, long term) implements Message {
    @Override
    public Kind kind() {
        return Kind.TIMEOUT_NOW;
    }
}
