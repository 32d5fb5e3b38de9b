package dev.raftkit.jepsen.real;

import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.txn.Mop;
import dev.raftkit.jepsen.txn.SqlListAppend;
import dev.raftkit.jepsen.txn.Txn;
import dev.raftkit.jepsen.txn.TxnHistory;
import dev.raftkit.kv.KvOps;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.sql.SqlRequest;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStatement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Backups as reads: the state restored from each backup the run took, read for the workload's
 * keys and added to the history as one more read (a key-value run: a read of each key; a SQL
 * run: one read-only transaction over every key) by a process of its own, over the interval the
 * backup's admin call was in flight ({@link BackupNemesis.Taken}). A backup must hold the run's
 * state at its index, and that state is the replicated state at some instant while it was taken
 * (the node's read barrier); so the run's own checker — linearizability per key, or the
 * transactional checker with real-time edges — judges every backup with the clients' operations,
 * and a backup that lost an acknowledged write, or holds one never made, is an anomaly there.
 *
 * <p>A stale backup (the node got no read index) is only some state the run had before the
 * backup was answered: its read starts with the history.
 */
final class BackupReads {

    /** Backup reads' processes: {@code BACKUP_PROCESS + i} for the {@code i}th backup taken. */
    static final int BACKUP_PROCESS = 2_000_000;

    private BackupReads() {
    }

    /** Reads {@code keys} from a key-value state machine: key to value, null where absent. */
    static Map<String, String> readKv(StateMachine sm, Collection<String> keys) {
        Map<String, String> out = new HashMap<>();
        for (String k : keys) {
            out.put(k, ClientWorkload.decode(sm.query(KvOps.get(k))));
        }
        return out;
    }

    /**
     * Reads {@code keys}' lists from a SQL state machine running the list-append workload (empty
     * where never appended to, and for every key if no transaction ever created the table).
     */
    static Map<String, List<Long>> readSql(StateMachine sm, Collection<String> keys) {
        Map<String, List<Long>> out = new TreeMap<>();
        List<String> ordered = new ArrayList<>(keys);
        if (ordered.isEmpty()) {
            return out;
        }
        SqlResult exists = SqlResult.decode(sm.query(new SqlRequest.Query(List.of(SqlStatement.of(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", SqlListAppend.TABLE))).encode()));
        if (exists instanceof SqlResult.Ok ok && Long.valueOf(0).equals(ok.statements().get(0).rows().get(0).get(0))) {
            ordered.forEach(k -> out.put(k, List.of()));
            return out;
        }
        List<SqlStatement> reads = new ArrayList<>();
        ordered.forEach(k -> reads.add(SqlStatement.of(SqlListAppend.READ, k)));
        SqlResult r = SqlResult.decode(sm.query(new SqlRequest.Query(reads).encode()));
        if (!(r instanceof SqlResult.Ok ok)) {
            throw new IllegalStateException("the state restored from a backup answered the list-append reads with " + r);
        }
        for (int i = 0; i < ordered.size(); i++) {
            List<Long> values = new ArrayList<>();
            for (List<Object> row : ok.statements().get(i).rows()) {
                values.add((Long) row.get(0));
            }
            out.put(ordered.get(i), List.copyOf(values));
        }
        return out;
    }

    /** {@code history} with a read of every key each backup's restored state holds. */
    @SuppressWarnings("unchecked")
    static History withKv(History history, List<BackupNemesis.Taken> taken, BackupNemesis.Audit audit) {
        History.Builder b = History.builder();
        history.operations().forEach(b::add);
        long first = history.operations().stream().mapToLong(Operation::invokeNanos).min().orElse(0);
        for (int i = 0; i < taken.size(); i++) {
            BackupNemesis.Taken t = taken.get(i);
            Map<String, String> state = (Map<String, String>) audit.stateOf(t.directory());
            if (state == null) {
                continue; // not restored: the audit reported it
            }
            long invoke = t.staleReason() == null ? t.startNanos() : Math.min(first, t.startNanos());
            for (Map.Entry<String, String> e : new TreeMap<>(state).entrySet()) {
                b.read(BACKUP_PROCESS + i, e.getKey(), e.getValue(), invoke, t.endNanos());
            }
        }
        return b.build();
    }

    /** {@code history} with one read-only transaction over every key each backup's restored state holds. */
    @SuppressWarnings("unchecked")
    static TxnHistory withSql(TxnHistory history, List<BackupNemesis.Taken> taken, BackupNemesis.Audit audit) {
        TxnHistory.Builder b = TxnHistory.builder();
        for (Txn t : history.txns()) {
            b.add(t.process(), t.status(), t.invokeNanos(), t.completeNanos(), t.mops());
        }
        long first = history.txns().stream().mapToLong(Txn::invokeNanos).min().orElse(0);
        for (int i = 0; i < taken.size(); i++) {
            BackupNemesis.Taken t = taken.get(i);
            Map<String, List<Long>> state = (Map<String, List<Long>>) audit.stateOf(t.directory());
            if (state == null || state.isEmpty()) {
                continue;
            }
            List<Mop> reads = new ArrayList<>();
            state.forEach((k, v) -> reads.add(new Mop.Read(k, v)));
            long invoke = t.staleReason() == null ? t.startNanos() : Math.min(first, t.startNanos());
            b.add(BACKUP_PROCESS + i, dev.raftkit.jepsen.history.OpStatus.OK, invoke, t.endNanos(), reads);
        }
        return b.build();
    }
}
