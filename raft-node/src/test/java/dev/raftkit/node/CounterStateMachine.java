package dev.raftkit.node;

import dev.raftkit.spi.StateMachine;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

// counter:start
/**
 * The smallest useful state machine, shown in docs/embedding.md: a replicated counter. A command
 * is an 8-byte signed delta; its result, and the answer to any query, is the counter's value.
 */
public final class CounterStateMachine implements StateMachine {

    private long value;        // owned by the apply thread
    private long lastApplied;

    /** Encodes "add {@code delta}" for {@code RaftServer.submit}. */
    public static byte[] add(long delta) {
        return ByteBuffer.allocate(Long.BYTES).putLong(delta).array();
    }

    /** Decodes a result or query answer. */
    public static long valueOf(byte[] result) {
        return ByteBuffer.wrap(result).getLong();
    }

    @Override
    public List<byte[]> apply(List<Command> commands) {
        List<byte[]> results = new ArrayList<>(commands.size());
        for (Command c : commands) {
            // Deterministic: the result depends only on the state and the command. A malformed
            // command must not throw (that would stop the node): treat it as adding nothing.
            if (c.payload().length == Long.BYTES) {
                value += ByteBuffer.wrap(c.payload()).getLong();
            }
            lastApplied = c.index();
            results.add(add(value));
        }
        return results;
    }

    @Override
    public long lastApplied() {
        return lastApplied;
    }

    @Override
    public Snapshot snapshot() {
        // Capture the state now (cheap: one long); the runtime writes it later on another thread.
        long capturedValue = value;
        long capturedIndex = lastApplied;
        return new Snapshot() {
            @Override
            public long index() {
                return capturedIndex;
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                DataOutputStream data = new DataOutputStream(out);
                data.writeLong(capturedValue);
                data.flush();
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public void restore(long index, InputStream in) throws IOException {
        value = new DataInputStream(in).readLong();
        lastApplied = index;
    }

    @Override
    public byte[] query(byte[] query) {
        return add(value);
    }
}
// counter:end
