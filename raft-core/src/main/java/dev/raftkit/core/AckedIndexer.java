package dev.raftkit.core;

/** How far each voter has acknowledged something (a log index, a heartbeat round); 0 if unknown. */
@FunctionalInterface
interface AckedIndexer {
    long acked(long voterId);
}
