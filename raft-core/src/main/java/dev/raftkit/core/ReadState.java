package dev.raftkit.core;

/**
 * The answer to a ReadIndex request (§6.4): once the state machine has applied {@code index}, a
 * read issued with {@code requestId} may be served from it and is linearizable.
 */
public record ReadState(long requestId, long index) {
}
