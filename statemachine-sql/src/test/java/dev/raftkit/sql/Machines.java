package dev.raftkit.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The state machines a test opens, closed after each test (each holds a SQLite connection):
 * {@code @RegisterExtension final Machines machines = new Machines();} then {@code machines.open()}.
 */
final class Machines implements AfterEachCallback {

    private final IntFunction<SqlStateMachine> factory;
    private final List<SqlStateMachine> open = new ArrayList<>();

    /** Machines without a backup directory. */
    Machines() {
        this(n -> new SqlStateMachine());
    }

    /** @param factory makes the n-th machine of a test (from 0) */
    Machines(IntFunction<SqlStateMachine> factory) {
        this.factory = factory;
    }

    /** A new state machine, closed after the test. */
    SqlStateMachine open() {
        SqlStateMachine sm = factory.apply(open.size());
        open.add(sm);
        return sm;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        open.forEach(SqlStateMachine::close);
        open.clear();
    }
}
