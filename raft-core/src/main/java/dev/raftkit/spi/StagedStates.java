package dev.raftkit.spi;

import java.io.IOException;
import java.io.InputStream;

/**
 * Where a replica keeps the state-machine images staged for live restores ({@link StagedState}),
 * and how it gets one it lacks. When the apply thread reaches a live-restore entry it opens the
 * named image here and restores the state machine from it at that entry's index; if this node does
 * not hold it, the apply thread asks for it with {@link #fetch} and applies nothing further until
 * it is held — it never skips the entry and never applies past it, so replicas cannot diverge.
 *
 * <ul>
 *   <li><b>Thread:</b> the apply thread calls {@link #open} and {@link #fetch}, at start-up
 *       replay and while running; {@code fetch}'s callback may run on any thread.
 *   <li><b>Blocking:</b> {@code open} may read the image once to check it (it is on the apply
 *       path, once per live restore); {@code fetch} must not block: it starts the transfer and
 *       returns.
 *   <li><b>Durability:</b> an image {@code open} finds must stay until the node holds a snapshot
 *       past the live-restore entry: a restart replays the entry again.
 *   <li><b>Exceptions:</b> an {@link IOException} from {@code open} (the image is held but does not
 *       match its size or SHA-256, or cannot be read) stops the node: applying anything else would
 *       diverge from the replicas that applied the image.
 * </ul>
 */
public interface StagedStates {

    /** A node with no staging area: a live-restore entry stops it, saying so. */
    StagedStates NONE = new StagedStates() {
        @Override
        public InputStream open(StagedState state) throws IOException {
            throw new IOException("this node has no staging area for live restores (RaftServerBuilder.stagedStates),"
                    + " so it cannot apply " + state + "; run it as a RaftNode, or give the server a StagedStates");
        }

        @Override
        public void fetch(StagedState state, Runnable held) {
        }
    };

    /**
     * The image named by {@code state}, checked against its size and SHA-256, or null if this
     * node does not hold it (yet). The caller closes the stream.
     */
    InputStream open(StagedState state) throws IOException;

    /**
     * Starts getting the image from another node (the origin first, then any member), and runs
     * {@code held} once it is stored here, so {@link #open} finds it. Keeps trying, at its own
     * pace, until it succeeds or the node closes; it may call {@code held} after a failed attempt
     * too (the apply thread then opens, finds nothing, and asks again).
     */
    void fetch(StagedState state, Runnable held);
}
