package dev.raftkit.jepsen.real;

import dev.raftkit.core.ReadMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One run's settings.
 *
 * @param nodes           cluster size (3 or 5 are the interesting ones)
 * @param duration        how long the workload and the nemesis run
 * @param nemeses         fault kinds ({@link Nemesis#KINDS}); empty for none
 * @param seed            seeds the nemesis schedule and the workload's choices
 * @param reads           read modes each read draws one of, uniformly; {@link ReadMode#STALE} reads a random
 *                        node with no minimum index (unsafe on purpose: the checker must say INVALID
 *                        under partitions)
 * @param clients         client threads
 * @param clientsPerGroup clients sharing one group of keys (Jepsen's "independent" groups)
 * @param activeKeys      keys a group works on at once
 * @param opsPerKey       operations after which a key retires and a fresh one replaces it (keeps
 *                        each key's history small enough for the checker)
 * @param opTimeout       client timeout per operation (then: indeterminate write, failed read)
 * @param reportDir       where the report goes (created; must not hold a previous report)
 * @param sm              the state machine and its workload: {@value #KV} (registers: writes, reads
 *                        and CAS, checked for linearizability) or {@value #SQL} (list-append
 *                        transactions on the SQL state machine, checked by
 *                        {@link dev.raftkit.jepsen.txn.TxnChecker}); the node command must start
 *                        nodes of the same kind
 */
public record JepsenOptions(int nodes, Duration duration, List<String> nemeses, long seed, List<ReadMode> reads, int clients,
                            int clientsPerGroup, int activeKeys, int opsPerKey, Duration opTimeout, Path reportDir,
                            String sm) {

    /** {@link #sm()}: the key-value store and its register workload. */
    public static final String KV = "kv";
    /** {@link #sm()}: the SQL state machine and its list-append transaction workload. */
    public static final String SQL = "sql";

    public JepsenOptions {
        if (!KV.equals(sm) && !SQL.equals(sm)) {
            throw new IllegalArgumentException("--sm must be " + KV + " or " + SQL + ", got '" + sm + "'");
        }
        nemeses = List.copyOf(nemeses);
        reads = List.copyOf(reads);
        if (reads.isEmpty()) {
            throw new IllegalArgumentException("--reads must name at least one read mode");
        }
        if (nodes < 1 || nodes > 9) {
            throw new IllegalArgumentException("--nodes must be 1..9, got " + nodes);
        }
        if (duration.isNegative() || duration.isZero() || duration.toHours() > 24) {
            throw new IllegalArgumentException("--time must be positive and at most 24 h, got " + duration);
        }
        if (clients < 1 || clients > 200 || clientsPerGroup < 1 || activeKeys < 1 || opsPerKey < 1) {
            throw new IllegalArgumentException("clients (1..200), clients per group, active keys and ops per key "
                    + "must be positive; got " + clients + ", " + clientsPerGroup + ", " + activeKeys + ", " + opsPerKey);
        }
    }

    /** A key-value run ({@link #KV}). */
    public JepsenOptions(int nodes, Duration duration, List<String> nemeses, long seed, List<ReadMode> reads, int clients,
                         int clientsPerGroup, int activeKeys, int opsPerKey, Duration opTimeout, Path reportDir) {
        this(nodes, duration, nemeses, seed, reads, clients, clientsPerGroup, activeKeys, opsPerKey, opTimeout, reportDir,
                KV);
    }

    /** These options with state machine {@code sm} ({@link #KV} or {@link #SQL}). */
    public JepsenOptions withSm(String sm) {
        return new JepsenOptions(nodes, duration, nemeses, seed, reads, clients, clientsPerGroup, activeKeys, opsPerKey,
                opTimeout, reportDir, sm);
    }

    /** True for a {@link #SQL} run. */
    public boolean sql() {
        return SQL.equals(sm);
    }

    /** Defaults: 20 clients in groups of 10, 5 active keys per group, 100 ops per key, 2 s timeout. */
    public static JepsenOptions of(int nodes, Duration duration, List<String> nemeses, long seed, List<ReadMode> reads,
                                   Path reportDir) {
        return new JepsenOptions(nodes, duration, nemeses, seed, reads, 20, 10, 5, 100, Duration.ofSeconds(2),
                reportDir);
    }
}
