package dev.raftkit.core.message;

/**
 * A message between two nodes. Every message carries the sender's term; the receiver compares it
 * once, before anything else (§3.3), then handles the message by role.
 */
public sealed interface Message extends Input
        permits AppendEntries, AppendEntriesResponse, RequestVote, RequestVoteResponse, Heartbeat,
                HeartbeatResponse, InstallSnapshot, TimeoutNow, ReadIndexRequest, ReadIndexResponse {

    long from();

    long to();

    long term();

    /** Bytes this message counts for against size limits; entries dominate. */
    default long sizeBytes() {
        return 32;
    }
}
