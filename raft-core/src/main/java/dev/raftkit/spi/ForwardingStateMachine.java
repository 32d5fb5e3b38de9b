package dev.raftkit.spi;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * A state machine that forwards every call to another: extend it and override the methods to
 * decorate — a test plants a bug in one (an {@code apply} that throws, a {@code restore} that
 * loses an update), a harness observes one (reads the state before {@code close}). The threads,
 * blocking and durability rules are the delegate's (see {@link StateMachine}).
 */
public class ForwardingStateMachine implements StateMachine {

    protected final StateMachine delegate;

    public ForwardingStateMachine(StateMachine delegate) {
        this.delegate = delegate;
    }

    @Override
    public void validate(byte[] command) {
        delegate.validate(command);
    }

    @Override
    public List<byte[]> apply(List<Command> commands) {
        return delegate.apply(commands);
    }

    @Override
    public long lastApplied() {
        return delegate.lastApplied();
    }

    @Override
    public Snapshot snapshot() {
        return delegate.snapshot();
    }

    @Override
    public void restore(long index, InputStream in) throws IOException {
        delegate.restore(index, in);
    }

    @Override
    public byte[] query(byte[] query) {
        return delegate.query(query);
    }

    @Override
    public java.util.Optional<String> stateDigest() {
        return delegate.stateDigest();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
