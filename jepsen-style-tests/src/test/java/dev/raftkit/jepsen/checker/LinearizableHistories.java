package dev.raftkit.jepsen.checker;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Response;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generates histories that are linearizable by construction, and mutates them into ones that are
 * not — the dumb oracle the checker is tested against.
 *
 * <p>Each client runs operations one after another; each operation gets an interval (its
 * concurrency window) and a linearization point inside it. Running a plain map in point order
 * gives every response, so the points themselves are a linearization. Some operations are then
 * made indeterminate (some having taken effect, some not) or failed (not having taken effect).
 */
final class LinearizableHistories {

    /**
     * @param operations  how many operations in all
     * @param keys        how many keys they spread over
     * @param clients     how many clients run concurrently
     * @param maxDuration longest operation interval: wider means more overlap, harder search
     * @param infoPercent chance an operation times out (half of those take effect anyway)
     * @param failPercent chance an operation fails (and does not take effect)
     */
    record Shape(int operations, int keys, int clients, int maxDuration, int infoPercent, int failPercent) {
    }

    /**
     * Where the generator draws its choices: a seeded random for one-off large histories, or the
     * property harness's {@code Source}, whose choices shrink toward {@code min} — so every draw
     * below is arranged so that smaller means simpler (fewer clients and keys, shorter windows,
     * writes, determinate outcomes).
     */
    @FunctionalInterface
    interface Draw {
        /** A choice in {@code [min, max]}. */
        int between(int min, int max);

        static Draw of(SplittableRandom random) {
            return (min, max) -> min + random.nextInt(max - min + 1);
        }
    }

    private LinearizableHistories() {
    }

    private record Planned(int process, long invoke, long complete, long point, Command command, OpStatus status,
                           boolean takesEffect) {
    }

    static History generate(Shape shape, long seed) {
        return generate(shape, Draw.of(new SplittableRandom(seed)));
    }

    static History generate(Shape shape, Draw draw) {
        long[] clientClock = new long[shape.clients()];
        List<Planned> planned = new ArrayList<>(shape.operations());
        for (int i = 0; i < shape.operations(); i++) {
            int process = draw.between(0, shape.clients() - 1);
            long invoke = clientClock[process] + draw.between(0, 2);
            long complete = invoke + draw.between(0, shape.maxDuration());
            long point = invoke + draw.between(0, (int) (complete - invoke));
            clientClock[process] = complete + 1;
            String key = "k" + draw.between(0, shape.keys() - 1);
            String value = "v" + i;
            Command command = switch (draw.between(0, 2)) {
                case 0 -> Command.write(key, value);
                case 1 -> Command.read(key);
                // Expected values are filled in at the point, from the then-current state.
                default -> Command.cas(key, null, value);
            };
            int roll = draw.between(0, 99);
            OpStatus status = roll >= 100 - shape.infoPercent() ? OpStatus.INFO
                    : roll >= 100 - shape.infoPercent() - shape.failPercent() ? OpStatus.FAIL : OpStatus.OK;
            boolean takesEffect = status == OpStatus.OK || (status == OpStatus.INFO && draw.between(0, 1) == 0);
            planned.add(new Planned(process, invoke, complete, point, command, status, takesEffect));
        }

        // Execute in linearization-point order against a plain map: the sequential oracle.
        List<Integer> byPoint = new ArrayList<>();
        for (int i = 0; i < planned.size(); i++) {
            byPoint.add(i);
        }
        byPoint.sort((a, b) -> Long.compare(planned.get(a).point(), planned.get(b).point()));
        Map<String, String> store = new HashMap<>();
        Map<String, List<String>> written = new HashMap<>();
        Operation[] ops = new Operation[planned.size()];
        for (int i : byPoint) {
            Planned p = planned.get(i);
            Command command = p.command();
            String key = command.key();
            if (command instanceof Command.Cas cas) {
                // Half the time expect the current value (likely swap), else any value this key
                // has had or absence (likely compare-failed).
                List<String> history = written.getOrDefault(key, List.of());
                String expected = draw.between(0, 1) == 0 || history.isEmpty() ? store.get(key)
                        : draw.between(0, 3) == 0 ? null : history.get(draw.between(0, history.size() - 1));
                command = Command.cas(key, expected, cas.newValue());
            }
            Response response = null;
            if (p.takesEffect()) {
                String current = store.get(key);
                if (command instanceof Command.Write w) {
                    store.put(key, w.value());
                    written.computeIfAbsent(key, k -> new ArrayList<>()).add(w.value());
                    response = Response.written();
                } else if (command instanceof Command.Read) {
                    response = Response.read(current);
                } else {
                    Command.Cas cas = (Command.Cas) command;
                    boolean swapped = java.util.Objects.equals(current, cas.expected());
                    if (swapped) {
                        store.put(key, cas.newValue());
                        written.computeIfAbsent(key, k -> new ArrayList<>()).add(cas.newValue());
                    }
                    response = Response.cas(swapped);
                }
            }
            ops[i] = switch (p.status()) {
                case OK -> new Operation(i, p.process(), command, p.invoke(), OpStatus.OK, p.complete(), response);
                case FAIL -> new Operation(i, p.process(), command, p.invoke(), OpStatus.FAIL, p.complete(), null);
                case INFO -> new Operation(i, p.process(), command, p.invoke(), OpStatus.INFO, Operation.NEVER, null);
            };
        }
        return History.of(List.of(ops));
    }

    /** The ids of OK reads, the operations {@link #withUnwrittenRead} can corrupt. */
    static List<Integer> okReads(History h) {
        List<Integer> reads = new ArrayList<>();
        for (Operation o : h.operations()) {
            if (o.status() == OpStatus.OK && o.command() instanceof Command.Read) {
                reads.add((int) o.id());
            }
        }
        return reads;
    }

    /**
     * The history with read {@code readId} observing a value no operation ever wrote: no
     * linearization can explain it, whatever the concurrency.
     */
    static History withUnwrittenRead(History h, int readId) {
        List<Operation> ops = new ArrayList<>(h.operations());
        Operation read = ops.get(readId);
        ops.set(readId, new Operation(read.id(), read.process(), read.command(), read.invokeNanos(), OpStatus.OK,
                read.completeNanos(), Response.read("never-written")));
        return History.of(ops);
    }
}
