package dev.raftkit.core;

/**
 * Receives protocol decisions as they happen, for people studying a run (the simulator writes them
 * to its trace). Called synchronously on the thread that steps the node; must not call back into it.
 */
@FunctionalInterface
public interface Tracer {

    Tracer NONE = (node, kind, detail) -> { };

    /**
     * @param node   the node deciding
     * @param kind   a short stable name: {@code vote-granted}, {@code vote-refused}, {@code role},
     *               {@code conf-applied}, {@code conf-rejected}, {@code transfer-aborted}, …
     * @param detail human-readable details (who, term, reason)
     */
    void event(long node, String kind, String detail);
}
