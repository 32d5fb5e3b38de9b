package dev.raftkit.jepsen.checker;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Response;
import java.util.Objects;
import java.util.Optional;

/**
 * A single read/write/compare-and-set register — the model of one key of a key-value store.
 * Applied per key, it checks a whole store (see {@link LinearizabilityChecker}).
 *
 * <ul>
 *   <li>a write always takes effect;</li>
 *   <li>a read is possible only in a state holding the value it observed (absent included);</li>
 *   <li>a CAS that swapped is possible only where the register held the expected value;</li>
 *   <li>a CAS that answered "compare failed" is possible only where the register held something
 *       <em>else</em> — it is a read of "not expected", and it changes nothing;</li>
 *   <li>an indeterminate CAS, if it took effect at all, is checked as the swap: the non-swapping
 *       outcome changes nothing and observes nothing, exactly like not taking effect.</li>
 * </ul>
 */
public final class RegisterModel implements Model<RegisterModel.Register, Operation> {

    /** The register's value; {@code value == null} means absent. */
    public record Register(String value) {
        public static final Register ABSENT = new Register(null);
    }

    @Override
    public Register init() {
        return Register.ABSENT;
    }

    @Override
    public Optional<Register> step(Register state, Operation op) {
        Command c = op.command();
        if (c instanceof Command.Write w) {
            return Optional.of(new Register(w.value()));
        }
        if (c instanceof Command.Read) {
            if (op.status() != OpStatus.OK) {
                return Optional.of(state); // observed nothing we know of
            }
            String observed = ((Response.ReadValue) op.response()).value();
            return Objects.equals(state.value(), observed) ? Optional.of(state) : Optional.empty();
        }
        Command.Cas cas = (Command.Cas) c;
        boolean matches = Objects.equals(state.value(), cas.expected());
        boolean swapped = op.status() != OpStatus.OK || ((Response.CasResult) op.response()).swapped();
        if (swapped) {
            return matches ? Optional.of(new Register(cas.newValue())) : Optional.empty();
        }
        return matches ? Optional.empty() : Optional.of(state);
    }

    @Override
    public String describe(Register state) {
        return state.value() == null ? "absent" : state.value();
    }
}
