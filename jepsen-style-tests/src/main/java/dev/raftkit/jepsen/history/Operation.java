package dev.raftkit.jepsen.history;

import java.util.Objects;

/**
 * One client operation: its invocation and its completion.
 *
 * @param id            unique within a history; also its index in {@link History#operations()}
 * @param process       the client (process) that issued it; a client issues one operation at a time
 * @param command       what was asked
 * @param invokeNanos   when the client invoked it (virtual or real nanoseconds)
 * @param status        how it completed
 * @param completeNanos when the client saw the completion; for {@link OpStatus#INFO} the time the
 *                      client gave up ({@link #NEVER} if it never completed), which the checker
 *                      ignores because the operation may take effect at any later time
 * @param response      the answer for {@link OpStatus#OK}; {@code null} otherwise
 */
public record Operation(long id, int process, Command command, long invokeNanos, OpStatus status,
                        long completeNanos, Response response) {

    /** Completion time of an operation that never completed. */
    public static final long NEVER = Long.MAX_VALUE;

    public Operation {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(status, "status");
        if (completeNanos < invokeNanos) {
            throw new IllegalArgumentException("operation " + id + " completes at " + completeNanos
                    + " before its invocation at " + invokeNanos + "; timestamps must not go backwards");
        }
        if (status == OpStatus.OK) {
            if (response == null || !Response.fits(command, response)) {
                throw new IllegalArgumentException("operation " + id + " (" + command
                        + ") completed OK with response " + response + ", which does not fit the command");
            }
        } else if (response != null) {
            throw new IllegalArgumentException("operation " + id + " completed " + status
                    + " but carries a response " + response + "; only OK operations have one");
        }
    }

    /** The key this operation touches. */
    public String key() {
        return command.key();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append('#').append(id).append(" p").append(process).append(' ');
        if (command instanceof Command.Write w) {
            b.append("write(").append(w.key()).append(", ").append(w.value()).append(')');
        } else if (command instanceof Command.Read r) {
            b.append("read(").append(r.key()).append(')');
        } else {
            Command.Cas c = (Command.Cas) command;
            b.append("cas(").append(c.key()).append(", ").append(show(c.expected())).append(" -> ")
                    .append(c.newValue()).append(')');
        }
        b.append(' ').append(status.name().toLowerCase(java.util.Locale.ROOT));
        if (response instanceof Response.ReadValue rv) {
            b.append(' ').append(show(rv.value()));
        } else if (response instanceof Response.CasResult cr) {
            b.append(cr.swapped() ? " swapped" : " compare-failed");
        }
        b.append(" [").append(invokeNanos).append(", ")
                .append(completeNanos == NEVER ? "never" : Long.toString(completeNanos)).append(']');
        return b.toString();
    }

    private static String show(String value) {
        return value == null ? "absent" : value;
    }
}
