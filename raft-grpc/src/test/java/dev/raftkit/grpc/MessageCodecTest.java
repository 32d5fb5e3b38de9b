package dev.raftkit.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.ReadMode;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.Heartbeat;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.PushSnapshot;
import dev.raftkit.core.message.ReadIndexRequest;
import dev.raftkit.grpc.proto.AppendEntriesProto;
import dev.raftkit.grpc.proto.ConfStateProto;
import dev.raftkit.grpc.proto.EntryIdProto;
import dev.raftkit.grpc.proto.EntryProto;
import dev.raftkit.grpc.proto.EntryTypeProto;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.grpc.proto.SnapshotMetaProto;
import dev.raftkit.testkit.property.Property;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class MessageCodecTest {

    private static final String CLUSTER = "test-cluster";

    @Test
    void everyMessageSurvivesTheWire() {
        Property.check("decode(parse(serialize(encode(m)))) == m", MessageGens.messages(), m -> {
            PeerEnvelope sent = MessageCodec.encode(CLUSTER, m);
            PeerEnvelope received = PeerEnvelope.parseFrom(sent.toByteArray());
            assertEquals(CLUSTER, received.getClusterId());
            assertEquals(m.from(), received.getFrom());
            assertEquals(m, MessageCodec.decode(received));
        });
    }

    @Test
    void theRecoveringFlagSurvivesTheWire() {
        for (dev.raftkit.core.message.Message m : List.of(
                new dev.raftkit.core.message.AppendEntriesResponse(2, 1, 3, false, 7, EntryId.ZERO, true),
                new dev.raftkit.core.message.HeartbeatResponse(2, 1, 3, 9, true))) {
            assertEquals(m, MessageCodec.decode(MessageCodec.encode(CLUSTER, m)));
        }
    }

    private static PeerEnvelope append(UnaryOperator<AppendEntriesProto.Builder> edit) {
        AppendEntries valid = new AppendEntries(1, 2, 3, new LogSlice(new EntryId(1, 10),
                List.of(Entry.normal(2, 11, new byte[] {1}), Entry.normal(3, 12, new byte[0]))), 11);
        PeerEnvelope e = MessageCodec.encode(CLUSTER, valid);
        assertEquals(valid, MessageCodec.decode(e), "the unedited message is valid");
        return e.toBuilder().setAppendEntries(edit.apply(e.getAppendEntries().toBuilder())).build();
    }

    private static void assertRefused(PeerEnvelope e, String expectedInMessage) {
        InvalidMessageException ex = assertThrows(InvalidMessageException.class, () -> MessageCodec.decode(e));
        assertTrue(ex.getMessage().contains(expectedInMessage),
                () -> "expected '" + expectedInMessage + "' in: " + ex.getMessage());
    }

    @Test
    void aSliceWithAGapIsRefused() {
        assertRefused(append(a -> a.setEntries(1, a.getEntries(1).toBuilder().setIndex(13))), "not contiguous");
    }

    @Test
    void aSliceNotFollowingPrevIsRefused() {
        assertRefused(append(a -> a.setPrev(EntryIdProto.newBuilder().setTerm(1).setIndex(9))), "not contiguous");
    }

    @Test
    void aSliceWhoseTermGoesBackwardsIsRefused() {
        assertRefused(append(a -> a.setEntries(1, a.getEntries(1).toBuilder().setTerm(1))), "term goes backwards");
    }

    @Test
    void anEntryAboveTheLeadersTermIsRefused() {
        assertRefused(append(a -> a.setEntries(1, a.getEntries(1).toBuilder().setTerm(4))), "above the leader's term");
    }

    @Test
    void anEntryAtIndexZeroIsRefused() {
        assertRefused(append(a -> a.clearEntries().setPrev(EntryIdProto.newBuilder().setTerm(0).setIndex(0).build())
                .addEntries(EntryProto.newBuilder().setTerm(1).setIndex(0).setType(EntryTypeProto.ENTRY_TYPE_NORMAL))),
                "entries start at term 1 and index 1");
    }

    @Test
    void anUnknownEntryTypeIsRefused() {
        assertRefused(append(a -> a.setEntries(0, a.getEntries(0).toBuilder().setTypeValue(7))), "unknown type 7");
        assertRefused(append(a -> a.setEntries(0, a.getEntries(0).toBuilder().setType(EntryTypeProto.ENTRY_TYPE_UNSPECIFIED))),
                "unknown type 0");
    }

    @Test
    void aMissingPrevIsRefused() {
        assertRefused(append(AppendEntriesProto.Builder::clearPrev), "prev is missing");
    }

    @Test
    void aNegativeCommitIsRefused() {
        assertRefused(append(a -> a.setCommit(-1)), "commit is 18446744073709551615");
    }

    @Test
    void termsAndIdsOutOfRangeAreRefused() {
        PeerEnvelope hb = MessageCodec.encode(CLUSTER, new Heartbeat(1, 2, 3, 4, 5));
        assertRefused(hb.toBuilder().setTerm(-5).build(), "term is");
        assertRefused(hb.toBuilder().setFrom(0).build(), "from is node 0");
        assertRefused(hb.toBuilder().setTo(-1).build(), "to is node 18446744073709551615");
        assertRefused(hb.toBuilder().setTo(1).build(), "to itself");
        assertRefused(hb.toBuilder().clearBody().build(), "no body");
    }

    /**
     * Issue 12: "one heartbeat with term 2^63−1 ends elections forever". Every term and index a
     * peer sends is bounded where it enters, so term + 1 and index arithmetic cannot overflow.
     */
    @Test
    void aHeartbeatWithTermMaxLongIsRefusedAtTheDecoder() {
        PeerEnvelope hb = MessageCodec.encode(CLUSTER, new Heartbeat(1, 2, 3, 4, 5));
        assertRefused(hb.toBuilder().setTerm(Long.MAX_VALUE).build(),
                "term is 9223372036854775807, above the largest allowed term " + EntryId.MAX_TERM);
        assertRefused(hb.toBuilder().setTerm(EntryId.MAX_TERM + 1).build(), "largest allowed term");
        assertEquals(EntryId.MAX_TERM, MessageCodec.decode(hb.toBuilder().setTerm(EntryId.MAX_TERM).build()).term());
    }

    @Test
    void everyTermAndIndexFieldIsBounded() {
        long over = EntryId.MAX_INDEX + 1;
        assertRefused(append(a -> a.setCommit(over)), "commit is");
        assertRefused(append(a -> a.setPrev(a.getPrev().toBuilder().setIndex(over))), "prev.index is");
        assertRefused(append(a -> a.setEntries(0, a.getEntries(0).toBuilder().setIndex(over))), "entries[0].index is");
        PeerEnvelope hb = MessageCodec.encode(CLUSTER, new Heartbeat(1, 2, 3, 4, 5));
        assertRefused(hb.toBuilder().setHeartbeat(hb.getHeartbeat().toBuilder().setCommit(over)).build(), "commit is");
        PeerEnvelope r = MessageCodec.encode(CLUSTER, dev.raftkit.core.message.AppendEntriesResponse.accept(1, 2, 3, 4));
        assertRefused(r.toBuilder().setAppendEntriesResponse(r.getAppendEntriesResponse().toBuilder().setIndex(over))
                .build(), "index is");
        assertRefused(r.toBuilder().setAppendEntriesResponse(r.getAppendEntriesResponse().toBuilder()
                .setHint(EntryIdProto.newBuilder().setTerm(1).setIndex(over))).build(), "hint.index is");
        PeerEnvelope v = MessageCodec.encode(CLUSTER, new dev.raftkit.core.message.RequestVote(1, 2, 3,
                new EntryId(1, 1), false, false));
        assertRefused(v.toBuilder().setRequestVote(v.getRequestVote().toBuilder()
                .setLastLog(EntryIdProto.newBuilder().setTerm(1).setIndex(over))).build(), "last_log.index is");
        PeerEnvelope ri = MessageCodec.encode(CLUSTER, new dev.raftkit.core.message.ReadIndexResponse(1, 2, 3, 4, 5));
        assertRefused(ri.toBuilder().setReadIndexResponse(ri.getReadIndexResponse().toBuilder().setIndex(over)).build(),
                "index is");
        assertRefused(snapshot(s -> s.setLast(EntryIdProto.newBuilder().setTerm(4).setIndex(over))),
                "snapshot.last.index is");
    }

    @Test
    void aMegabyteClusterIdIsNotEchoedByTheCheck() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MessageCodec.checkClusterId("x".repeat(1 << 20)));
        assertTrue(e.getMessage().length() < 200, e.getMessage());
        assertTrue(e.getMessage().contains("1048576 characters"), e.getMessage());
    }

    @Test
    void anUnknownReadConsistencyIsRefused() {
        PeerEnvelope e = MessageCodec.encode(CLUSTER, new ReadIndexRequest(1, 2, 3, 4, ReadMode.LEASE));
        assertRefused(e.toBuilder().setReadIndexRequest(e.getReadIndexRequest().toBuilder().setConsistencyValue(9)).build(),
                "unknown read consistency");
    }

    @Test
    void peerSnapshotsSurviveTheWireAndBadTargetsAreRefused() {
        SnapshotMeta meta = new SnapshotMeta(new EntryId(4, 100), ConfState.ofVoters(Set.of(1L, 2L, 3L)));
        InstallSnapshot fromPeer = new InstallSnapshot(2, 3, 5, meta, 1);
        assertEquals(fromPeer, MessageCodec.decode(MessageCodec.encode(CLUSTER, fromPeer)));
        InstallSnapshot fromLeader = new InstallSnapshot(1, 3, 5, meta);
        PeerEnvelope leaders = MessageCodec.encode(CLUSTER, fromLeader);
        assertEquals(0, leaders.getInstallSnapshot().getLeader(), "the leader's own snapshot carries no leader field");
        assertEquals(fromLeader, MessageCodec.decode(leaders));
        PeerEnvelope e = MessageCodec.encode(CLUSTER, fromPeer);
        assertRefused(e.toBuilder().setInstallSnapshot(e.getInstallSnapshot().toBuilder().setLeader(3)).build(),
                "install_snapshot.leader is the receiver");

        PushSnapshot push = new PushSnapshot(1, 2, 5, 3, 100);
        PeerEnvelope p = MessageCodec.encode(CLUSTER, push);
        assertEquals(push, MessageCodec.decode(p));
        assertRefused(p.toBuilder().setPushSnapshot(p.getPushSnapshot().toBuilder().setTarget(2)).build(),
                "must be a third node");
        assertRefused(p.toBuilder().setPushSnapshot(p.getPushSnapshot().toBuilder().setTarget(0)).build(),
                "push_snapshot.target");
        assertRefused(p.toBuilder().setPushSnapshot(p.getPushSnapshot().toBuilder().setMinIndex(0)).build(),
                "min_index must be positive");
    }

    private static PeerEnvelope snapshot(UnaryOperator<SnapshotMetaProto.Builder> edit) {
        InstallSnapshot valid = new InstallSnapshot(1, 2, 5,
                new SnapshotMeta(new EntryId(4, 100), ConfState.ofVoters(Set.of(1L, 2L, 3L))));
        PeerEnvelope e = MessageCodec.encode(CLUSTER, valid);
        assertEquals(valid, MessageCodec.decode(e));
        return e.toBuilder().setInstallSnapshot(e.getInstallSnapshot().toBuilder()
                .setSnapshot(edit.apply(e.getInstallSnapshot().getSnapshot().toBuilder()))).build();
    }

    @Test
    void aBrokenConfigurationIsRefused() {
        assertRefused(snapshot(s -> s.setConf(s.getConf().toBuilder().addLearners(2))), "both learner and voter");
        assertRefused(snapshot(s -> s.setConf(s.getConf().toBuilder().addVoters(2))), "lists node 2 twice");
        assertRefused(snapshot(s -> s.setConf(s.getConf().toBuilder().addVoters(0))), "node 0");
        assertRefused(snapshot(s -> s.setConf(s.getConf().toBuilder().setAutoLeave(true))), "outside a joint");
        assertRefused(snapshot(SnapshotMetaProto.Builder::clearConf), "snapshot.conf is missing");
    }

    @Test
    void aConfigurationTooLargeIsRefused() {
        ConfStateProto.Builder big = ConfStateProto.newBuilder();
        for (long id = 1; id <= MessageCodec.MAX_MEMBERS + 1; id++) {
            big.addVoters(id);
        }
        assertRefused(snapshot(s -> s.setConf(big)), "more than the limit");
    }

    @Test
    void aSnapshotBeyondTheSendersTermIsRefused() {
        assertRefused(snapshot(s -> s.setLast(EntryIdProto.newBuilder().setTerm(6).setIndex(100))), "after the sender's term");
    }

    @Test
    void garbageBytesDoNotParseAsAMessage() {
        Message m = new Heartbeat(1, 2, 3, 4, 5);
        byte[] bytes = MessageCodec.encode(CLUSTER, m).toByteArray();
        bytes[0] = (byte) 0xff; // an invalid tag
        assertThrows(com.google.protobuf.InvalidProtocolBufferException.class, () -> PeerEnvelope.parseFrom(bytes));
    }

    @Test
    void clusterIdsMustBeShortAndNonBlank() {
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.checkClusterId(" "));
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.checkClusterId("x".repeat(129)));
        assertEquals("prod-1", MessageCodec.checkClusterId("prod-1"));
    }
}
