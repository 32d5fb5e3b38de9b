package dev.raftkit.core;

import dev.raftkit.core.confchange.AppliedConfChange;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import java.util.List;

/**
 * Everything the runtime must do after some steps, numbered so persistence can be acknowledged.
 *
 * <p>The contract (one mode only):
 * <ol>
 *   <li>Taking a Ready accepts it: its entries become "in progress" and are never handed out
 *       twice. The node may keep stepping at once.
 *   <li>Persist ({@link #snapshot}, then {@link #entries}, then {@link #hardState}) in Ready order;
 *       many Readys may share one fsync (group commit).
 *   <li>After the fsync covering Ready <i>n</i>: send <i>n</i>'s {@link #messagesAfterPersist},
 *       then call {@code onPersisted(n)}.
 *   <li>Apply {@link #committedEntries} in order, then call {@code onApplied(lastIndex)}. For
 *       each configuration-change entry among them, {@link #confChanges} says the configuration in
 *       effect after it as the core applied it, so no runtime decodes or re-checks one itself.
 *   <li>A snapshot is installed before this Ready's entries, and restored into the state machine
 *       before any later committed entry is applied.
 *   <li>A failed persist is fail-stop: no acknowledgement; the node stops.
 * </ol>
 *
 * <p>{@link #messages} may be sent at once, before anything is persisted: they promise nothing
 * about this node's durable state (for a leader: AppendEntries, which may go out before its own
 * fsync, §10.2.1). {@link #messagesAfterPersist} do (votes granted, append acknowledgements), and
 * the type keeps the two apart so no runtime sends a vote before it is durable by accident.
 * {@link #snapshotsToSend} may be sent at once too; each names a snapshot whose bytes the runtime
 * streams from its snapshot store, so they are not mixed with the messages a transport sends whole.
 *
 * @param number               increases by one per Ready, starting at 1
 * @param softState            leader and role, when changed since the previous Ready, else null
 * @param hardState            term, vote, commit to persist, when changed, else null
 * @param entries              to append; the first may overwrite a suffix of the stored log
 * @param snapshot             snapshot metadata to install, or null
 * @param messages             may be sent at once
 * @param messagesAfterPersist may be sent only after this Ready and every earlier one are durable
 * @param snapshotsToSend      InstallSnapshot headers whose snapshot the runtime streams; may be sent at once
 * @param committedEntries     committed and durable locally; apply in order
 * @param confChanges          one per configuration-change entry in {@code committedEntries}, in order
 * @param readStates           ReadIndex results
 * @param mustSync             whether persisting this Ready needs an fsync
 */
public record Ready(long number, SoftState softState, HardState hardState, List<Entry> entries,
                    SnapshotMeta snapshot, List<Message> messages, List<Message> messagesAfterPersist,
                    List<InstallSnapshot> snapshotsToSend, List<Entry> committedEntries,
                    List<AppliedConfChange> confChanges, List<ReadState> readStates, boolean mustSync) {

    public Ready {
        entries = List.copyOf(entries);
        messages = List.copyOf(messages);
        messagesAfterPersist = List.copyOf(messagesAfterPersist);
        snapshotsToSend = List.copyOf(snapshotsToSend);
        committedEntries = List.copyOf(committedEntries);
        confChanges = List.copyOf(confChanges);
        readStates = List.copyOf(readStates);
    }

    /** True if the runtime has anything to write to storage for this Ready. */
    public boolean hasPersistWork() {
        return hardState != null || !entries.isEmpty() || snapshot != null;
    }

    /** Index of the last committed entry in this Ready, or -1 if there is none. */
    public long lastCommittedIndex() {
        return committedEntries.isEmpty() ? -1 : committedEntries.get(committedEntries.size() - 1).index();
    }
}
