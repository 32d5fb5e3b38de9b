package dev.raftkit.jepsen.sim;

import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.TypedHistory;
import java.util.List;
import java.util.Map;

/**
 * The outcome of one simulated run.
 *
 * @param violations     safety, convergence, workload (linearizability, invariants) or node-failure
 *                       violations (empty: the run passed)
 * @param events         discrete events processed
 * @param faults         faults the nemesis injected
 * @param history        every client operation
 * @param traceHash      hash of the whole event trace: equal runs have equal hashes
 * @param traceEvents    number of trace lines
 * @param trace          the trace's events, if kept
 * @param wallNanos      wall time of the run
 * @param schedule       the nemesis's steps as they were taken (drawn from the seed, or the given
 *                       schedule's steps less any skipped): with the seed, they replay the run
 */
public record SimResult(SimOptions options, List<String> violations, long events, long faults, TypedHistory<?, ?> history,
                        long traceHash, long traceEvents, List<TraceEvent> trace,
                        long wallNanos, FaultSchedule schedule) {

    public boolean ok() {
        return violations.isEmpty();
    }

    /** One line: seed, verdict, operations by status, faults, events. */
    public String summary() {
        Map<OpStatus, Integer> counts = history.countByStatus();
        return "seed " + options.seed() + ": " + (ok() ? "ok" : "VIOLATION") + ", " + history.size() + " ops ("
                + counts.getOrDefault(OpStatus.OK, 0) + " ok, " + counts.getOrDefault(OpStatus.FAIL, 0) + " failed, "
                + counts.getOrDefault(OpStatus.INFO, 0) + " indeterminate), " + faults + " faults, " + events + " events";
    }
}
