package dev.raftkit.cli.demo;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.cli.sql.SqlClient;
import dev.raftkit.cli.sql.SqlFormat;
import dev.raftkit.core.ReadMode;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The SQL tour of {@code raftkit demo --sm sql}: the statements of the product's origin story on a
 * 3-node replicated SQLite cluster (a table, rows, {@code BACKUP TABLE}, changes, {@code RESTORE
 * TABLE}), with the leader killed while rows are being inserted; then checks that every
 * acknowledged row is there, that the restore brought back exactly the backed-up rows, and that
 * every node, the killed one restarted from its own log included, holds the same database.
 */
final class SqlTour {

    /** Rows inserted while the leader is killed get ids from here up. */
    private static final int FIRST_BULK_ID = 1000;
    private static final int IN_FLIGHT = 32;

    private final DemoCluster cluster;
    private final int bulkRows;
    private SqlClient sql;

    /** @param bulkRows rows inserted, {@value #IN_FLIGHT} at a time, while the leader is killed half-way */
    SqlTour(DemoCluster cluster, int bulkRows) {
        this.cluster = cluster;
        this.bulkRows = bulkRows;
    }

    /** Runs the tour; returns the summary line, or throws saying what went wrong. */
    String run() throws Exception {
        cluster.say("Starting 3 SQL nodes (SQLite, one per node) on 127.0.0.1 with fsync'd logs in %s",
                cluster.dataDir());
        cluster.startFounders();
        sql = new SqlClient(cluster.client(), ReadMode.LINEARIZABLE);
        long leader = cluster.awaitLeader(0);
        cluster.say("Election: node %d leads (elected %d ms after start)", leader, cluster.millisSinceStart());

        sql("CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT);");
        sql("INSERT INTO example VALUES (1, 'Alice', 30);");
        sql("INSERT INTO example VALUES (2, 'Bob', 25);");
        sql("INSERT INTO example VALUES (3, 'Carol', 41);");
        SqlResult.Rows backedUp = sql("SELECT * FROM example ORDER BY id;");
        SqlResult.Rows backup = sql("BACKUP TABLE example TO 'example_backup';");
        long backupIndex = (Long) backup.value(0, 3);
        sql("UPDATE example SET age = age + 1 WHERE id = 1;");
        sql("DELETE FROM example WHERE id = 2;");
        sql("INSERT INTO example VALUES (4, 'Dave', 52);");

        long killed = cluster.awaitLeader(0);
        cluster.say("Inserting %,d more rows, %d in flight; the leader, node %d, is killed abruptly half-way",
                bulkRows, IN_FLIGHT, killed);
        long t = System.nanoTime();
        long[] killedAt = new long[1];
        int acknowledged = insertRows(() -> {
            killedAt[0] = System.nanoTime();
            cluster.kill(killed);
        });
        long newLeader = cluster.awaitLeader(killed);
        cluster.say("Failover: node %d elected leader %d ms after the kill; all %,d inserts acknowledged in %d ms"
                + " (the client retried those in flight, each applied exactly once)", newLeader,
                DemoCluster.millisSince(killedAt[0]), acknowledged, DemoCluster.millisSince(t));

        SqlResult.Rows bulk = sql("SELECT count(*) AS inserted, min(id), max(id) FROM example WHERE id >= "
                + FIRST_BULK_ID + ";");
        long found = (Long) bulk.value(0, 0);
        if (found != bulkRows) {
            throw new IllegalStateException((bulkRows - found) + " of " + bulkRows
                    + " acknowledged inserts are missing after the failover");
        }
        cluster.say("Checked with a linearizable read: all %,d acknowledged rows are there, none lost", bulkRows);

        sql("RESTORE TABLE example FROM 'example_backup';");
        SqlResult.Rows restored = sql("SELECT * FROM example ORDER BY id;");
        if (!restored.rows().equals(backedUp.rows())) {
            throw new IllegalStateException("RESTORE TABLE gave " + restored.rows() + ", not the backed-up rows "
                    + backedUp.rows());
        }
        cluster.say("The table holds exactly the %d rows backed up at log index %d", restored.rows().size(),
                backupIndex);

        Map<Long, StateMachineKind.Digest> survivors = cluster.awaitConverged();
        cluster.say("Surviving nodes %s hold the same database (digest %s)", survivors.keySet(),
                survivors.values().iterator().next().shortHex());
        t = System.nanoTime();
        cluster.start(killed);
        Map<Long, StateMachineKind.Digest> all = cluster.awaitConverged();
        cluster.say("Node %d restarted from its own log (its SQLite database is rebuilt by replaying the log) and"
                + " caught up in %d ms", killed, DemoCluster.millisSince(t));
        all.forEach((id, d) -> cluster.say("  node %d database digest %s (applied index %d)", id, d.shortHex(),
                d.appliedIndex()));
        String digest = all.values().iterator().next().hex();
        if (!digest.equals(survivors.values().iterator().next().hex())) {
            throw new IllegalStateException("the database changed when node " + killed + " came back");
        }
        return String.format("demo ok (sql): %,d rows inserted with the leader killed half-way, 0 lost; RESTORE TABLE"
                + " brought back the %d backed-up rows; digests equal on all 3 nodes, the restarted one included"
                + " (%.1f s)", bulkRows, backedUp.rows().size(), cluster.secondsSinceStart());
    }

    /** Prints and runs one statement as the shell would; returns its rows. */
    private SqlResult.Rows sql(String statement) {
        cluster.print("sql> " + statement + "\n");
        SqlResult.Rows rows = sql.run(statement).last();
        cluster.print(SqlFormat.result(statement, rows));
        return rows;
    }

    /**
     * Inserts the bulk rows, {@value #IN_FLIGHT} in flight, calling {@code halfWay} once half of
     * them have been sent (with the last window still in flight); returns how many were acknowledged.
     */
    private int insertRows(Runnable halfWay) {
        AtomicInteger acknowledged = new AtomicInteger();
        List<CompletableFuture<Void>> inFlight = new ArrayList<>();
        for (int i = 0; i < bulkRows; i++) {
            int id = FIRST_BULK_ID + i;
            byte[] insert = SqlOps.execute(SqlStatement.of("INSERT INTO example VALUES (?, ?, ?)", id, "row-" + id,
                    20 + i % 50));
            inFlight.add(cluster.client().submitAsync(insert).thenAccept(r -> {
                SqlOps.ok(r); // an error result (a duplicate applied twice, say) fails the tour
                acknowledged.incrementAndGet();
            }));
            if (i == bulkRows / 2) {
                halfWay.run();
            }
            if (inFlight.size() == IN_FLIGHT) {
                inFlight.forEach(CompletableFuture::join);
                inFlight.clear();
            }
        }
        inFlight.forEach(CompletableFuture::join);
        return acknowledged.get();
    }
}
