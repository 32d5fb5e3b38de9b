package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.OpStatus;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/**
 * List-append transactions on the real SQL state machine in the simulator: valid under faults with
 * the correct store, and the planted split-transaction bug named by the transactional checker.
 */
class SqlAppendWorkloadTest {

    /** A short slice; more with {@code -Dsim.sqlAppend.seeds=N}. */
    private static final long SEEDS = Long.getLong("sim.sqlAppend.seeds", 2);

    private static final SimOptions BASE = SimOptions.defaults(0).withTicks(300).withClients(8, 3)
            .withFaults(EnumSet.of(Fault.CRASH, Fault.PARTITION, Fault.SNAPSHOT))
            .withWorkload(new SqlAppendWorkload());

    private static long committed(SimResult r) {
        return r.history().operations().stream().filter(o -> o.status() == OpStatus.OK).count();
    }

    @Test
    void theCorrectStoreIsStrictlySerializableUnderFaults() {
        // Crashes (a node rebuilt from snapshot and log), partitions (indeterminate transactions
        // retried on another node) and snapshot installs: strict serializability must hold.
        for (long seed = 1; seed <= SEEDS; seed++) {
            SimResult r = Simulator.run(BASE.withSeed(seed));
            System.out.println("sql-append seed " + seed + ": " + r.summary() + ", committed " + committed(r));
            assertTrue(r.ok(), () -> r.summary() + " " + r.violations());
            assertTrue(committed(r) >= 300, "seed " + seed + " committed only " + committed(r) + " transactions");
        }
    }

    @Test
    void splitTransactionsAreFoundAndNamed() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            SimResult r = Simulator.run(BASE.withSeed(seed).withHooks(Hooks.named("split-sql-transactions")));
            assertTrue(!r.ok(), "seed " + seed + ": the split-transaction bug passed: " + r.summary());
            String v = r.violations().get(0);
            System.out.println("sql-append seed " + seed + " with the bug: " + v.lines().findFirst().orElse(""));
            assertTrue(v.contains("Transactional isolation"), v);
            // The held-back append lands after the next transaction's appends to its key while the
            // transaction's other appends came first: a write cycle (G0); a transaction that read
            // the half-applied state read-skews against it (G-single).
            assertTrue(v.contains(" G0=") && v.contains(" G-single="), v);
        }
    }
}
