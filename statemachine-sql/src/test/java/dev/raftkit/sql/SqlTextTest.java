package dev.raftkit.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link SqlText}: where a shell's statements end, and which of them are reads. */
class SqlTextTest {

    @Test
    void aScriptIsCompleteOnlyAtTheSemicolonThatEndsAStatement() {
        assertTrue(SqlText.complete("SELECT 1;"));
        assertTrue(SqlText.complete("SELECT 1;  -- trailing comment\n"));
        assertTrue(SqlText.complete("INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n"));
        assertFalse(SqlText.complete("SELECT 1"));
        assertFalse(SqlText.complete("SELECT 1; SELECT 2"));
        assertFalse(SqlText.complete("INSERT INTO t VALUES ('a;\n"), "a ; inside an open string does not end it");
        assertFalse(SqlText.complete("   \n-- only a comment\n"));
        String trigger = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE u SET n = n + 1;\n";
        assertFalse(SqlText.complete(trigger), "a ; inside the trigger body does not end the statement");
        assertTrue(SqlText.complete(trigger + "END;"));
    }

    @Test
    void splitGivesEachStatementWithoutItsSemicolon() {
        assertEquals(List.of("CREATE TABLE t (a TEXT)", "INSERT INTO t VALUES ('x;y')", "SELECT * FROM t"),
                SqlText.split("CREATE TABLE t (a TEXT); INSERT INTO t VALUES ('x;y');\n; SELECT * FROM t"));
        assertEquals(List.of(), SqlText.split(" ;; -- nothing\n"));
        assertThrows(SqlRefusedException.class, () -> SqlText.split("SELECT 'open"));
    }

    @Test
    void readsAreTheStatementsThatCannotChangeTheDatabase() {
        for (String read : new String[] {"SELECT 1", "select * from t", "VALUES (1)", "EXPLAIN SELECT 1", "SHOW BACKUPS",
                "WITH c AS (SELECT 1 AS x) SELECT replace(x, 1, 2) FROM c",
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT i FROM n"}) {
            assertTrue(SqlText.isRead(read), read);
            assertFalse(SqlText.changesRows(read), read);
        }
        for (String write : new String[] {"INSERT INTO t VALUES (1)", "update t set a = 1", "DELETE FROM t",
                "REPLACE INTO t VALUES (1)", "WITH c AS (SELECT 1 AS x) INSERT INTO t SELECT x FROM c"}) {
            assertFalse(SqlText.isRead(write), write);
            assertTrue(SqlText.changesRows(write), write);
        }
        for (String other : new String[] {"CREATE TABLE t (a)", "BACKUP TABLE t TO 'b'", "RESTORE TABLE t FROM 'b'",
                "PRAGMA user_version", "BEGIN"}) {
            assertFalse(SqlText.isRead(other), other);
            assertFalse(SqlText.changesRows(other), other);
        }
        assertEquals("CREATE", SqlText.verb("  create table t (a)"));
        assertEquals("", SqlText.verb("(SELECT 1)"));
    }
}
