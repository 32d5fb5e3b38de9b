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
 * clock starts, so the client threads only send.
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
    },

    SQL(StateMachineKind.SQL, "SQL INSERTs") {
        @Override
        byte[] setup() {
            return SqlOps.execute("CREATE TABLE bench (client INTEGER NOT NULL, seq INTEGER NOT NULL, v BLOB)");
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
}
