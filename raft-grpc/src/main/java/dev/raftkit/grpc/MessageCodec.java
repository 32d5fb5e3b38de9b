package dev.raftkit.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.raftkit.core.ReadMode;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.Changer;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.Heartbeat;
import dev.raftkit.core.message.HeartbeatResponse;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.PushSnapshot;
import dev.raftkit.core.message.ReadIndexRequest;
import dev.raftkit.core.message.ReadIndexResponse;
import dev.raftkit.core.message.RequestVote;
import dev.raftkit.core.message.RequestVoteResponse;
import dev.raftkit.core.message.TimeoutNow;
import dev.raftkit.grpc.proto.AppendEntriesProto;
import dev.raftkit.grpc.proto.AppendEntriesResponseProto;
import dev.raftkit.grpc.proto.ConfStateProto;
import dev.raftkit.grpc.proto.EntryIdProto;
import dev.raftkit.grpc.proto.EntryProto;
import dev.raftkit.grpc.proto.EntryTypeProto;
import dev.raftkit.grpc.proto.HeartbeatProto;
import dev.raftkit.grpc.proto.HeartbeatResponseProto;
import dev.raftkit.grpc.proto.InstallSnapshotProto;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.grpc.proto.PushSnapshotProto;
import dev.raftkit.grpc.proto.ReadConsistencyProto;
import dev.raftkit.grpc.proto.ReadIndexRequestProto;
import dev.raftkit.grpc.proto.ReadIndexResponseProto;
import dev.raftkit.grpc.proto.RequestVoteProto;
import dev.raftkit.grpc.proto.RequestVoteResponseProto;
import dev.raftkit.grpc.proto.SnapshotMetaProto;
import dev.raftkit.grpc.proto.TimeoutNowProto;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Converts core {@link Message}s to and from their wire form ({@code raft.proto}).
 *
 * <p>Decoding is a gateway into the core (docs/architecture.md, section Transport and client access: slices are validated where data
 * enters), so it checks everything the core would otherwise have to trust: node ids are positive
 * and differ, terms are between 0 and {@link EntryId#MAX_TERM} and indexes between 0 and
 * {@link EntryId#MAX_INDEX} (so no arithmetic on them can overflow, in the core or here; a
 * {@code uint64} above {@link Long#MAX_VALUE} arrives negative and is refused too), enums are known, entries are contiguous with non-decreasing terms that never
 * exceed the message's term, configurations hold their invariants, and sizes are within limits.
 * A failed check throws {@link InvalidMessageException} naming the field. Stateless and
 * thread-safe.
 */
public final class MessageCodec {

    /** Longest cluster id accepted, in UTF-8 bytes. */
    public static final int MAX_CLUSTER_ID_BYTES = 128;
    /** Most node ids accepted in one list of a configuration. */
    public static final int MAX_MEMBERS = 1024;

    private MessageCodec() {
    }

    /** Checks a cluster id for use on the wire: non-blank and short. */
    public static String checkClusterId(String clusterId) {
        if (clusterId == null || clusterId.isBlank()) {
            throw new IllegalArgumentException("cluster id must be a non-blank string");
        }
        if (clusterId.getBytes(StandardCharsets.UTF_8).length > MAX_CLUSTER_ID_BYTES) {
            throw new IllegalArgumentException("cluster id is longer than " + MAX_CLUSTER_ID_BYTES + " bytes: "
                    + Untrusted.quote(clusterId));
        }
        return clusterId;
    }

    // ---------------------------------------------------------------------------------- encode

    /** The wire form of {@code m}, stamped with {@code clusterId}. */
    public static PeerEnvelope encode(String clusterId, Message m) {
        PeerEnvelope.Builder b = PeerEnvelope.newBuilder()
                .setClusterId(clusterId).setFrom(m.from()).setTo(m.to()).setTerm(m.term());
        // A switch expression over the kind: a new message kind does not compile until it has a wire form.
        PeerEnvelope.Builder done = switch (m.kind()) {
            case APPEND_ENTRIES -> b.setAppendEntries(encodeAppend((AppendEntries) m));
            case APPEND_ENTRIES_RESPONSE -> {
                AppendEntriesResponse r = (AppendEntriesResponse) m;
                yield b.setAppendEntriesResponse(AppendEntriesResponseProto.newBuilder()
                        .setReject(r.reject()).setIndex(r.index()).setHint(encode(r.hint()))
                        .setRecovering(r.recovering()));
            }
            case REQUEST_VOTE -> {
                RequestVote v = (RequestVote) m;
                yield b.setRequestVote(RequestVoteProto.newBuilder()
                        .setLastLog(encode(v.lastLog())).setPreVote(v.preVote()).setTransfer(v.transfer()));
            }
            case REQUEST_VOTE_RESPONSE -> {
                RequestVoteResponse r = (RequestVoteResponse) m;
                yield b.setRequestVoteResponse(RequestVoteResponseProto.newBuilder()
                        .setPreVote(r.preVote()).setGranted(r.granted()));
            }
            case HEARTBEAT -> {
                Heartbeat h = (Heartbeat) m;
                HeartbeatProto.Builder hb = HeartbeatProto.newBuilder().setCommit(h.commit()).setContext(h.context());
                if (!h.matched().equals(EntryId.ZERO)) {
                    hb.setMatched(encode(h.matched()));
                }
                yield b.setHeartbeat(hb);
            }
            case HEARTBEAT_RESPONSE -> {
                HeartbeatResponse r = (HeartbeatResponse) m;
                yield b.setHeartbeatResponse(HeartbeatResponseProto.newBuilder().setContext(r.context())
                        .setRecovering(r.recovering()));
            }
            case INSTALL_SNAPSHOT -> {
                InstallSnapshot s = (InstallSnapshot) m;
                InstallSnapshotProto.Builder sb = InstallSnapshotProto.newBuilder().setSnapshot(encode(s.snapshot()));
                if (s.fromPeer()) {
                    sb.setLeader(s.leader());
                }
                yield b.setInstallSnapshot(sb);
            }
            case TIMEOUT_NOW -> b.setTimeoutNow(TimeoutNowProto.getDefaultInstance());
            case READ_INDEX_REQUEST -> {
                ReadIndexRequest r = (ReadIndexRequest) m;
                yield b.setReadIndexRequest(ReadIndexRequestProto.newBuilder()
                        .setRequestId(r.requestId()).setConsistency(encode(r.mode())));
            }
            case READ_INDEX_RESPONSE -> {
                ReadIndexResponse r = (ReadIndexResponse) m;
                yield b.setReadIndexResponse(ReadIndexResponseProto.newBuilder()
                        .setRequestId(r.requestId()).setIndex(r.index()));
            }
            case PUSH_SNAPSHOT -> {
                PushSnapshot p = (PushSnapshot) m;
                yield b.setPushSnapshot(PushSnapshotProto.newBuilder().setTarget(p.target()).setMinIndex(p.minIndex()));
            }
        };
        return done.build();
    }

    private static AppendEntriesProto encodeAppend(AppendEntries a) {
        AppendEntriesProto.Builder b = AppendEntriesProto.newBuilder()
                .setPrev(encode(a.slice().prev())).setCommit(a.commit());
        for (Entry e : a.slice().entries()) {
            // Entry payloads are immutable once created (see Entry), so wrapping saves a copy of
            // every replicated byte on the leader's hot path.
            b.addEntries(EntryProto.newBuilder().setTerm(e.term()).setIndex(e.index())
                    .setType(e.type() == EntryType.NORMAL ? EntryTypeProto.ENTRY_TYPE_NORMAL
                            : EntryTypeProto.ENTRY_TYPE_CONF_CHANGE)
                    .setData(UnsafeByteOperations.unsafeWrap(e.data())));
        }
        return b.build();
    }

    static EntryIdProto encode(EntryId id) {
        return EntryIdProto.newBuilder().setTerm(id.term()).setIndex(id.index()).build();
    }

    /** The wire form of snapshot metadata (also used in the snapshot stream's header). */
    public static SnapshotMetaProto encode(SnapshotMeta meta) {
        ConfState c = meta.conf();
        return SnapshotMetaProto.newBuilder().setLast(encode(meta.last()))
                .setConf(ConfStateProto.newBuilder()
                        .addAllVoters(c.voters()).addAllVotersOutgoing(c.votersOutgoing())
                        .addAllLearners(c.learners()).addAllLearnersNext(c.learnersNext())
                        .setAutoLeave(c.autoLeave()))
                .build();
    }

    private static ReadConsistencyProto encode(ReadMode c) {
        return switch (c) {
            case LINEARIZABLE -> ReadConsistencyProto.READ_CONSISTENCY_SAFE;
            case LEASE -> ReadConsistencyProto.READ_CONSISTENCY_LEASE;
            // ReadIndexRequest refuses STALE: a stale read never reaches the core.
            case STALE -> throw new IllegalArgumentException("a STALE read has no ReadIndex wire form");
        };
    }

    // ---------------------------------------------------------------------------------- decode

    /**
     * The message in {@code e}, fully validated. Does not look at the cluster id: the transport
     * checks it first, to refuse other clusters' streams with a log line of their own.
     *
     * @throws InvalidMessageException naming the first field that is missing or invalid
     */
    public static Message decode(PeerEnvelope e) {
        return decode(e, null);
    }

    /**
     * {@link #decode(PeerEnvelope)} of an envelope as {@link PeerWire} read it: an append read on
     * its fast path has its entries in {@code entries} (validated here just the same); null when
     * {@code e} holds them.
     */
    static Message decode(PeerEnvelope e, PeerWire.RawEntries entries) {
        long from = nodeId(e.getFrom(), "from");
        long to = nodeId(e.getTo(), "to");
        if (from == to) {
            throw new InvalidMessageException("message from node " + from + " to itself");
        }
        long term = term(e.getTerm(), "term");
        try {
            return switch (e.getBodyCase()) {
                case APPEND_ENTRIES -> decodeAppend(from, to, term, e.getAppendEntries(),
                        entries != null ? entries : PeerWire.RawEntries.of(e.getAppendEntries()));
                case APPEND_ENTRIES_RESPONSE -> {
                    AppendEntriesResponseProto r = e.getAppendEntriesResponse();
                    yield new AppendEntriesResponse(from, to, term, r.getReject(),
                            index(r.getIndex(), "index"), entryId(r.hasHint(), r.getHint(), "hint"), r.getRecovering());
                }
                case REQUEST_VOTE -> {
                    RequestVoteProto v = e.getRequestVote();
                    EntryId lastLog = entryId(v.hasLastLog(), v.getLastLog(), "last_log");
                    yield new RequestVote(from, to, term, lastLog, v.getPreVote(), v.getTransfer());
                }
                case REQUEST_VOTE_RESPONSE -> new RequestVoteResponse(from, to, term,
                        e.getRequestVoteResponse().getPreVote(), e.getRequestVoteResponse().getGranted());
                case HEARTBEAT -> decodeHeartbeat(from, to, term, e.getHeartbeat());
                case HEARTBEAT_RESPONSE -> new HeartbeatResponse(from, to, term, e.getHeartbeatResponse().getContext(),
                        e.getHeartbeatResponse().getRecovering());
                case INSTALL_SNAPSHOT -> {
                    InstallSnapshotProto s = e.getInstallSnapshot();
                    if (!s.hasSnapshot()) {
                        throw new InvalidMessageException("snapshot metadata is missing");
                    }
                    SnapshotMeta meta = decode(s.getSnapshot());
                    if (meta.term() > term) {
                        throw new InvalidMessageException("snapshot ends at " + meta.last()
                                + ", after the sender's term " + term);
                    }
                    // A peer streaming for the leader names it; absent, the sender is the leader.
                    long leader = s.getLeader() == 0 ? from : nodeId(s.getLeader(), "install_snapshot.leader");
                    if (leader == to) {
                        throw new InvalidMessageException("install_snapshot.leader is the receiver, node " + to);
                    }
                    yield new InstallSnapshot(from, to, term, meta, leader);
                }
                case TIMEOUT_NOW -> new TimeoutNow(from, to, term);
                case READ_INDEX_REQUEST -> new ReadIndexRequest(from, to, term,
                        e.getReadIndexRequest().getRequestId(), decode(e.getReadIndexRequest().getConsistency()));
                case READ_INDEX_RESPONSE -> new ReadIndexResponse(from, to, term,
                        e.getReadIndexResponse().getRequestId(),
                        index(e.getReadIndexResponse().getIndex(), "index"));
                case PUSH_SNAPSHOT -> {
                    PushSnapshotProto p = e.getPushSnapshot();
                    long target = nodeId(p.getTarget(), "push_snapshot.target");
                    if (target == from || target == to) {
                        throw new InvalidMessageException("push_snapshot.target " + target
                                + " must be a third node, not the sender or the receiver");
                    }
                    long minIndex = index(p.getMinIndex(), "push_snapshot.min_index");
                    if (minIndex == 0) {
                        throw new InvalidMessageException("push_snapshot.min_index must be positive");
                    }
                    yield new PushSnapshot(from, to, term, target, minIndex);
                }
                case BODY_NOT_SET -> throw new InvalidMessageException("message has no body (unknown kind?)");
            };
        } catch (InvalidMessageException ex) {
            throw new InvalidMessageException("invalid " + where(e, from, to) + ": " + ex.getMessage(), ex);
        } catch (IllegalArgumentException ex) {
            // A record constructor refused a value the checks above let through.
            throw new InvalidMessageException("invalid " + where(e, from, to) + ": " + ex.getMessage(), ex);
        }
    }

    /** Names a message in an error (built only then: decoding runs for every message received). */
    private static String where(PeerEnvelope e, long from, long to) {
        return e.getBodyCase() + " from node " + from + " to node " + to;
    }

    private static Heartbeat decodeHeartbeat(long from, long to, long term, HeartbeatProto h) {
        EntryId matched = h.hasMatched() ? entryId(true, h.getMatched(), "matched") : EntryId.ZERO;
        if (matched.term() > term) {
            throw new InvalidMessageException("matched " + matched + " has a term above the leader's term " + term);
        }
        return new Heartbeat(from, to, term, index(h.getCommit(), "commit"), h.getContext(), matched);
    }

    private static AppendEntries decodeAppend(long from, long to, long term, AppendEntriesProto a,
                                              PeerWire.RawEntries raw) {
        EntryId prev = entryId(a.hasPrev(), a.getPrev(), "prev");
        List<Entry> entries = new ArrayList<>(raw.count());
        for (int i = 0; i < raw.count(); i++) {
            long entryTerm = raw.term(i);
            long index = raw.index(i);
            // The field's name is built only for an error: this runs for every entry received.
            String field = entryTerm < 1 || index < 1 || entryTerm > term ? "entries[" + i + "]" : null;
            if (entryTerm < 0 || index < 0 || entryTerm > EntryId.MAX_TERM || index > EntryId.MAX_INDEX) {
                field = "entries[" + i + "]";
                term(entryTerm, field + ".term");
                index(index, field + ".index");
            }
            if (entryTerm < 1 || index < 1) {
                throw new InvalidMessageException(field + " is at " + index + "@" + entryTerm
                        + "; entries start at term 1 and index 1");
            }
            if (entryTerm > term) {
                throw new InvalidMessageException(field + " has term " + entryTerm
                        + ", above the leader's term " + term);
            }
            EntryType type = switch (raw.type(i)) {
                case EntryTypeProto.ENTRY_TYPE_NORMAL_VALUE -> EntryType.NORMAL;
                case EntryTypeProto.ENTRY_TYPE_CONF_CHANGE_VALUE -> EntryType.CONF_CHANGE;
                default -> throw new InvalidMessageException(field + " has unknown type " + raw.type(i));
            };
            entries.add(new Entry(entryTerm, index, type, raw.data(i)));
        }
        if (prev.term() > term) {
            throw new InvalidMessageException("prev " + prev + " has a term above the leader's term " + term);
        }
        try {
            LogSlice.validate(prev, entries);
        } catch (IllegalArgumentException ex) {
            throw new InvalidMessageException(ex.getMessage(), ex);
        }
        return new AppendEntries(from, to, term, new LogSlice(prev, entries), index(a.getCommit(), "commit"));
    }

    /** Snapshot metadata from the wire, validated as {@link #decode(PeerEnvelope)} does. */
    public static SnapshotMeta decode(SnapshotMetaProto s) {
        EntryId last = entryId(s.hasLast(), s.getLast(), "snapshot.last");
        if (!s.hasConf()) {
            throw new InvalidMessageException("snapshot.conf is missing");
        }
        ConfStateProto c = s.getConf();
        ConfState conf = new ConfState(ids(c.getVotersList(), "voters"), ids(c.getVotersOutgoingList(), "voters_outgoing"),
                ids(c.getLearnersList(), "learners"), ids(c.getLearnersNextList(), "learners_next"), c.getAutoLeave());
        try {
            Changer.checkInvariants(conf);
        } catch (IllegalArgumentException ex) {
            throw new InvalidMessageException("snapshot.conf: " + ex.getMessage(), ex);
        }
        return new SnapshotMeta(last, conf);
    }

    private static ReadMode decode(ReadConsistencyProto c) {
        return switch (c) {
            case READ_CONSISTENCY_SAFE -> ReadMode.LINEARIZABLE;
            case READ_CONSISTENCY_LEASE -> ReadMode.LEASE;
            case READ_CONSISTENCY_UNSPECIFIED, UNRECOGNIZED ->
                    throw new InvalidMessageException("unknown read consistency " + c);
        };
    }

    private static Set<Long> ids(List<Long> ids, String field) {
        if (ids.size() > MAX_MEMBERS) {
            throw new InvalidMessageException("snapshot.conf." + field + " lists " + ids.size()
                    + " nodes, more than the limit of " + MAX_MEMBERS);
        }
        Set<Long> set = new LinkedHashSet<>();
        for (long id : ids) {
            nodeId(id, "snapshot.conf." + field);
            if (!set.add(id)) {
                throw new InvalidMessageException("snapshot.conf." + field + " lists node " + id + " twice");
            }
        }
        return set;
    }

    private static EntryId entryId(boolean present, EntryIdProto p, String field) {
        if (!present) {
            throw new InvalidMessageException(field + " is missing");
        }
        return new EntryId(term(p.getTerm(), field + ".term"), index(p.getIndex(), field + ".index"));
    }

    private static long nodeId(long id, String field) {
        if (id <= 0) {
            throw new InvalidMessageException(field + " is node " + Long.toUnsignedString(id)
                    + "; node ids are between 1 and " + Long.MAX_VALUE);
        }
        return id;
    }

    /** A term from the wire: refused above {@link EntryId#MAX_TERM} (negative: a uint64 above 2^63). */
    private static long term(long value, String field) {
        if (value < 0 || value > EntryId.MAX_TERM) {
            throw new InvalidMessageException(field + " is " + Long.toUnsignedString(value)
                    + ", above the largest allowed term " + EntryId.MAX_TERM);
        }
        return value;
    }

    /** An index from the wire: refused above {@link EntryId#MAX_INDEX} (negative: a uint64 above 2^63). */
    private static long index(long value, String field) {
        if (value < 0 || value > EntryId.MAX_INDEX) {
            throw new InvalidMessageException(field + " is " + Long.toUnsignedString(value)
                    + ", above the largest allowed index " + EntryId.MAX_INDEX);
        }
        return value;
    }

    /** A byte-string view of {@code bytes} without copying; the caller must not change them. */
    static ByteString wrap(byte[] bytes) {
        return UnsafeByteOperations.unsafeWrap(bytes);
    }
}
