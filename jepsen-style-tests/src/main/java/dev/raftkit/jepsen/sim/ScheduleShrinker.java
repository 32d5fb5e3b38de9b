package dev.raftkit.jepsen.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a failing run down to a small one that still fails the same way: fewer fault steps
 * (delta debugging over the schedule the run recorded), fewer nodes (7 to 5 to 3, dropping the
 * steps that name the nodes gone), a shorter faulty phase, fewer clients and keys. Every
 * candidate is a whole simulated run; one is kept only if its first violation is of the same kind
 * as the original's (the text before the first {@code :}), so shrinking never wanders to a
 * different counter-example.
 *
 * <p>Before shrinking it proves the failure replays: the seed run again, and then its recorded
 * schedule, must give the same trace hash. A run that replays differently is reported as not
 * deterministic (a state machine or workload reading wall time, unseeded randomness, or hash
 * order), not shrunk.
 */
public final class ScheduleShrinker {

    /**
     * What shrinking did.
     *
     * @param original the failing run as given
     * @param shrunk   the smallest failing run found (the original, as a scheduled run, if none smaller)
     * @param kind     the violation kind every kept candidate reproduced
     * @param runs     simulated runs spent
     * @param refusal  why the run was not shrunk (it does not replay), or null
     */
    public record Outcome(SimResult original, SimResult shrunk, String kind, int runs, String refusal) {

        /** The shrunk run as a schedule file ({@link ScheduleFile}). */
        public String scheduleFile() {
            return ScheduleFile.write(shrunk.options(), shrunk.schedule(), kind);
        }

        /** One line: what was cut. */
        public String line() {
            if (refusal != null) {
                return "not shrunk: " + refusal;
            }
            SimOptions a = original.options();
            SimOptions b = shrunk.options();
            return String.format("shrunk in %d runs: %d fault steps -> %d, %d nodes -> %d, %d ticks -> %d, %d clients -> %d,"
                            + " %d keys -> %d; still %s", runs, original.schedule().steps().size(), b.schedule().steps().size(),
                    a.nodes(), b.nodes(), a.ticks(), b.ticks(), a.clients(), b.clients(), a.keys(), b.keys(), kind);
        }
    }

    private final String kind;
    private final int budget;
    private int runs;

    private ScheduleShrinker(String kind, int budget) {
        this.kind = kind;
        this.budget = budget;
    }

    /** The kind of a violation: {@code "Linearizability"} of {@code "t=…us Linearizability: …"}. */
    public static String kindOf(String violation) {
        String v = violation.startsWith("t=") && violation.indexOf(' ') > 0
                ? violation.substring(violation.indexOf(' ') + 1) : violation;
        int colon = v.indexOf(':');
        return colon < 0 ? v : v.substring(0, colon);
    }

    /**
     * Shrinks {@code failing} (a failed run) with at most {@code budget} further runs.
     *
     * @throws IllegalArgumentException if {@code failing} passed
     */
    public static Outcome shrink(SimResult failing, int budget) {
        if (failing.ok()) {
            throw new IllegalArgumentException("seed " + failing.options().seed() + " passed: nothing to shrink");
        }
        ScheduleShrinker s = new ScheduleShrinker(kindOf(failing.violations().get(0)), budget);
        SimOptions given = failing.options().withTrace(false);
        SimResult again = s.run(given);
        if (again.traceHash() != failing.traceHash()) {
            return new Outcome(failing, failing, s.kind, s.runs, "seed " + given.seed() + " replays differently (trace hash "
                    + failing.traceHash() + ", then " + again.traceHash() + "): something the run depends on is not a"
                    + " function of its seed (a state machine or workload reading wall time, unseeded randomness or hash"
                    + " order)");
        }
        SimOptions scheduled = given.withSchedule(given.schedule() != null ? given.schedule() : failing.schedule());
        SimResult best = s.run(scheduled);
        if (best.traceHash() != failing.traceHash()) {
            return new Outcome(failing, failing, s.kind, s.runs, "the run's recorded schedule replays differently (trace"
                    + " hash " + failing.traceHash() + ", then " + best.traceHash() + "): a simulator bug; report it with"
                    + " the seed");
        }
        best = s.fewerSteps(best);
        best = s.fewerNodes(best);
        best = s.fewerTicks(best);
        best = s.fewerClients(best);
        best = s.fewerSteps(best); // a shorter, lighter run may need fewer faults still
        return new Outcome(failing, best, s.kind, s.runs, null);
    }

    /** Runs {@code o}; the result if it fails the same way, else null. */
    private SimResult tryRun(SimOptions o) {
        if (runs >= budget) {
            return null;
        }
        SimResult r = run(o);
        return !r.ok() && kindOf(r.violations().get(0)).equals(kind) ? r : null;
    }

    private SimResult run(SimOptions o) {
        runs++;
        return Simulator.run(o);
    }

    /**
     * Two nodes fewer at a time (a cluster keeps an odd size), down to three, while the run still
     * fails; steps naming a node that no longer exists go (the spares of a membership run are
     * renumbered above the new size, so steps naming them now name spares).
     */
    private SimResult fewerNodes(SimResult best) {
        while (best.options().nodes() > 3 && runs < budget) {
            SimOptions o = best.options();
            int n = o.nodes() - 2;
            long highest = n + (o.faults().contains(Fault.MEMBERSHIP) ? 2 : 0);
            SimResult r = tryRun(o.withSchedule(o.schedule().upToNode(highest)).withNodes(n));
            if (r == null) {
                break;
            }
            best = r;
        }
        return best;
    }

    /** Delta debugging (Zeller's ddmin) over the steps: drop chunks while the run still fails. */
    private SimResult fewerSteps(SimResult best) {
        List<FaultSchedule.Step> steps = best.options().schedule().steps();
        int n = 2;
        while (!steps.isEmpty() && runs < budget) {
            int chunk = (int) Math.ceil(steps.size() / (double) n);
            boolean cut = false;
            for (int from = 0; from < steps.size() && !cut; from += chunk) {
                List<FaultSchedule.Step> rest = new ArrayList<>(steps.subList(0, from));
                rest.addAll(steps.subList(Math.min(steps.size(), from + chunk), steps.size()));
                SimResult r = tryRun(best.options().withSchedule(new FaultSchedule(rest)));
                if (r != null) {
                    best = r;
                    steps = rest;
                    n = Math.max(n - 1, 2);
                    cut = true;
                }
            }
            if (!cut) {
                if (chunk == 1) {
                    break;
                }
                n = Math.min(steps.size(), n * 2);
            }
        }
        return best;
    }

    /** The shortest faulty phase (by bisection) that still fails; steps past it are dropped. */
    private SimResult fewerTicks(SimResult best) {
        long lo = 10;
        long hi = best.options().ticks(); // fails
        while (lo < hi && runs < budget) {
            long mid = (lo + hi) / 2;
            SimOptions o = best.options().withTicks(mid);
            SimResult r = tryRun(o.withSchedule(o.schedule().before(mid)));
            if (r != null) {
                best = r;
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return best;
    }

    /** The fewest clients, then keys, that still fail. */
    private SimResult fewerClients(SimResult best) {
        for (int c = 1; c < best.options().clients(); c++) {
            SimResult r = tryRun(best.options().withClients(c, best.options().keys()));
            if (r != null) {
                best = r;
                break;
            }
        }
        for (int k = 1; k < best.options().keys(); k++) {
            SimResult r = tryRun(best.options().withClients(best.options().clients(), k));
            if (r != null) {
                best = r;
                break;
            }
        }
        return best;
    }
}
