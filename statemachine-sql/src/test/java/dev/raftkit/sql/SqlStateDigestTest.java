package dev.raftkit.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StateMachine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link SqlStateMachine#stateDigest()}: the database's content alone, however it was reached. */
class SqlStateDigestTest {

    @RegisterExtension
    final Machines machines = new Machines();

    private static List<Replicas.Entry> log() {
        List<byte[]> payloads = new ArrayList<>();
        payloads.add(SqlOps.execute("CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT)"));
        for (int i = 0; i < 40; i++) {
            payloads.add(SqlOps.execute("INSERT INTO example VALUES (" + i + ", 'name" + i + "', " + (20 + i) + ")"));
            if (i % 7 == 6) {
                payloads.add(SqlOps.execute("UPDATE example SET age = age + 1 WHERE id < " + i));
            }
        }
        payloads.add(SqlOps.execute("BACKUP TABLE example TO 'example_backup'"));
        payloads.add(SqlOps.execute("DELETE FROM example WHERE id % 3 = 0"));
        return Replicas.log(payloads, 1_765_000_000_000L);
    }

    @Test
    void replicasAndARestoredCopyAgreeAndDifferentDatabasesDiffer() throws IOException {
        List<Replicas.Entry> log = log();
        SqlStateMachine a = machines.open();
        SqlStateMachine b = machines.open();
        Replicas.apply(a, log, 5);
        Replicas.apply(b, log, 1);
        String digest = a.stateDigest().orElseThrow();
        assertTrue(digest.startsWith("sha256:"), digest);
        assertEquals(digest, b.stateDigest().orElseThrow());
        StateMachine.checkStateDigest(digest);

        int half = log.size() / 2;
        SqlStateMachine first = machines.open();
        Replicas.apply(first, log.subList(0, half), 3);
        ByteArrayOutputStream image = new ByteArrayOutputStream();
        try (StateMachine.Snapshot s = first.snapshot()) {
            s.writeTo(image);
        }
        SqlStateMachine restored = machines.open();
        // Restored at a later log position than the image's own (non-command entries followed).
        restored.restore(log.get(half - 1).index(), new ByteArrayInputStream(image.toByteArray()));
        assertEquals(first.stateDigest(), restored.stateDigest());
        Replicas.apply(restored, log.subList(half, log.size()), 4);
        assertEquals(digest, restored.stateDigest().orElseThrow());

        assertNotEquals(digest, first.stateDigest().orElseThrow());
        Replicas.apply(b, Replicas.log(List.of(SqlOps.execute("UPDATE example SET name = 'x' WHERE id = 1")),
                1_765_100_000_000L).stream().map(e -> new Replicas.Entry(e.index() + 1_000, e.timestampMillis(),
                e.payload())).toList(), 1);
        assertNotEquals(digest, b.stateDigest().orElseThrow());
    }
}
