package dev.raftkit.jepsen.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.checker.LinearizabilityChecker;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.txn.Mop;
import dev.raftkit.jepsen.txn.SqlListAppend;
import dev.raftkit.jepsen.txn.TxnChecker;
import dev.raftkit.jepsen.txn.TxnHistory;
import dev.raftkit.jepsen.txn.TxnResult;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvStateMachine;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.sql.SqlStateMachine;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Backups as reads: a backup whose state misses a write acknowledged before it began, or holds
 * one never made, makes the history fail its checker; one holding the state at an instant while
 * it ran passes. And the readers read what the state machines hold.
 */
class BackupReadsTest {

    private static final Path DIR = Path.of("/backups/n1/chain/000001-full");

    private static BackupNemesis.Taken taken(long start, long end, String stale) {
        return new BackupNemesis.Taken(1, "full", DIR, 0, 10, start, end, stale);
    }

    private static BackupNemesis.Audit audit(Object state) {
        return new BackupNemesis.Audit(1, 1, 1, 0, List.of(), Map.of(DIR.toAbsolutePath().normalize(), state));
    }

    /** x=1 acknowledged at [0, 10], then x=2 at [100, 110]. */
    private static History kvHistory() {
        return History.builder().write(1, "x", "1", 0, 10).write(1, "x", "2", 100, 110).build();
    }

    @Test
    void aKeyValueBackupHoldingTheStateWhileItRanIsLinearizable() {
        History h = BackupReads.withKv(kvHistory(), List.of(taken(20, 90, null)), audit(Map.of("x", "1")));
        assertEquals(3, h.size());
        assertTrue(LinearizabilityChecker.check(h).isValid());
        // overlapping the second write, it may hold either value
        assertTrue(LinearizabilityChecker.check(BackupReads.withKv(kvHistory(), List.of(taken(50, 105, null)),
                audit(Map.of("x", "2")))).isValid());
    }

    @Test
    void aKeyValueBackupMissingAnAcknowledgedWriteIsNotLinearizable() {
        History lost = BackupReads.withKv(kvHistory(), List.of(taken(120, 130, null)), audit(Map.of("x", "1")));
        assertFalse(LinearizabilityChecker.check(lost).isValid());
        java.util.HashMap<String, String> absent = new java.util.HashMap<>();
        absent.put("x", null);
        assertFalse(LinearizabilityChecker.check(BackupReads.withKv(kvHistory(), List.of(taken(20, 90, null)),
                audit(absent))).isValid());
        History invented = BackupReads.withKv(kvHistory(), List.of(taken(20, 90, null)), audit(Map.of("x", "7")));
        assertFalse(LinearizabilityChecker.check(invented).isValid());
    }

    @Test
    void aStaleBackupMayHoldAnOlderState() {
        // The node got no read index: its state is some state the run had before the answer.
        assertTrue(LinearizabilityChecker.check(BackupReads.withKv(kvHistory(), List.of(taken(120, 130, "no leader")),
                audit(Map.of("x", "1")))).isValid());
    }

    /** Append 1 to x at [0, 10], then 2 at [100, 110]. */
    private static TxnHistory sqlHistory() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(1, 0, 10, new Mop.Append("x", 1));
        b.ok(1, 100, 110, new Mop.Append("x", 2));
        b.ok(1, 200, 210, new Mop.Read("x", List.of(1L, 2L)));
        return b.build();
    }

    @Test
    void aSqlBackupIsCheckedAsAReadOnlyTransaction() {
        TxnResult good = TxnChecker.check(BackupReads.withSql(sqlHistory(), List.of(taken(20, 90, null)),
                audit(Map.of("x", List.of(1L)))));
        assertTrue(good.valid(), good.summary());
        TxnResult lost = TxnChecker.check(BackupReads.withSql(sqlHistory(), List.of(taken(120, 130, null)),
                audit(Map.of("x", List.of(1L)))));
        assertFalse(lost.valid(), "a backup missing an append committed before it began: " + lost.summary());
    }

    @Test
    void readersReadTheStateMachines() throws Exception {
        try (StateMachine kv = new KvStateMachine()) {
            kv.apply(List.of(new StateMachine.Command(1, 1, 0, KvOps.put("x", "1"))));
            Map<String, String> read = BackupReads.readKv(kv, List.of("x", "y"));
            assertEquals("1", read.get("x"));
            assertTrue(read.containsKey("y") && read.get("y") == null);
        }
        try (StateMachine sql = new SqlStateMachine()) {
            assertEquals(Map.of("x", List.of()), BackupReads.readSql(sql, List.of("x")), "no table yet");
            sql.apply(List.of(new StateMachine.Command(1, 1, 0, SqlListAppend.encode(List.of(new Mop.Append("x", 5),
                    new Mop.Append("x", 6))))));
            assertEquals(Map.of("x", List.of(5L, 6L), "y", List.of()), BackupReads.readSql(sql, List.of("x", "y")));
        }
    }
}
