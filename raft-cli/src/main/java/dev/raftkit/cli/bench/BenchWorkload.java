package dev.raftkit.cli.bench;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvResult;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStatement;
import java.nio.charset.StandardCharsets;

/**
 * What one benchmark write is, per state machine: a key-value put of key {@code c<thread>-<k>},
 * or a SQL {@code INSERT} of a row ({@code client}, {@code seq}, {@code v}) into a table without
 * keys (every insert adds a row). Both carry the same value bytes; both are encoded before the
 * clock starts, so the client threads only send. A read ({@code --read-percent}) is a point read:
 * a get of one of the thread's keys, or a SQL lookup by rowid.
 */
enum BenchWorkload {

    KV(StateMachineKind.KV, "key-value puts") {
        @Override
        byte[] setup() {
            return null;
        }

        @Override
        byte[] write(int thread, int k, byte[] value) {
            return KvOps.put(("c" + thread + "-" + k).getBytes(StandardCharsets.UTF_8), value);
        }

        @Override
        boolean succeeded(byte[] result) {
            return KvOps.decode(result) instanceof KvResult.Written;
        }

        @Override
        byte[] read(int thread, int k, int keys) {
            return KvOps.get(("c" + thread + "-" + k).getBytes(StandardCharsets.UTF_8));
        }

        @Override
        boolean readSucceeded(byte[] result) {
            KvResult r = KvOps.decode(result);
            return r instanceof KvResult.Found || r instanceof KvResult.NotFound;
        }
    },

    SQL(StateMachineKind.SQL, "SQL INSERTs") {
        @Override
        byte[] setup() {
            return SqlOps.execute("CREATE TABLE IF NOT EXISTS bench (client INTEGER NOT NULL, seq INTEGER NOT NULL, v BLOB)");
        }

        @Override
        byte[] write(int thread, int k, byte[] value) {
            return SqlOps.execute(SqlStatement.of("INSERT INTO bench (client, seq, v) VALUES (?, ?, ?)", (long) thread,
                    (long) k, value));
        }

        @Override
        boolean succeeded(byte[] result) {
            return SqlOps.decode(result) instanceof SqlResult.Ok;
        }

        @Override
        byte[] read(int thread, int k, int keys) {
            // A lookup by rowid (the table's own B-tree key): a point read, as the key-value get is,
            // of one of the first rows inserted (rowids count up from 1), present once warmed up.
            return SqlOps.query(SqlStatement.of("SELECT v FROM bench WHERE rowid = ?", (long) thread * keys + k + 1));
        }

        @Override
        boolean readSucceeded(byte[] result) {
            return succeeded(result);
        }
    };

    private final StateMachineKind kind;
    private final String writes;

    BenchWorkload(StateMachineKind kind, String writes) {
        this.kind = kind;
        this.writes = writes;
    }

    StateMachineKind kind() {
        return kind;
    }

    /** What the writes are, for people: "SQL INSERTs". */
    String writes() {
        return writes;
    }

    /** A write to submit once before the clock starts (the table), or null. */
    abstract byte[] setup();

    /** Client thread {@code thread}'s {@code k}-th write of {@code value}. */
    abstract byte[] write(int thread, int k, byte[] value);

    /** Whether the state machine applied the write (not an error result). */
    abstract boolean succeeded(byte[] result);

    /** Client thread {@code thread}'s point read of its {@code k}-th of {@code keys} keys (a row, for SQL). */
    abstract byte[] read(int thread, int k, int keys);

    /** Whether the read was answered (found or not), not refused. */
    abstract boolean readSucceeded(byte[] result);
}
