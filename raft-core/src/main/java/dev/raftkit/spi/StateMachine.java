package dev.raftkit.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;

/**
 * The application's replicated state: commands are applied in log order on every node, so every
 * node holds the same state at the same index.
 *
 * <ul>
 *   <li><b>Thread:</b> one thread, the apply thread, for every method except
 *       {@link Snapshot#writeTo}, which the snapshot pool runs while applying goes on, and
 *       {@link #validate}, which client threads call concurrently with everything else.
 *   <li><b>Blocking:</b> may block (it is the application's work), but slow applies delay
 *       every client; keep them short and batched.
 *   <li><b>Durability:</b> none required: after a restart the runtime restores the latest
 *       snapshot and replays the log from {@link #lastApplied()}. A state machine that persists its
 *       own state reports how far it got through {@code lastApplied()}.
 *   <li><b>Exceptions:</b> an exception from {@link #apply} is fatal — replicas would diverge — and
 *       stops the node. {@link #query} exceptions fail only that read.
 * </ul>
 *
 * <p><b>Determinism.</b> {@code apply} must produce the same state and results from the same
 * commands on every node: no clocks (use {@link Command#timestampMillis()}, stamped by the leader),
 * no randomness (derive it from the index), no iteration over hash-ordered collections.
 */
public interface StateMachine extends AutoCloseable {

    /**
     * A committed command. {@code timestampMillis} is the leader's clock when it accepted the
     * command, the same on every node; use it instead of a local clock.
     */
    record Command(long index, long term, long timestampMillis, byte[] payload) {
    }

    /** A point-in-time image of the state, written out while applying continues. */
    interface Snapshot extends AutoCloseable {

        /** The index of the last command the image includes ({@link StateMachine#lastApplied()} when captured). */
        long index();

        /** Writes the image; called on the snapshot pool, concurrently with {@code apply}. */
        void writeTo(OutputStream out) throws IOException;

        @Override
        void close();
    }

    /**
     * Checks a client's command before it is proposed, so a command {@link #apply} would refuse
     * anyway (too large, malformed, over the state machine's own limits) never costs a log entry
     * on every replica. The default accepts everything.
     *
     * <ul>
     *   <li><b>Thread:</b> the thread that calls {@code RaftServer.submit}, on the node the client
     *       asked, concurrently with {@code apply} and with other validations; never the raft loop
     *       or the apply thread. For the gRPC client port that is the port's network thread (the
     *       Netty event loop that read the request), shared by the clients of that port.
     *   <li><b>Blocking:</b> must not block or do I/O, and should cost time in proportion to the
     *       command's size (a decode): a slow check delays the other clients of the port.
     *   <li><b>State:</b> judge the command's bytes only, never the current state: the state at
     *       apply time may differ, and reading it here would race with {@code apply}. {@code apply}
     *       must still cope deterministically with every command (an older node, or a leader with
     *       another version, may have proposed it).
     *   <li><b>Exceptions:</b> throw {@link InvalidCommandException} to refuse the command: the
     *       client gets a non-retryable {@code INVALID} refusal carrying its message, and nothing
     *       is proposed. Any other exception is treated as a bug in the state machine and also
     *       refuses the command.
     * </ul>
     */
    default void validate(byte[] command) {
    }

    /** Applies commands in order; returns one result per command (empty array for none). */
    List<byte[]> apply(List<Command> commands);

    /**
     * The index of the last command applied (and, for a persistent state machine, durable), or the
     * index given to the last {@link #restore}; 0 for a fresh one. Entries that are not commands
     * (leader no-ops, membership changes, client-session bookkeeping) advance the log without
     * reaching the state machine, so this may be below the node's applied index.
     */
    long lastApplied();

    /** Captures the state as of {@link #lastApplied()}, cheaply: the writing happens later. */
    Snapshot snapshot();

    /**
     * Replaces the whole state with the image in {@code in}; afterwards {@link #lastApplied()} is
     * {@code index}. {@code index} is the snapshot's position in the log, which may be past the
     * image's own {@link Snapshot#index()}: entries between the two were not commands. An image
     * that includes commands beyond {@code index} is mislabelled and must be refused.
     *
     * @throws IOException if the image is damaged or mislabelled; the state must then be unchanged
     */
    void restore(long index, InputStream in) throws IOException;

    /** Answers a read-only query against the current state. */
    byte[] query(byte[] query);

    /**
     * A digest of the whole current state, for checking a backup or a restore against the state
     * it came from (docs/storage-format.md, "State digests"). It must be a function of the state
     * alone: equal on every replica at the same applied index, and the same whether the state
     * was reached by {@link #restore restoring} a snapshot or by applying the commands one by
     * one (so it must not include {@link #lastApplied()}, which differs between the two when the
     * log holds entries that are not commands). Two different states should have different
     * digests: use a cryptographic hash over a canonical encoding (sorted keys, lengths before
     * variable-length fields).
     *
     * <p>The text is one token of at most {@value #MAX_STATE_DIGEST_CHARS} characters from
     * {@code [A-Za-z0-9:+/=_.-]}, conventionally the algorithm, a colon and the hash in hex
     * ({@code sha256:9f86d0…}); it is compared as text and written into backup manifests.
     *
     * <ul>
     *   <li><b>Thread:</b> the apply thread, between batches (never concurrently with
     *       {@code apply}, {@code restore} or {@code query}); offline tools (a restore's check,
     *       {@code raftkit backup verify --deep}) call it on their own thread on a state machine
     *       no server runs.
     *   <li><b>Blocking:</b> may block, but applying waits for it: it costs a pass over the whole
     *       state (O(size)), so the runtime calls it only when asked ({@code RaftServer.stateDigest},
     *       a backup), never per batch.
     *   <li><b>Durability:</b> reads only; changes nothing.
     *   <li><b>Exceptions:</b> an exception fails only the request that asked for the digest (a
     *       backup then fails and says why); the node goes on.
     * </ul>
     *
     * @return the digest, or empty if this state machine has none (the default): backups then
     *         record no digest and restores cannot check the state they rebuild
     */
    default Optional<String> stateDigest() {
        return Optional.empty();
    }

    /** The longest {@link #stateDigest()} accepted. */
    int MAX_STATE_DIGEST_CHARS = 200;

    /**
     * Checks a {@link #stateDigest()} value's form; returns it.
     *
     * @throws IllegalArgumentException saying what is wrong, for a digest that could not be
     *                                  written into a manifest line
     */
    static String checkStateDigest(String digest) {
        if (digest == null || digest.isEmpty() || digest.length() > MAX_STATE_DIGEST_CHARS
                || !digest.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || ":+/=_.-".indexOf(c) >= 0)) {
            String shown = digest == null ? "null" : digest.length() > 60 ? digest.substring(0, 60) + "…" : digest;
            throw new IllegalArgumentException("a state digest is one token of 1.." + MAX_STATE_DIGEST_CHARS
                    + " characters from [A-Za-z0-9:+/=_.-], got '" + shown + "'; fix the state machine's stateDigest()");
        }
        return digest;
    }

    @Override
    default void close() {
    }
}
