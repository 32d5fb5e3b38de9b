package dev.raftkit.jepsen.sim;

import dev.raftkit.core.ReadMode;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A run written down: everything {@link Simulator#run} needs besides code — the seed, the
 * cluster, the workload and hooks by name, and the nemesis's steps — as a small text file that
 * {@code raftkit sim --replay FILE} runs and a test loads as a regression:
 * <pre>
 * # raftkit sim schedule
 * seed 18
 * nodes 3
 * ticks 420
 * faults all
 * clients 2
 * keys 4
 * reads linearizable,lease
 * sm kv
 * hooks cut-log-at-first-invalid-record
 * expect Lost state trusted
 * at 57 corrupt 2 pick -3718 for 34
 * at 104 crash 3 for 20
 * </pre>
 * Header lines may come in any order before the steps; each has a default (that of
 * {@link SimOptions#defaults}) except {@code seed}. {@code faults} matters only for the spare
 * nodes (two exist when it includes {@code membership}). {@code expect} is the violation kind the
 * run reproduced when it was written (for {@link #expected}); it does not change the run.
 */
public final class ScheduleFile {

    private ScheduleFile() {
    }

    /**
     * The file for {@code options} (its schedule, or {@code steps} if it has none), expecting a
     * violation of kind {@code expect} (null: none expected).
     *
     * @throws IllegalArgumentException if the run used hooks with no {@link Hooks#name()}: such
     *                                  a run cannot be replayed from a file
     */
    public static String write(SimOptions options, FaultSchedule steps, String expect) {
        String hooks = options.hooks().name();
        if (hooks == null) {
            throw new IllegalArgumentException("the run's hooks were written in code and have no name; a schedule file"
                    + " can carry only none or a planted bug of Hooks.PLANTED");
        }
        FaultSchedule schedule = options.schedule() != null ? options.schedule() : steps;
        StringBuilder sb = new StringBuilder("# raftkit sim schedule: replay with ./raftkit sim --replay FILE\n");
        sb.append("seed ").append(options.seed()).append('\n');
        sb.append("nodes ").append(options.nodes()).append('\n');
        sb.append("ticks ").append(options.ticks()).append('\n');
        sb.append("faults ").append(Fault.format(options.faults())).append('\n');
        sb.append("clients ").append(options.clients()).append('\n');
        sb.append("keys ").append(options.keys()).append('\n');
        sb.append("reads ").append(String.join(",", options.readModes().stream()
                .map(m -> m.name().toLowerCase(Locale.ROOT)).toList())).append('\n');
        sb.append("sm ").append(options.workload().name()).append('\n');
        sb.append("hooks ").append(hooks).append('\n');
        if (expect != null) {
            sb.append("expect ").append(expect).append('\n');
        }
        sb.append(schedule.text());
        return sb.toString();
    }

    /**
     * Reads a file written by {@link #write} or by hand. {@code kv} and {@code sql} are known;
     * {@code workloads} names any other state machine the file may name (a user's
     * {@link ModelWorkload}, say).
     *
     * @throws IllegalArgumentException naming the line, for a malformed line, a missing seed, or
     *                                  a state machine or hooks it does not know (saying how to
     *                                  supply them)
     */
    public static SimOptions read(String text, Map<String, Workload> workloads) {
        Long seed = null;
        SimOptions o = SimOptions.defaults(0);
        String sm = "kv";
        List<FaultSchedule.Step> steps = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = FaultSchedule.stripComment(lines[i]);
            if (line.isEmpty()) {
                continue;
            }
            String[] kv = line.split("\\s+", 2);
            String value = kv.length > 1 ? kv[1].trim() : "";
            try {
                switch (kv[0]) {
                    case "at" -> steps.add(FaultSchedule.parseStep(line));
                    case "seed" -> seed = number(value);
                    case "nodes" -> o = o.withNodes((int) number(value));
                    case "ticks" -> o = o.withTicks(number(value));
                    case "faults" -> o = o.withFaults(Fault.parse(value));
                    case "clients" -> o = o.withClients((int) number(value), o.keys());
                    case "keys" -> o = o.withClients(o.clients(), (int) number(value));
                    case "reads" -> o = o.withReadModes(readModes(value));
                    case "sm" -> sm = value;
                    case "hooks" -> o = o.withHooks(Hooks.named(value));
                    case "expect" -> { }
                    default -> throw new IllegalArgumentException("unknown line; a schedule file has seed, nodes, ticks,"
                            + " faults, clients, keys, reads, sm, hooks and expect lines, then 'at TICK ACTION' steps");
                }
            } catch (IllegalArgumentException e) {
                String m = e.getMessage();
                throw new IllegalArgumentException("line " + (i + 1) + " '" + line + "': "
                        + (m.startsWith("schedule line") ? m.substring(m.indexOf(": ") + 2) : m), e);
            }
        }
        if (seed == null) {
            throw new IllegalArgumentException("the schedule file has no 'seed N' line: a replay needs the run's seed");
        }
        Workload w = switch (sm) {
            case "kv" -> new KvWorkload(o.readModes());
            case "sql" -> new BankWorkload();
            case "sql-append" -> new SqlAppendWorkload();
            default -> {
                Workload user = workloads.get(sm);
                if (user == null) {
                    throw new IllegalArgumentException("the schedule names state machine '" + sm + "', which is not "
                            + "built in (kv, sql, sql-append): load the file from code with ScheduleFile.read(text, Map.of(\"" + sm
                            + "\", yourWorkload))");
                }
                yield user;
            }
        };
        return o.withWorkload(w).withSeed(seed).withSchedule(new FaultSchedule(steps));
    }

    /** The {@code expect} line's violation kind, or null if the file has none. */
    public static String expected(String text) {
        for (String raw : text.split("\n")) {
            String line = FaultSchedule.stripComment(raw);
            if (line.startsWith("expect ")) {
                return line.substring("expect ".length()).trim();
            }
        }
        return null;
    }

    private static Set<ReadMode> readModes(String value) {
        Set<ReadMode> out = EnumSet.noneOf(ReadMode.class);
        for (String p : value.split(",")) {
            String name = p.trim().toUpperCase(Locale.ROOT);
            try {
                // local_unsafe: what files written before the one read-mode type call a stale read.
                out.add(name.equals("LOCAL_UNSAFE") ? ReadMode.STALE : ReadMode.valueOf(name));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown read mode '" + p.trim() + "'; known: linearizable, lease,"
                        + " stale");
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("name at least one read mode");
        }
        return out;
    }

    private static long number(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a whole number, got '" + s + "'");
        }
    }
}
