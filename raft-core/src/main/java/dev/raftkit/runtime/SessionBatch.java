package dev.raftkit.runtime;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.log.Entry;
import dev.raftkit.runtime.ApplyInput.Pending;
import dev.raftkit.spi.StateMachine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The client-session half of applying one batch (thesis §6.3): decides entry by entry whether a
 * client entry opens or closes a session, is new, is a duplicate of a command already applied (in
 * an earlier batch or earlier in this one), or is refused; gathers the new commands for one
 * {@link StateMachine#apply} call; then records their results in the {@link SessionTable} and
 * hands every proposer's outcome to the {@link Replies} of the round.
 *
 * <p>The decisions are made per entry, so they are the same however the loop batched the entries:
 * every replica reaches the same session table from the same log. Used on the apply thread only,
 * one instance per batch.
 */
final class SessionBatch {

    private static final byte[] EMPTY = new byte[0];
    /** Reserves a session's response while its command is in this batch, so a retry in the batch is a duplicate. */
    private static final byte[] PLACEHOLDER = new byte[0];

    /** One state-machine command of this batch and who waits for its result. */
    private static final class Slot {
        final Pending pending;
        final long client;
        final long seq;
        int command = -1;
        Slot duplicateOf;
        byte[] result;

        Slot(Pending pending, long client, long seq) {
            this.pending = pending;
            this.client = client;
            this.seq = seq;
        }
    }

    private record SessionKey(long client, long seq) {
    }

    private final SessionTable sessions;
    private final Replies replies;
    private final List<StateMachine.Command> commands;
    private final List<Slot> slots;
    private Map<SessionKey, Slot> inBatch;

    SessionBatch(SessionTable sessions, Replies replies, int entries) {
        this.sessions = sessions;
        this.replies = replies;
        this.commands = new ArrayList<>(entries);
        this.slots = new ArrayList<>(entries);
    }

    /**
     * Takes one client entry ({@code data} is its validated, non-empty runtime frame) applied at
     * log time {@code logTime}; {@code p} is its proposer on this node, or null.
     */
    void add(Entry e, byte[] data, Pending p, long logTime) {
        sessions.expire(logTime);
        switch (EntryCodec.kind(data)) {
            case EntryCodec.OPEN_SESSION -> {
                sessions.open(e.index(), logTime);
                replies.complete(p, e.index());
            }
            case EntryCodec.CLOSE_SESSION -> {
                sessions.close(EntryCodec.client(data));
                replies.complete(p, null);
            }
            case EntryCodec.COMMAND -> command(new Slot(p, 0, 0), e, data, logTime);
            default -> { // SESSION_COMMAND
                long client = EntryCodec.client(data);
                long seq = EntryCodec.sequence(data);
                switch (sessions.check(client, seq, EntryCodec.lowestUnacked(data), logTime)) {
                    case APPLY -> {
                        Slot s = new Slot(p, client, seq);
                        command(s, e, data, logTime);
                        // Reserve the response now so a retry later in this batch is a duplicate.
                        sessions.record(client, seq, PLACEHOLDER);
                        if (inBatch == null) {
                            inBatch = new HashMap<>();
                        }
                        inBatch.put(new SessionKey(client, seq), s);
                    }
                    case DUPLICATE -> {
                        Slot first = inBatch == null ? null : inBatch.get(new SessionKey(client, seq));
                        if (first != null) {
                            Slot s = new Slot(p, client, seq);
                            s.duplicateOf = first;
                            slots.add(s);
                        } else {
                            replies.complete(p, sessions.response(client, seq));
                        }
                    }
                    case SESSION_EXPIRED -> replies.fail(p, new RaftException(RaftException.Reason.SESSION_EXPIRED,
                            0, "client session " + client + " is unknown or expired (idle longer than the session"
                            + " timeout in log time); open a new session"));
                    case RESPONSE_DISCARDED -> replies.fail(p, new RaftException(
                            RaftException.Reason.RESPONSE_DISCARDED, 0, "session " + client + " command " + seq
                            + " was applied but its result was discarded (acknowledged or beyond"
                            + " maxResponsesPerSession); it is not applied again"));
                }
            }
        }
    }

    private void command(Slot s, Entry e, byte[] data, long logTime) {
        s.command = commands.size();
        commands.add(new StateMachine.Command(e.index(), e.term(), logTime, EntryCodec.payload(data)));
        slots.add(s);
    }

    private long first() {
        return commands.get(0).index();
    }

    private long last() {
        return commands.get(commands.size() - 1).index();
    }

    /**
     * Applies the batch's commands with one {@link StateMachine#apply} call, records each session
     * command's result, and hands every waiting proposer its result (a duplicate in the batch gets
     * its first copy's).
     */
    /** Commands that reach {@code StateMachine.apply} (duplicates and refusals do not). */
    int commandCount() {
        return commands.size();
    }

    void applyTo(StateMachine sm) {
        if (!commands.isEmpty()) {
            List<byte[]> results;
            try {
                results = sm.apply(commands);
                if (results == null || results.size() != commands.size()) {
                    throw new IllegalStateException("StateMachine.apply returned " + (results == null ? "null"
                            : results.size() + " results") + " for " + commands.size() + " commands (entries "
                            + first() + ".." + last() + "); it must return one result per command");
                }
            } catch (RuntimeException | Error e) {
                // The apply thread fails and the node stops (fail-stop). These proposers are out of
                // the pending map already, so the stop would not reach them: tell them here.
                RaftException stopped = new RaftException(RaftException.Reason.STOPPED, 0, "the state machine failed"
                        + " applying entries " + first() + ".." + last() + " (" + e + "), so this node stops; the"
                        + " entries are committed: retry with the same session and sequence number at another node", e);
                for (Slot slot : slots) {
                    replies.fail(slot.pending, stopped);
                }
                throw e;
            }
            for (Slot s : slots) {
                if (s.duplicateOf == null) {
                    byte[] r = results.get(s.command);
                    s.result = r == null ? EMPTY : r;
                    if (s.client != 0) {
                        sessions.fill(s.client, s.seq, s.result);
                    }
                }
            }
        }
        for (Slot s : slots) {
            replies.complete(s.pending, s.duplicateOf != null ? s.duplicateOf.result : s.result);
        }
    }
}
