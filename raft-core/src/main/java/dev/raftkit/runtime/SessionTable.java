package dev.raftkit.runtime;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Client sessions for exactly-once commands (thesis §6.3), part of the replicated state: every node
 * applies the same entries to the same table, and the table travels in every snapshot next to the
 * state machine image.
 *
 * <p>A session is opened by an entry (its client id is that entry's index), keeps the responses to
 * the commands it has not acknowledged yet, and expires when the leader-stamped time in the log has
 * moved {@code timeoutMillis} past its last command. Only log time is used, never a node's clock,
 * so every node expires the same sessions at the same entry. Expiry is path independent: a sweep
 * before an entry at time {@code t} removes exactly the sessions whose deadline is at or before
 * {@code t}, and sweeps run whenever {@code t} reaches the earliest deadline, so how entries were
 * batched on a node cannot change which sessions exist.
 *
 * <p>Owned by the apply thread; not thread-safe. Iteration is in client-id order (a {@link TreeMap}),
 * so encoding is deterministic too.
 */
final class SessionTable {

    /** What a session command should do. */
    enum Verdict { APPLY, DUPLICATE, SESSION_EXPIRED, RESPONSE_DISCARDED }

    private static final class Session {
        long lastActive;
        /** Responses below this were discarded (acknowledged by the client, or evicted by the cap). */
        long discardedBelow;
        final TreeMap<Long, byte[]> responses = new TreeMap<>();
    }

    private final long timeoutMillis;
    private final int maxResponsesPerSession;
    private final TreeMap<Long, Session> sessions = new TreeMap<>();
    /** A lower bound on the earliest session deadline; no session can expire before it. */
    private long nextSweep = Long.MAX_VALUE;

    SessionTable(long timeoutMillis, int maxResponsesPerSession) {
        this.timeoutMillis = timeoutMillis;
        this.maxResponsesPerSession = maxResponsesPerSession;
    }

    /** Removes every session idle for {@code timeoutMillis} as of log time {@code now}. */
    void expire(long now) {
        if (now < nextSweep) {
            return;
        }
        long earliest = Long.MAX_VALUE;
        for (Iterator<Session> it = sessions.values().iterator(); it.hasNext(); ) {
            Session s = it.next();
            long deadline = s.lastActive + timeoutMillis;
            if (deadline <= now) {
                it.remove();
            } else {
                earliest = Math.min(earliest, deadline);
            }
        }
        nextSweep = earliest;
    }

    void open(long client, long now) {
        Session s = new Session();
        s.lastActive = now;
        sessions.put(client, s);
        nextSweep = Math.min(nextSweep, now + timeoutMillis);
    }

    boolean close(long client) {
        return sessions.remove(client) != null;
    }

    boolean contains(long client) {
        return sessions.containsKey(client);
    }

    int size() {
        return sessions.size();
    }

    /**
     * Decides what to do with command {@code seq} of {@code client} at log time {@code now}, and
     * records the client's acknowledgement of every response below {@code lowestUnacked}.
     */
    Verdict check(long client, long seq, long lowestUnacked, long now) {
        Session s = sessions.get(client);
        if (s == null) {
            return Verdict.SESSION_EXPIRED;
        }
        s.lastActive = now;
        if (lowestUnacked > s.discardedBelow) {
            s.responses.headMap(lowestUnacked).clear();
            s.discardedBelow = lowestUnacked;
        }
        if (s.responses.containsKey(seq)) {
            return Verdict.DUPLICATE;
        }
        return seq < s.discardedBelow ? Verdict.RESPONSE_DISCARDED : Verdict.APPLY;
    }

    /** The response recorded for a {@link Verdict#DUPLICATE}. */
    byte[] response(long client, long seq) {
        return sessions.get(client).responses.get(seq);
    }

    /** Records the response to a command; keeps at most {@code maxResponsesPerSession}, dropping the oldest. */
    void record(long client, long seq, byte[] response) {
        Session s = sessions.get(client);
        if (s == null) {
            return;
        }
        s.responses.put(seq, response);
        while (s.responses.size() > maxResponsesPerSession) {
            Map.Entry<Long, byte[]> oldest = s.responses.pollFirstEntry();
            s.discardedBelow = Math.max(s.discardedBelow, oldest.getKey() + 1);
        }
    }

    /**
     * Replaces a response reserved earlier in the same batch; does nothing if it was evicted or the
     * session expired since (so the table ends the same however entries were batched).
     */
    void fill(long client, long seq, byte[] response) {
        Session s = sessions.get(client);
        if (s != null) {
            s.responses.replace(seq, response);
        }
    }

    /** Testing only ({@link TestingHooks#forgetSessionResponsesOnRestore}): every recorded response gone. */
    void forgetResponses() {
        for (Session s : sessions.values()) {
            s.responses.clear();
        }
    }

    void clear() {
        sessions.clear();
        nextSweep = Long.MAX_VALUE;
    }

    void writeTo(DataOutputStream out) throws IOException {
        out.writeInt(sessions.size());
        for (Map.Entry<Long, Session> e : sessions.entrySet()) {
            Session s = e.getValue();
            out.writeLong(e.getKey());
            out.writeLong(s.lastActive);
            out.writeLong(s.discardedBelow);
            out.writeInt(s.responses.size());
            for (Map.Entry<Long, byte[]> r : s.responses.entrySet()) {
                out.writeLong(r.getKey());
                out.writeInt(r.getValue().length);
                out.write(r.getValue());
            }
        }
    }

    void readFrom(DataInputStream in) throws IOException {
        clear();
        int count = in.readInt();
        long earliest = Long.MAX_VALUE;
        for (int i = 0; i < count; i++) {
            long client = in.readLong();
            Session s = new Session();
            s.lastActive = in.readLong();
            s.discardedBelow = in.readLong();
            int responses = in.readInt();
            for (int j = 0; j < responses; j++) {
                long seq = in.readLong();
                byte[] r = new byte[in.readInt()];
                in.readFully(r);
                s.responses.put(seq, r);
            }
            sessions.put(client, s);
            earliest = Math.min(earliest, s.lastActive + timeoutMillis);
        }
        nextSweep = earliest;
    }
}
