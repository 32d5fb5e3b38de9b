package dev.raftkit.jepsen.real;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Acknowledged writes that the final reads prove lost. Values are unique, so the final value
 * {@code v} of a key names the one operation that wrote it; every acknowledged write (or swapped
 * CAS) invoked after that operation completed was ordered after it in real time and should have
 * replaced {@code v}. Finding {@code v} instead means it was lost. If the final value is absent,
 * every acknowledged write of the key was lost. A conservative count: concurrent writes are never
 * blamed; the linearizability check judges those.
 */
final class LostWrites {

    private LostWrites() {
    }

    static List<Operation> find(History history) {
        List<Operation> lost = new ArrayList<>();
        for (Map.Entry<String, List<Operation>> e : history.byKey().entrySet()) {
            List<Operation> ops = e.getValue();
            Operation last = null;
            for (Operation op : ops) {
                if (op.process() == ClientWorkload.FINAL_PROCESS && op.status() == OpStatus.OK) {
                    last = op;
                }
            }
            if (last == null) {
                continue; // not verified; the run reports failed final reads separately
            }
            String v = ((Response.ReadValue) last.response()).value();
            Operation producer = null;
            for (Operation op : ops) {
                if (v != null && v.equals(written(op))) {
                    producer = op;
                }
            }
            for (Operation op : ops) {
                if (op == producer || !acknowledged(op)) {
                    continue;
                }
                boolean after = v == null || (producer != null && op.invokeNanos() > producer.completeNanos());
                if (after && op.completeNanos() < last.invokeNanos()) {
                    lost.add(op);
                }
            }
        }
        return lost;
    }

    /** The value {@code op} would write, if it writes. */
    private static String written(Operation op) {
        if (op.command() instanceof Command.Write w) {
            return w.value();
        }
        if (op.command() instanceof Command.Cas c) {
            return c.newValue();
        }
        return null;
    }

    private static boolean acknowledged(Operation op) {
        if (op.status() != OpStatus.OK) {
            return false;
        }
        return op.command() instanceof Command.Write
                || (op.command() instanceof Command.Cas && Objects.equals(op.response(), Response.cas(true)));
    }
}
