package dev.raftkit.core.quorum;

/** How far each voter has acknowledged something (a log index, a heartbeat round); 0 if unknown. */
@FunctionalInterface
public interface AckedIndexer {
    long acked(long voterId);
}
