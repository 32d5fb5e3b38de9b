package dev.raftkit.sql.examples;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.ReadMode;
import dev.raftkit.node.RaftNode;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStateMachine;
import dev.raftkit.sql.SqlStatement;
import dev.raftkit.testkit.docs.DocSnippets;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the opening example of docs/sql.md compiling, working and identical to the page: a durable
 * one-node {@link SqlStateMachine} server from main artifacts ({@code sql-server:} markers), then a
 * table created, two rows inserted in one transaction and read back ({@code sql-ops:}).
 */
class SqlGuideExampleTest {

    private static final Path SOURCE = Path.of("src/test/java/dev/raftkit/sql/examples/SqlGuideExampleTest.java");
    private static final Path PAGE = Path.of("../docs/sql.md");

    @TempDir
    Path dir;

    @Test
    void createInsertInOneTransactionAndQuery() throws Exception {
        // sql-server:start
        RaftNode node = RaftNode.builder("sql", 1)      // the node `raftkit server` runs
                .dataDir(dir)                             // fsync'd log and snapshots under it
                .bootstrap(Set.of(1L))
                .stateMachine(new SqlStateMachine())
                .start();
        RaftServer server = node.server();
        // sql-server:end
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> server.status().isLeader());
            // sql-ops:start
            ClientSession session = server.newSession().get(5, SECONDS);

            SqlOps.ok(session.submit(SqlOps.execute(
                    "CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT)")).get(5, SECONDS));
            SqlOps.ok(session.submit(SqlOps.execute(
                    SqlStatement.of("INSERT INTO example VALUES (?, ?, ?)", 1, "ada", 36),
                    SqlStatement.of("INSERT INTO example VALUES (?, ?, ?)", 2, "grace", 45))).get(5, SECONDS));   // one transaction
            SqlResult.Rows rows = SqlOps.ok(server.read(SqlOps.query("SELECT * FROM example"), ReadMode.LINEARIZABLE)
                    .get(5, SECONDS)).last();
            String table = SqlOps.table(rows);                 // the rows as a text table
            // sql-ops:end

            assertEquals(List.of("id", "name", "age"), rows.columns().stream().map(SqlResult.Column::name).toList());
            assertEquals(List.of(List.of(1L, "ada", 36L), List.of(2L, "grace", 45L)), rows.rows());
            assertTrue(table.contains("ada") && table.contains("grace"), table);
        } finally {
            node.close();
        }
    }

    @Test
    void theDocumentationShowsExactlyTheTestedCode() throws IOException {
        DocSnippets.assertShown(PAGE, DocSnippets.between(SOURCE, "sql-server"));
        DocSnippets.assertShown(PAGE, DocSnippets.between(SOURCE, "sql-ops"));
    }
}
