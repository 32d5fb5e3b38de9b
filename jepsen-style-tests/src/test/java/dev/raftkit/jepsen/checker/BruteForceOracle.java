package dev.raftkit.jepsen.checker;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The dumb oracle: tries every order of every subset allowed by real time, straight from the
 * definition, with no entry list, no memo and no fingerprints, and with its own register
 * semantics (not {@link RegisterModel}), so that it checks the model as well as the search.
 * Exponential; for a handful of operations per key only.
 */
final class BruteForceOracle {

    private BruteForceOracle() {
    }

    static boolean isLinearizable(History history) {
        for (Map.Entry<String, List<Operation>> e : history.byKey().entrySet()) {
            List<Operation> ops = new ArrayList<>();
            for (Operation o : e.getValue()) {
                boolean infoRead = o.status() == OpStatus.INFO && o.command() instanceof Command.Read;
                if (o.status() != OpStatus.FAIL && !infoRead) {
                    ops.add(o);
                }
            }
            if (ops.size() > 20) {
                throw new IllegalArgumentException("brute force is for tiny histories, got " + ops.size());
            }
            if (!search(ops, 0, null)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The same definition for any model, one partition at a time: calls the model but nothing of
     * the search, so it checks the search (entry list, memo, fingerprints) on a user's model.
     */
    static <S, Op> boolean isLinearizable(List<Call<Op>> calls, java.util.function.Function<Op, String> partition,
                                          Model<S, Op> model) {
        Map<String, List<Call<Op>>> byKey = new java.util.LinkedHashMap<>();
        for (Call<Op> c : calls) {
            byKey.computeIfAbsent(partition.apply(c.op()), k -> new ArrayList<>()).add(c);
        }
        for (List<Call<Op>> ops : byKey.values()) {
            if (ops.size() > 20) {
                throw new IllegalArgumentException("brute force is for tiny histories, got " + ops.size());
            }
            if (!search(ops, 0, model.init(), model)) {
                return false;
            }
        }
        return true;
    }

    private static <S, Op> boolean search(List<Call<Op>> ops, int placed, S state, Model<S, Op> model) {
        boolean allCompletedPlaced = true;
        for (int i = 0; i < ops.size(); i++) {
            if ((placed & (1 << i)) == 0 && !ops.get(i).isIndeterminate()) {
                allCompletedPlaced = false;
            }
        }
        if (allCompletedPlaced) {
            return true;
        }
        for (int i = 0; i < ops.size(); i++) {
            if ((placed & (1 << i)) != 0) {
                continue;
            }
            boolean mayGoNext = true;
            for (int j = 0; j < ops.size(); j++) {
                if ((placed & (1 << j)) == 0 && ops.get(j).returnNanos() < ops.get(i).invokeNanos()) {
                    mayGoNext = false;
                }
            }
            if (!mayGoNext) {
                continue;
            }
            Optional<S> next = model.step(state, ops.get(i).op());
            if (next.isPresent() && search(ops, placed | (1 << i), next.get(), model)) {
                return true;
            }
        }
        return false;
    }

    private static long returnOf(Operation o) {
        return o.status() == OpStatus.INFO ? Long.MAX_VALUE : o.completeNanos();
    }

    /** Can the unplaced ops of {@code ops} (bits not in {@code placed}) be ordered from {@code state}? */
    private static boolean search(List<Operation> ops, int placed, String value) {
        boolean allCompletedPlaced = true;
        for (int i = 0; i < ops.size(); i++) {
            if ((placed & (1 << i)) == 0 && ops.get(i).status() == OpStatus.OK) {
                allCompletedPlaced = false;
            }
        }
        if (allCompletedPlaced) {
            return true; // unplaced indeterminate ops simply never took effect
        }
        for (int i = 0; i < ops.size(); i++) {
            if ((placed & (1 << i)) != 0 || !mayGoNext(ops, placed, i)) {
                continue;
            }
            Optional<String> next = apply(value, ops.get(i));
            if (next.isPresent() && search(ops, placed | (1 << i), next.get().isEmpty() ? null : next.get())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The register's value after {@code o} in a register holding {@code value} (null = absent;
     * returned as "" since Optional cannot hold null — values are never empty here), or empty if
     * {@code o}'s recorded response is impossible.
     */
    private static Optional<String> apply(String value, Operation o) {
        String now = value == null ? "" : value;
        if (o.command() instanceof Command.Write w) {
            return Optional.of(w.value());
        }
        if (o.command() instanceof Command.Read) {
            String seen = ((Response.ReadValue) o.response()).value();
            return Objects.equals(seen, value) ? Optional.of(now) : Optional.empty();
        }
        Command.Cas cas = (Command.Cas) o.command();
        boolean holdsExpected = Objects.equals(cas.expected(), value);
        if (o.status() == OpStatus.INFO) {
            // Taking effect as a compare-failure changes nothing: same as not taking effect.
            return holdsExpected ? Optional.of(cas.newValue()) : Optional.empty();
        }
        boolean swapped = ((Response.CasResult) o.response()).swapped();
        if (swapped != holdsExpected) {
            return Optional.empty();
        }
        return Optional.of(swapped ? cas.newValue() : now);
    }

    /** Op i may take effect next iff every op that returned before i was invoked already has. */
    private static boolean mayGoNext(List<Operation> ops, int placed, int i) {
        for (int j = 0; j < ops.size(); j++) {
            if ((placed & (1 << j)) == 0 && returnOf(ops.get(j)) < ops.get(i).invokeNanos()) {
                return false;
            }
        }
        return true;
    }
}
