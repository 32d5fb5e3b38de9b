package dev.raftkit.runtime;

import org.slf4j.MDC;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The key-value fields of the runtime's log lines, so a log search can select one node's lines
 * ({@code node=1}), one cluster's ({@code cluster=demo}) and a term, instead of parsing prose.
 *
 * <p>Two mechanisms, because backends differ: the runtime's important lines (start, role
 * changes, disk stall and recovery, fail-stop, dropped misrouted messages) carry the fields as
 * SLF4J 2 key-value pairs, which every SLF4J 2 backend sees (slf4j-simple prints them before the
 * message as {@code node=1 cluster=demo term=3}); and every thread the server creates for itself
 * ({@code raft-loop-<id>}, {@code raft-log-<id>}, …) sets {@value #NODE} and {@value #CLUSTER}
 * in its MDC once at start, so a backend that prints the MDC (logback's {@code %X}, log4j's
 * {@code %X}) tags every line of those threads, including the state machine's own lines on the
 * apply thread. (slf4j-simple, the {@code raftkit} command's backend, keeps no MDC at all: its
 * MDC is a no-op, so the key-value pairs are what it shows.) The cluster of a key-value line comes
 * from the thread too, from a thread-local set beside the MDC, since the stages know only their
 * node id. Executors the embedder injects are the embedder's threads: the runtime leaves them
 * alone, and its lines there carry the node alone.
 */
final class LogFields {

    /** The field (and MDC key) of the node id. */
    static final String NODE = "node";
    /** The field (and MDC key) of the cluster id, when the embedder named it. */
    static final String CLUSTER = "cluster";
    /** The field of the Raft term a line speaks of. */
    static final String TERM = "term";

    /** The cluster of the server that created this thread, set once at the thread's start. */
    private static final ThreadLocal<String> THREAD_CLUSTER = new ThreadLocal<>();

    private LogFields() {
    }

    /**
     * Adds {@code node} and, on a thread the server created with a cluster id, {@code cluster}.
     */
    static LoggingEventBuilder of(LoggingEventBuilder event, long node) {
        return of(event, node, THREAD_CLUSTER.get());
    }

    /** Adds {@code node} and {@code cluster} (left out when null). */
    static LoggingEventBuilder of(LoggingEventBuilder event, long node, String cluster) {
        LoggingEventBuilder e = event.addKeyValue(NODE, node);
        return cluster == null ? e : e.addKeyValue(CLUSTER, cluster);
    }

    /**
     * Wraps {@code task} so that its thread carries the node's (and cluster's) MDC for as long as
     * it runs: set once, since each such thread serves one node for its whole life.
     */
    static Runnable withMdc(Runnable task, long node, String cluster) {
        return () -> {
            MDC.put(NODE, Long.toString(node));
            if (cluster != null) {
                MDC.put(CLUSTER, cluster);
                THREAD_CLUSTER.set(cluster);
            }
            task.run();
        };
    }
}
