package dev.raftkit.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.raftkit.spi.StateMachine.Command;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A replica restored from a snapshot holds as large a database as one that applied every entry.
 * Restore once loaded the image with {@code sqlite3_deserialize}, which makes SQLite's
 * {@code memdb}: it refused to grow past about 2 GiB (SQLITE_FULL at a commit, stopping the node)
 * while the replicas that never restored went on. Needs about 2.3 GB of native memory and a
 * minute, so it runs only when asked:
 * {@code mvn -pl statemachine-sql test -Draftkit.sql.large=true -Dtest=SqlLargeDatabaseTest}.
 */
@EnabledIfSystemProperty(named = "raftkit.sql.large", matches = "true")
class SqlLargeDatabaseTest {

    /** Past memdb's ceiling (2 GiB) with room to spare. */
    private static final int MIB_ROWS = 2_300;

    @RegisterExtension
    final Machines machines = new Machines();

    @Test
    void aRestoredReplicaGrowsPastTwoGibibytesAsAFreshOneDoes() throws Exception {
        SqlStateMachine source = machines.open();
        source.apply(List.of(new Command(1, 1, 1_000, SqlOps.execute("CREATE TABLE b (v BLOB)"))));
        ByteArrayOutputStream image = new ByteArrayOutputStream();
        source.snapshot().writeTo(image);
        source.close();
        SqlStateMachine restored = machines.open();
        restored.restore(1, new ByteArrayInputStream(image.toByteArray()));
        for (int i = 0; i < MIB_ROWS; i++) {
            long index = 2 + i;
            byte[] result = restored.apply(List.of(new Command(index, 1, 1_000 + index,
                    SqlOps.execute("INSERT INTO b VALUES (zeroblob(1048576))")))).get(0);
            assertInstanceOf(SqlResult.Ok.class, SqlResult.decode(result), "row " + i);
        }
        assertEquals(List.of(Arrays.asList((long) MIB_ROWS, (long) MIB_ROWS << 20)),
                Replicas.select(restored, "SELECT count(*), sum(length(v)) FROM b").rows());
    }
}
