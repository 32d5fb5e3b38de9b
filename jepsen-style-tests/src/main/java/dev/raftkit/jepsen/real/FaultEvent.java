package dev.raftkit.jepsen.real;

/**
 * One entry of the nemesis timeline, in the history's clock ({@link System#nanoTime()}).
 *
 * @param kind        kill, pause, partition or disk
 * @param description what exactly was done, to whom, and how it ended (restart outcome, replacements)
 * @param startNanos  when the fault began
 * @param endNanos    when it was healed
 */
public record FaultEvent(String kind, String description, long startNanos, long endNanos) {
}
