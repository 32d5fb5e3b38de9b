package dev.raftkit.sql;

import dev.raftkit.spi.StateMachine.Command;
import java.util.ArrayList;
import java.util.List;

/** Feeds a log of requests to a state machine directly (no server), in batches of given sizes. */
final class Replicas {

    /** One log entry: payload and the leader's time stamp. */
    record Entry(long index, long timestampMillis, byte[] payload) {
        Command command() {
            return new Command(index, 1, timestampMillis, payload);
        }
    }

    private Replicas() {
    }

    /** A log of the payloads at indexes 1.., each stamped {@code start + 1000 * index} ms (plus jitter). */
    static List<Entry> log(List<byte[]> payloads, long startMillis) {
        List<Entry> out = new ArrayList<>();
        long t = startMillis;
        for (int i = 0; i < payloads.size(); i++) {
            t += 1000 + (i * 37L) % 900;
            out.add(new Entry(i + 1, t, payloads.get(i)));
        }
        return out;
    }

    /** Applies {@code log} in batches of {@code batch} entries (the last may be shorter); returns the results. */
    static List<SqlResult> apply(SqlStateMachine sm, List<Entry> log, int batch) {
        List<SqlResult> out = new ArrayList<>();
        for (int from = 0; from < log.size(); from += batch) {
            List<Command> commands = log.subList(from, Math.min(log.size(), from + batch)).stream()
                    .map(Entry::command).toList();
            sm.apply(commands).forEach(r -> out.add(SqlResult.decode(r)));
        }
        return out;
    }

    static String digest(SqlStateMachine sm) {
        return SqlOps.digestOf(sm.query(SqlOps.digest()));
    }

    static SqlResult.Rows select(SqlStateMachine sm, String sql) {
        return SqlOps.ok(sm.query(SqlOps.query(sql))).last();
    }
}
