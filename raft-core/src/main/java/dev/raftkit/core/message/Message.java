package dev.raftkit.core.message;

/**
 * A message between two nodes. Every message carries the sender's term; the receiver compares it
 * once, before anything else (§3.3), then handles the message by role.
 */
public sealed interface Message extends Input
        permits AppendEntries, AppendEntriesResponse, RequestVote, RequestVoteResponse, Heartbeat,
                HeartbeatResponse, InstallSnapshot, TimeoutNow, ReadIndexRequest, ReadIndexResponse, PushSnapshot {

    /**
     * The kinds of message, one per record. Code that must treat every kind — the core's role
     * handlers, the wire codec — switches over it in a switch expression, which does not compile
     * until a new kind is handled (Java 17 has no pattern switch over the sealed hierarchy).
     */
    enum Kind {
        APPEND_ENTRIES, APPEND_ENTRIES_RESPONSE, REQUEST_VOTE, REQUEST_VOTE_RESPONSE, HEARTBEAT, HEARTBEAT_RESPONSE,
        INSTALL_SNAPSHOT, TIMEOUT_NOW, READ_INDEX_REQUEST, READ_INDEX_RESPONSE, PUSH_SNAPSHOT
    }

    Kind kind();

    long from();

    long to();

    long term();

    /** Bytes this message counts for against size limits; entries dominate. */
    default long sizeBytes() {
        return 32;
    }
}
