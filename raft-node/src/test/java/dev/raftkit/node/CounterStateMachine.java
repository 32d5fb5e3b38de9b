package dev.raftkit.node;

import dev.raftkit.spi.StateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.List;

/** A replicated sum that remembers being closed: what these tests give a node to own. */
final class CounterStateMachine implements StateMachine {

    private long value;
    private long lastApplied;
    volatile boolean closed;

    static byte[] add(long delta) {
        return ByteBuffer.allocate(Long.BYTES).putLong(delta).array();
    }

    static long valueOf(byte[] answer) {
        return ByteBuffer.wrap(answer).getLong();
    }

    @Override
    public List<byte[]> apply(List<Command> commands) {
        return commands.stream().map(c -> {
            value += c.payload().length == Long.BYTES ? valueOf(c.payload()) : 0;
            lastApplied = c.index();
            return add(value);
        }).toList();
    }

    @Override
    public long lastApplied() {
        return lastApplied;
    }

    @Override
    public Snapshot snapshot() {
        long v = value;
        long index = lastApplied;
        return new Snapshot() {
            @Override
            public long index() {
                return index;
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                out.write(add(v));
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public void restore(long index, InputStream in) throws IOException {
        value = valueOf(in.readNBytes(Long.BYTES));
        lastApplied = index;
    }

    @Override
    public byte[] query(byte[] query) {
        return add(value);
    }

    @Override
    public void close() {
        closed = true;
    }
}
