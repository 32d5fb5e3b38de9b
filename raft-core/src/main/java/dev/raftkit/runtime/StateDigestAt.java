package dev.raftkit.runtime;

import dev.raftkit.spi.StateMachine;

/**
 * A node's state at one applied index, read on the apply thread between two batches so the three
 * values belong together: nothing was applied between reading the index and computing the digest.
 *
 * @param index         the node's applied index (the last entry applied, commands or not)
 * @param term          the term of the entry at {@code index}
 * @param logTimeMillis the log time there: the highest leader timestamp applied so far (0 before
 *                      any command); see {@link StateMachine.Command#timestampMillis()}
 * @param digest        the state machine's {@link StateMachine#stateDigest()} there, or null if it
 *                      has none
 */
public record StateDigestAt(long index, long term, long logTimeMillis, String digest) {

    public StateDigestAt {
        if (digest != null) {
            StateMachine.checkStateDigest(digest);
        }
    }
}
