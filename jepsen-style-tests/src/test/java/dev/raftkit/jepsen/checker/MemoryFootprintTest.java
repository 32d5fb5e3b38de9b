package dev.raftkit.jepsen.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.TypedOperation;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What one explored state really costs: a search explores two million configurations and stops;
 * the heap it retains is measured (after full collections) against its own accounting and the
 * figure {@link Budget}'s javadoc gives (21–43 bytes per state in the memo).
 */
class MemoryFootprintTest {

    private static final int STATES = 2_000_000;

    private static long usedHeapAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) { // a few collections: the figure settles at its floor
            System.gc();
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    @Test
    void twoMillionExploredStates_retainAbout32BytesEach() {
        History.Builder b = History.builder();
        for (int i = 0; i < 20; i++) {
            b.write(i, "x", "v" + i, 0, 100); // 20 concurrent writes: up to 20·2^19 configurations
        }
        History h = b.read(20, "x", "v0", 200, 210).build();
        List<Call<Operation>> calls = new ArrayList<>();
        for (Operation o : h.operations()) {
            calls.add(Call.completed(o, o.invokeNanos(), o.completeNanos()));
        }
        long before = usedHeapAfterGc();
        WglSearch<RegisterModel.Register, Operation> search = new WglSearch<>("x", calls, new RegisterModel(),
                System.nanoTime() + Duration.ofMinutes(1).toNanos(), Budget.of(Duration.ofMinutes(1), STATES),
                () -> false);
        KeyResult<Operation> r = search.run();
        long retained = usedHeapAfterGc() - before;
        long accounted = search.heldBytes();
        Reference.reachabilityFence(search);

        assertEquals(Verdict.BUDGET_EXCEEDED, r.verdict(), r::toString);
        assertEquals(STATES + 1, r.exploredStates());
        double measuredPerState = (double) retained / r.exploredStates();
        double accountedPerState = (double) accounted / r.exploredStates();
        System.out.printf("memo footprint: %d states retain %d bytes (%.1f B/state), accounted %d (%.1f B/state), "
                + "peak accounted %d%n", r.exploredStates(), retained, measuredPerState, accounted, accountedPerState,
                r.estimatedBytes());
        // 2M configurations in a table of 2^22 slots of 16 bytes: 33.6 B/state. Allow for noise.
        assertTrue(measuredPerState > 16 && measuredPerState < 43, () -> measuredPerState + " B/state");
        assertTrue(Math.abs(measuredPerState - accountedPerState) < 4,
                () -> "accounting " + accountedPerState + " vs measured " + measuredPerState + " B/state");
        assertTrue(r.estimatedBytes() >= accounted, "the peak includes the last doubling");
    }

    /**
     * A model whose every configuration has a state of its own (indeterminate appends: every
     * subset in every order is a different list): the states, not the memo, take the memory, and
     * the accounting must not fall short of what is really retained.
     */
    @Test
    void aMillionDistinctListStates_areAccountedAtLeastAtWhatTheyRetain() {
        var b = dev.raftkit.jepsen.history.TypedHistory.builder(AppendListModel.TYPE);
        for (int i = 0; i < 14; i++) {
            b.info(i, new AppendListModel.Append("l", i), 0);
        }
        b.ok(99, new AppendListModel.ReadList("l"), List.of(-1L), 10, 20);
        List<Call<TypedOperation<AppendListModel.ListOp, List<Long>>>> calls = new ArrayList<>();
        for (TypedOperation<AppendListModel.ListOp, List<Long>> o : b.build().operations()) {
            calls.add(o.status() == OpStatus.OK ? Call.completed(o, o.invokeNanos(), o.completeNanos())
                    : Call.indeterminate(o, o.invokeNanos()));
        }
        long before = usedHeapAfterGc();
        WglSearch<List<Long>, TypedOperation<AppendListModel.ListOp, List<Long>>> search = new WglSearch<>("l", calls,
                new AppendListModel(), System.nanoTime() + Duration.ofMinutes(1).toNanos(),
                Budget.of(Duration.ofMinutes(1), 1_000_000), () -> false);
        KeyResult<TypedOperation<AppendListModel.ListOp, List<Long>>> r = search.run();
        long retained = usedHeapAfterGc() - before;
        long accounted = search.heldBytes();
        Reference.reachabilityFence(search);

        assertEquals(Verdict.BUDGET_EXCEEDED, r.verdict(), r::toString);
        System.out.printf("list-state footprint: %d states retain %d bytes (%.1f B/state), accounted %d (%.1f B/state)%n",
                r.exploredStates(), retained, (double) retained / r.exploredStates(), accounted,
                (double) accounted / r.exploredStates());
        assertTrue(accounted >= retained * 0.9, () -> "accounted " + accounted + " < retained " + retained);
        assertTrue(accounted <= retained * 1.5, () -> "accounted " + accounted + " far above retained " + retained);
    }
}
