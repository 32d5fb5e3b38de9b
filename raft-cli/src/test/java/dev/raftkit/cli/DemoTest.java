package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo runs in the default build through the same command a user types, so it never rots. */
class DemoTest {

    @Test
    void theTourSucceedsAndNarratesEveryStep(@TempDir Path dir) throws Exception {
        CliRun run = CliRun.of("demo", "--data", dir.resolve("demo").toString(), "--writes", "200");
        String text = run.out();
        assertEquals(0, run.exit(), run.all());
        for (String step : new String[] {"Election: node", "Failover: node", "none lost", "Full backup from follower",
                "incremental backup: entries", "Verified the backup chain", "seeded from the backup chain", "promoted to voter", "Cluster back: node"}) {
            assertTrue(text.contains(step), "missing step '" + step + "' in:\n" + text);
        }
        String[] lines = text.strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("demo ok: 500 writes acknowledged, 0 lost"), lines[lines.length - 1]);
        assertTrue(Files.exists(dir.resolve("demo/backups")));
    }

    @Test
    void theSqlTourRestoresTheBackedUpRowsAndLosesNothingWhenTheLeaderIsKilled(@TempDir Path dir) throws Exception {
        CliRun run = CliRun.of("demo", "--sm", "sql", "--data", dir.resolve("demo").toString(), "--writes", "40");
        String text = run.out();
        assertEquals(0, run.exit(), run.all());
        String table = """
                id | name  | age
                ---+-------+----
                 1 | Alice |  30
                 2 | Bob   |  25
                 3 | Carol |  41
                (3 rows)
                """;
        // The rows are shown after the inserts and again after the restore, the same.
        int first = text.indexOf("sql> SELECT * FROM example ORDER BY id;\n" + table);
        int restore = text.indexOf("sql> RESTORE TABLE example FROM 'example_backup';");
        assertTrue(first > 0 && restore > first, text);
        assertTrue(text.indexOf("sql> SELECT * FROM example ORDER BY id;\n" + table, restore) > restore, text);
        for (String step : new String[] {"sql> CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT);\nok\n",
                "sql> BACKUP TABLE example TO 'example_backup';\nbackup         | table   | rows | log_index\n",
                "sql> DELETE FROM example WHERE id = 2;\n1 row changed\n", "is killed abruptly half-way", "Failover: node",
                "all 40 acknowledged rows are there, none lost", "exactly the 3 rows backed up at log index",
                "restarted from its own log"}) {
            assertTrue(text.contains(step), "missing step '" + step + "' in:\n" + text);
        }
        String[] lines = text.strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("demo ok (sql): 40 rows inserted with the leader killed half-way,"
                + " 0 lost;"), lines[lines.length - 1]);
    }

    @Test
    void theBackupTourChecksEveryStep(@TempDir Path dir) throws Exception {
        CliRun run = CliRun.of("demo", "--tour", "backups", "--data", dir.resolve("demo").toString(), "--writes", "200");
        String text = run.out();
        assertEquals(0, run.exit(), run.all());
        for (String step : new String[] {"$ raftkit backup full --dir tour --node ", "full backup by node",
                "$ raftkit backup incremental --dir tour", "incremental backup by node",
                "$ raftkit backup differential --dir tour", "differential backup by node",
                "(full + differential; the incremental is skipped)", "state digest matches",
                "checked: 2 of 2 digests compared and equal", "checked: the copy is refused, naming",
                "$ raftkit restore --live --from tour", "the cluster switched at index",
                "is gone;", "checked: restored to index", "restored up to index",
                "sql A> BACKUP TABLE example TO 'example_backup';",
                "sql B> RESTORE TABLE example FROM FILE '",
                "checked: cluster B holds exactly the 3 rows cluster A backed up",
                "checked: a damaged copy of the artifact is refused by name"}) {
            assertTrue(text.contains(step), "missing step '" + step + "' in:\n" + text);
        }
        // Exactly the backed-up rows, shown on cluster B after the restore.
        String table = """
                  id | name  | age
                  ---+-------+----
                   1 | Alice |  30
                   2 | Bob   |  25
                   3 | Carol |  41
                  (3 rows)
                """;
        int restore = text.indexOf("sql B> RESTORE TABLE example FROM FILE '");
        assertTrue(text.indexOf("sql B> SELECT * FROM example ORDER BY id;\n" + table, restore) > restore, text);
        for (int step = 1; step <= 6; step++) {
            assertTrue(text.contains("s] " + step + ". "), "missing the header of step " + step + " in:\n" + text);
        }
        String[] lines = text.strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("demo ok (backups): "), lines[lines.length - 1]);
        // The damaged files were copies: the real chain and artifact are intact.
        assertTrue(Files.exists(dir.resolve("demo/damaged-copy")));
    }

    @Test
    void anUnknownTourIsRefused() {
        CliRun run = CliRun.of("demo", "--tour", "fireworks");
        assertEquals(2, run.exit(), run.all());
        assertTrue(run.err().contains("--tour: unknown tour 'fireworks'; use backups"), run.all());
        CliRun withSm = CliRun.of("demo", "--tour", "backups", "--sm", "sql");
        assertEquals(2, withSm.exit(), withSm.all());
        assertTrue(withSm.err().contains("--sm does not go with --tour backups"), withSm.all());
    }

    @Test
    void anUnknownStateMachineIsRefused() {
        CliRun run = CliRun.of("demo", "--sm", "graph");
        assertEquals(2, run.exit(), run.all());
        assertTrue(run.err().contains("--sm: unknown state machine 'graph'; use kv or sql"), run.all());
    }

    @Test
    void aNonEmptyDataDirectoryIsRefused(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("precious.txt"), "keep me");
        CliRun run = CliRun.of("demo", "--data", dir.toString());
        assertEquals(2, run.exit());
        assertTrue(run.err().contains("is not empty"), run.all());
        assertEquals("keep me", Files.readString(dir.resolve("precious.txt")));
    }
}
