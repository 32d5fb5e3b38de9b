package dev.raftkit.jepsen.sim;

import dev.raftkit.core.ReadMode;
import dev.raftkit.core.SnapshotSource;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a simulated run depends on besides its seed... and its seed: a run is a pure function
 * of these options.
 *
 * @param seed      the one source of randomness
 * @param nodes     founding voters (3, 5 or 7)
 * @param ticks     length of the faulty phase, in ticks of {@link #TICK_MICROS} virtual microseconds
 * @param faults    what the nemesis may do
 * @param clients   concurrent clients
 * @param keys      keys the clients touch
 * @param readModes how clients may read
 * @param hooks     deliberate bugs (tests only); {@link Hooks#NONE} normally
 * @param keepTrace keep the event trace in memory (for {@code --trace} and study)
 * @param workload  the state machine, the clients' operations and the checks of their outcome
 *                  (default: {@link KvWorkload} registers in {@code readModes})
 * @param schedule  the nemesis's steps, instead of drawing them from the seed (null: drawn, of the
 *                  kinds in {@code faults}); see {@link FaultSchedule}
 * @param snapshotSource who streams a lagging node its snapshot: the leader (default) or an
 *                  up-to-date peer the leader names ({@link SnapshotSource#PEERS})
 */
public record SimOptions(long seed, int nodes, long ticks, Set<Fault> faults, int clients, int keys,
                         Set<ReadMode> readModes, Hooks hooks, boolean keepTrace, Workload workload,
                         FaultSchedule schedule, SnapshotSource snapshotSource) {

    /** Virtual length of one tick: 10 ms, so the election timeout is 100–200 ms. */
    public static final long TICK_MICROS = 10_000;

    public SimOptions {
        if (nodes < 1 || nodes > 9) {
            throw new IllegalArgumentException("--nodes must be between 1 and 9, got " + nodes);
        }
        if (ticks < 10) {
            throw new IllegalArgumentException("--ticks must be at least 10, got " + ticks);
        }
        if (clients < 1 || keys < 1) {
            throw new IllegalArgumentException("need at least one client and one key");
        }
        faults = faults.isEmpty() ? EnumSet.noneOf(Fault.class) : EnumSet.copyOf(faults);
        readModes = EnumSet.copyOf(readModes);
        Objects.requireNonNull(hooks, "hooks");
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(snapshotSource, "snapshotSource");
        if (schedule != null && schedule.highestNode() > nodes + (faults.contains(Fault.MEMBERSHIP) ? 2 : 0)) {
            throw new IllegalArgumentException("the schedule names node " + schedule.highestNode() + " but the run has "
                    + nodes + " nodes" + (faults.contains(Fault.MEMBERSHIP) ? " and 2 spares" : " (and no spares: spares"
                    + " " + (nodes + 1) + " and " + (nodes + 2) + " exist when the faults include membership)"));
        }
    }

    /** The options without a snapshot source: the leader sends every snapshot. */
    public SimOptions(long seed, int nodes, long ticks, Set<Fault> faults, int clients, int keys,
                      Set<ReadMode> readModes, Hooks hooks, boolean keepTrace, Workload workload, FaultSchedule schedule) {
        this(seed, nodes, ticks, faults, clients, keys, readModes, hooks, keepTrace, workload, schedule,
                SnapshotSource.LEADER);
    }

    /** Defaults: 3 nodes, 1,500 ticks (15 s virtual), every fault, 6 clients over 4 keys, safe reads. */
    public static SimOptions defaults(long seed) {
        return new SimOptions(seed, 3, 1_500, EnumSet.allOf(Fault.class), 6, 4,
                EnumSet.of(ReadMode.LINEARIZABLE, ReadMode.LEASE), Hooks.NONE, false,
                new KvWorkload(EnumSet.of(ReadMode.LINEARIZABLE, ReadMode.LEASE)), null);
    }

    public SimOptions withSeed(long s) {
        return new SimOptions(s, nodes, ticks, faults, clients, keys, readModes, hooks, keepTrace, workload, schedule, snapshotSource);
    }

    public SimOptions withNodes(int n) {
        return new SimOptions(seed, n, ticks, faults, clients, keys, readModes, hooks, keepTrace, workload, schedule, snapshotSource);
    }

    public SimOptions withTicks(long t) {
        return new SimOptions(seed, nodes, t, faults, clients, keys, readModes, hooks, keepTrace, workload, schedule, snapshotSource);
    }

    public SimOptions withFaults(Set<Fault> f) {
        return new SimOptions(seed, nodes, ticks, f, clients, keys, readModes, hooks, keepTrace, workload, schedule, snapshotSource);
    }

    public SimOptions withClients(int c, int k) {
        return new SimOptions(seed, nodes, ticks, faults, c, k, readModes, hooks, keepTrace, workload, schedule, snapshotSource);
    }

    public SimOptions withReadModes(Set<ReadMode> r) {
        return new SimOptions(seed, nodes, ticks, faults, clients, keys, r, hooks, keepTrace,
                workload instanceof KvWorkload ? new KvWorkload(r) : workload, schedule, snapshotSource);
    }

    public SimOptions withHooks(Hooks h) {
        return new SimOptions(seed, nodes, ticks, faults, clients, keys, readModes, h, keepTrace, workload, schedule, snapshotSource);
    }

    public SimOptions withTrace(boolean keep) {
        return new SimOptions(seed, nodes, ticks, faults, clients, keys, readModes, hooks, keep, workload, schedule, snapshotSource);
    }

    /**
     * Runs {@code w} instead: its state machine, operations and checks. {@link #replayCommand}
     * can name only the built-in workloads ({@code kv}, {@code bank}).
     */
    public SimOptions withWorkload(Workload w) {
        return new SimOptions(seed, nodes, ticks, faults, clients, keys, readModes, hooks, keepTrace, w, schedule, snapshotSource);
    }

    /**
     * Runs {@code s} instead of drawing the nemesis's steps from the seed (null: draw them).
     * Steps at or after {@link #ticks} are never reached.
     */
    public SimOptions withSchedule(FaultSchedule s) {
        return new SimOptions(seed, nodes, ticks, faults, clients, keys, readModes, hooks, keepTrace, workload, s, snapshotSource);
    }

    /** Has the leader name an up-to-date peer to stream lagging nodes their snapshots ({@code --snapshot-source}). */
    public SimOptions withSnapshotSource(SnapshotSource src) {
        return new SimOptions(seed, nodes, ticks, faults, clients, keys, readModes, hooks, keepTrace, workload, schedule,
                src);
    }

    /**
     * The command line that replays this run; a run with a given schedule replays from its file
     * ({@link ScheduleFile}) instead.
     */
    public String replayCommand() {
        if (schedule != null) {
            return "./raftkit sim --replay SCHEDULE_FILE";
        }
        StringBuilder sb = new StringBuilder("./raftkit sim --seed ").append(seed).append(" --nodes ").append(nodes)
                .append(" --ticks ").append(ticks).append(" --faults ");
        sb.append(Fault.format(faults));
        if (clients != 6 || keys != 4) {
            sb.append(" --clients ").append(clients).append(" --keys ").append(keys);
        }
        if (!workload.name().equals("kv")) {
            sb.append(" --sm ").append(workload.name());
        }
        if (readModes.contains(ReadMode.STALE)) {
            sb.append(" --unsafe-local-reads");
        }
        if (snapshotSource == SnapshotSource.PEERS) {
            sb.append(" --snapshot-source peers");
        }
        if (hooks.name() != null && !hooks.name().equals("none")) {
            sb.append(" --plant ").append(hooks.name());
        }
        return sb.toString();
    }
}
