package dev.raftkit.core.message;

/** The leader's answer to a forwarded read: serve it once {@code index} is applied. */
public record ReadIndexResponse(long from, long to, long term, long requestId, long index) implements Message {
    @Override
    public Kind kind() {
        return Kind.READ_INDEX_RESPONSE;
    }
}
