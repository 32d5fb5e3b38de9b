package dev.raftkit.grpc;

import dev.raftkit.core.message.Message;
import dev.raftkit.grpc.proto.StreamSummary;
import io.grpc.CallOptions;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived outgoing message stream to one peer, fed by a bounded queue.
 *
 * <p>Each peer has two lanes: appends with entries go on the bulk lane, everything else
 * (heartbeats, votes, responses, probes) on the control lane, so a heartbeat never waits behind
 * megabytes of entries and a follower does not start an election while its leader is busy
 * replicating to it. HTTP/2 shares the connection fairly between the two streams.
 *
 * <p>Messages are pipelined: {@link #offer} queues and returns at once (never blocks); a drain loop
 * on the transport's executor writes queued messages while gRPC's flow control says the stream
 * {@code isReady()}, and resumes from the stream's on-ready callback. The drain loop is serialized
 * (one run at a time, the "work in progress" counter pattern) and is the only code that touches
 * the stream and the back-off state; gRPC callbacks only set flags and request a drain.
 *
 * <p>When a stream fails (peer down, refused, too large a message) the lane drops what it queued,
 * reports the peer unreachable, and reopens the stream after an exponential back-off, asking the
 * channel to reconnect at once rather than after gRPC's own (much longer) back-off.
 */
final class SendLane {

    private static final Logger LOG = LoggerFactory.getLogger(SendLane.class);

    private final PeerLink link;
    private final String name;
    private final int maxMessages;
    private final long maxBytes;
    private final ConcurrentLinkedQueue<Message> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedMessages = new AtomicInteger();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicBoolean retryScheduled = new AtomicBoolean();
    /** Set when a drop was reported, so a full queue reports once per episode, not per message. */
    private final AtomicBoolean dropReported = new AtomicBoolean();
    private volatile boolean closed;

    // Owned by the drain loop.
    private final Backoff backoff;
    private Attempt attempt;
    private long retryAtNanos;
    private Status.Code lastFailure;

    SendLane(PeerLink link, String name, int maxMessages, long maxBytes) {
        this.link = link;
        this.name = name;
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
        this.backoff = new Backoff(link.transport().config().backoffMin(), link.transport().config().backoffMax());
    }

    /** Queues {@code m}; false (and nothing queued) if the lane is full or closed. Never blocks. */
    boolean offer(Message m) {
        if (closed) {
            return false;
        }
        long size = m.sizeBytes();
        int count = queuedMessages.get();
        // An empty queue always takes one message, however large, so a big append is never
        // refused by the byte limit alone. The limits are soft (two producers may race past them
        // by a message each), which is all a memory bound needs.
        if (count >= maxMessages || (count > 0 && queuedBytes.get() + size > maxBytes)) {
            if (dropReported.compareAndSet(false, true)) {
                LOG.warn("node {}: send queue to node {} ({} lane) is full ({} messages, {} bytes): dropping "
                                + "messages and reporting the peer unreachable until it drains",
                        link.transport().selfId(), link.peer(), name, count, queuedBytes.get());
                link.transport().reportUnreachable(link.peer());
            }
            return false;
        }
        queuedMessages.incrementAndGet();
        queuedBytes.addAndGet(size);
        queue.add(m);
        requestDrain();
        return true;
    }

    /** Stops the lane: cancels its stream and drops what it queued. Idempotent. */
    void close() {
        closed = true;
        requestDrain();
    }

    void requestDrain() {
        if (wip.getAndIncrement() == 0) {
            try {
                link.transport().ioExecutor().execute(this::drainLoop);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // The transport is shutting down; nothing left to send.
                wip.set(0);
            }
        }
    }

    private void drainLoop() {
        int missed = 1;
        do {
            try {
                drainOnce();
            } catch (RuntimeException e) {
                LOG.error("node {}: unexpected failure sending to node {} ({} lane); the stream will be reopened",
                        link.transport().selfId(), link.peer(), name, e);
                if (attempt != null) {
                    attempt.out.cancel("send failure", e);
                    attempt.failure = Status.fromThrowable(e);
                }
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    private void drainOnce() {
        if (closed) {
            if (attempt != null) {
                attempt.out.cancel("transport closed", null);
                attempt = null;
            }
            clearQueue();
            return;
        }
        if (attempt != null && attempt.failure != null) {
            handleFailure(attempt);
            attempt = null;
        }
        if (queue.isEmpty()) {
            return;
        }
        if (attempt == null) {
            long wait = retryAtNanos - System.nanoTime();
            if (wait > 0) {
                scheduleRetry(wait);
                return;
            }
            attempt = open();
        }
        while (attempt.failure == null && attempt.out.isReady()) {
            Message m = queue.poll();
            if (m == null) {
                break;
            }
            queuedMessages.decrementAndGet();
            queuedBytes.addAndGet(-m.sizeBytes());
            byte[] envelope = PeerWire.encode(link.transport().clusterId(), m);
            int size = envelope.length;
            if (size > link.transport().config().maxMessageBytes()) {
                LOG.warn("node {}: dropping a {} of {} bytes to node {}: larger than the transport's maximum "
                                + "message size of {} bytes; lower the core's max append size below it",
                        link.transport().selfId(), m.getClass().getSimpleName(), size, link.peer(),
                        link.transport().config().maxMessageBytes());
                continue;
            }
            attempt.out.onNext(envelope);
            attempt.sent++;
            dropReported.set(false);
        }
    }

    private Attempt open() {
        if (backoff.failures() > 0) {
            // gRPC's own connection back-off grows to two minutes; ours is shorter and governs.
            link.channel().resetConnectBackoff();
        }
        Attempt a = new Attempt();
        ClientCalls.asyncClientStreamingCall(link.channel().newCall(PeerWire.STREAM_OUT, CallOptions.DEFAULT), a);
        return a;
    }

    private void handleFailure(Attempt failed) {
        long lived = System.nanoTime() - failed.openedNanos;
        if (lived > link.transport().config().backoffMax().toNanos()) {
            // The stream worked for a while: this is a new outage, not a retry of the last one.
            backoff.reset();
        }
        long delay = backoff.nextDelayNanos();
        retryAtNanos = System.nanoTime() + delay;
        Status status = failed.failure;
        int dropped = clearQueue();
        String what = "node " + link.transport().selfId() + ": stream to node " + link.peer() + " at "
                + link.address() + " (" + name + " lane) failed: " + describe(status)
                + "; dropped " + dropped + " queued messages, retrying in " + TimeUnit.NANOSECONDS.toMillis(delay) + " ms";
        if (backoff.failures() == 1 || status.getCode() != lastFailure) {
            LOG.warn(what);
        } else {
            LOG.debug(what);
        }
        lastFailure = status.getCode();
        link.transport().reportUnreachable(link.peer());
    }

    private static String describe(Status status) {
        String base = status.getCode() + (status.getDescription() == null ? "" : " (" + status.getDescription() + ")");
        if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
            return base + "; the peer refused a message above its maximum message size: configure the same "
                    + "maxMessageBytes on every node";
        }
        if (status.getCause() != null && status.getDescription() == null) {
            return base + ": " + status.getCause();
        }
        return base;
    }

    private void scheduleRetry(long delayNanos) {
        if (retryScheduled.compareAndSet(false, true)) {
            try {
                link.transport().scheduler().schedule(() -> {
                    retryScheduled.set(false);
                    requestDrain();
                }, delayNanos, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                retryScheduled.set(false);
            }
        }
    }

    private int clearQueue() {
        int n = 0;
        long bytes = 0;
        for (Message m = queue.poll(); m != null; m = queue.poll()) {
            n++;
            bytes += m.sizeBytes();
        }
        queuedMessages.addAndGet(-n);
        queuedBytes.addAndGet(-bytes);
        return n;
    }

    /** One attempt at a stream; gRPC calls it back on the transport's executor. */
    private final class Attempt implements ClientResponseObserver<byte[], StreamSummary> {
        final long openedNanos = System.nanoTime();
        ClientCallStreamObserver<byte[]> out;
        volatile Status failure;
        long sent;

        @Override
        public void beforeStart(ClientCallStreamObserver<byte[]> requestStream) {
            this.out = requestStream;
            requestStream.setOnReadyHandler(SendLane.this::requestDrain);
        }

        @Override
        public void onNext(StreamSummary value) {
        }

        @Override
        public void onError(Throwable t) {
            failure = Status.fromThrowable(t);
            requestDrain();
        }

        @Override
        public void onCompleted() {
            // The receiver ended a stream we never ended: treat it like a failure and reopen.
            failure = Status.UNAVAILABLE.withDescription("the peer closed the stream");
            requestDrain();
        }
    }
}
