package dev.raftkit.cli.demo;

import dev.raftkit.cli.node.StateMachineKind;
import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * The guided tours behind {@code raftkit demo}: three nodes in this process, over real gRPC on
 * loopback with fsync'd logs, narrated step by step with timings; the key-value tour
 * ({@link KvTour}) or the SQL tour ({@link SqlTour}), both on one {@link DemoCluster}; or the
 * backup tour ({@link BackupTour}), on three.
 */
public final class Demo {

    private Demo() {
    }

    /**
     * Runs the tour of {@code kind}, narrating to {@code out}; stops every node it started,
     * whatever happens.
     *
     * @param dataDir where the nodes keep their logs and snapshots (and the backups)
     * @param writes  writes per batch (key-value), rows inserted while the leader is killed (SQL)
     * @return the summary line
     * @throws Exception (a runtime exception saying what) if the tour found a problem
     */
    public static String run(PrintWriter out, Path dataDir, StateMachineKind kind, int writes) throws Exception {
        try (DemoCluster cluster = new DemoCluster(out, dataDir, kind)) {
            return kind == StateMachineKind.SQL ? new SqlTour(cluster, writes).run() : new KvTour(cluster, writes).run();
        }
    }

    /**
     * Runs the backup tour ({@code raftkit demo --tour backups}, {@link BackupTour}), narrating to
     * {@code out}: a key-value cluster and two SQL clusters, each of three nodes with backup roots
     * under {@code dataDir}, every node stopped whatever happens.
     *
     * @param writes keys in each batch written between backups
     * @return the summary line
     * @throws Exception (a runtime exception naming the step, what it expected and what it saw) if a step did not hold
     */
    public static String backupTour(PrintWriter out, Path dataDir, int writes) throws Exception {
        return new BackupTour(out, dataDir, writes).run();
    }
}
