package dev.raftkit.benchpeers.ratis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The bench's in-memory key-value store as a Ratis state machine: a command is
 * {@code [u16 key length][key][value]}; applying it copies the value into a map, as Raftkit's
 * key-value state machine does. No snapshots (a run is short; the log is the durable state).
 * Ratis calls {@link #applyTransaction} on its state machine updater thread, in log order.
 */
final class KvStateMachine extends BaseStateMachine {

    private final ConcurrentHashMap<String, byte[]> map = new ConcurrentHashMap<>();
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        ByteString data = entry.getStateMachineLogEntry().getLogData();
        if (data.size() >= 2) {
            int keyLen = ((data.byteAt(0) & 0xff) << 8) | (data.byteAt(1) & 0xff);
            map.put(data.substring(2, 2 + keyLen).toString(StandardCharsets.UTF_8), data.substring(2 + keyLen).toByteArray());
        }
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        return CompletableFuture.completedFuture(Message.EMPTY);
    }
}
