package dev.raftkit.node;

import dev.raftkit.grpc.proto.ProtocolEventMessage;
import dev.raftkit.runtime.ProtocolEvent;
import dev.raftkit.runtime.RaftListener;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans a node's protocol events out to the admin service's {@code Events} streams, and keeps its
 * most recent ones for a subscriber that asks for them ({@code since_micros}).
 *
 * <p><b>Threads:</b> {@link #onProtocolEvent} and {@link #onStopped} run on the server's events
 * executor (it is a {@link RaftListener}); subscribing and cancelling run on gRPC threads. Every
 * subscriber has a bounded buffer, written to its stream as gRPC's flow control allows: one that
 * falls {@link #PER_SUBSCRIBER} events behind is cut off with {@code RESOURCE_EXHAUSTED}, so a
 * slow or stuck reader costs a bounded amount of memory, and never delays the events executor.
 *
 * <p>Every {@link RaftNode} registers one, so its server always publishes protocol events: they
 * are rare (votes, role changes, step-downs, not per entry), and with no subscriber the hub only
 * keeps the last {@link #RECENT}.
 */
final class EventHub implements RaftListener {

    private static final Logger LOG = LoggerFactory.getLogger(EventHub.class);

    /** Most recent events kept for {@code since_micros}. */
    static final int RECENT = 512;
    /** Events buffered for one subscriber before it is cut off. */
    static final int PER_SUBSCRIBER = 1024;

    private final long node;
    private final int perSubscriber;
    private final ArrayDeque<ProtocolEvent> recent = new ArrayDeque<>();
    private final Set<Subscriber> subscribers = new LinkedHashSet<>();
    /** Why the stream ended for everyone (the node stopped), or null while it runs. */
    private Status ended;

    EventHub(long node) {
        this(node, PER_SUBSCRIBER);
    }

    EventHub(long node, int perSubscriber) {
        this.node = node;
        this.perSubscriber = perSubscriber;
    }

    /** The last {@code max} events this hub kept, oldest first (a copy). Any thread. */
    synchronized List<ProtocolEvent> recent(int max) {
        List<ProtocolEvent> all = new ArrayList<>(recent);
        return List.copyOf(all.subList(Math.max(0, all.size() - max), all.size()));
    }

    @Override
    public void onProtocolEvent(ProtocolEvent e) {
        List<Subscriber> now;
        synchronized (this) {
            recent.addLast(e);
            if (recent.size() > RECENT) {
                recent.removeFirst();
            }
            if (subscribers.isEmpty()) {
                return;
            }
            now = new ArrayList<>(subscribers);
        }
        for (Subscriber s : now) {
            if (!s.offer(e)) {
                remove(s);
            }
        }
    }

    @Override
    public void onStopped(Throwable cause) {
        close(Status.UNAVAILABLE.withDescription("node " + node + " stopped"
                + (cause == null ? "" : " after a failure: " + cause.getMessage())));
    }

    /** Ends every stream with {@code status}, and refuses new ones with it. */
    void close(Status status) {
        List<Subscriber> all;
        synchronized (this) {
            if (ended != null) {
                return;
            }
            ended = status;
            all = new ArrayList<>(subscribers);
            subscribers.clear();
        }
        all.forEach(s -> s.end(status));
    }

    /**
     * Streams this node's events to {@code out} from now on, after the kept ones stamped at or
     * after {@code sinceMicros} if it is positive.
     */
    void subscribe(long sinceMicros, ServerCallStreamObserver<ProtocolEventMessage> out) {
        Subscriber s = new Subscriber(out);
        out.setOnCancelHandler(() -> {
            s.cancelled();
            remove(s);
        });
        out.setOnReadyHandler(s::drain);
        Status refused;
        synchronized (this) {
            refused = ended;
            if (refused == null) {
                // Under the hub's lock: no event can reach the new subscriber before its backlog.
                if (sinceMicros > 0) {
                    for (ProtocolEvent e : recent) {
                        if (e.timeMicros() >= sinceMicros && !s.offer(e)) {
                            break;
                        }
                    }
                }
                subscribers.add(s);
            }
        }
        if (refused != null) {
            s.end(refused);
        }
    }

    private synchronized void remove(Subscriber s) {
        subscribers.remove(s);
    }

    /** Streams currently following (for tests and the log). */
    synchronized int subscribers() {
        return subscribers.size();
    }

    static ProtocolEventMessage toMessage(ProtocolEvent e) {
        return ProtocolEventMessage.newBuilder().setTimeMicros(e.timeMicros()).setNode(e.node()).setTerm(e.term())
                .setKind(e.kind()).setDetail(e.detail()).build();
    }

    /** One stream: its bounded buffer, written as the stream is ready. Its lock serialises writes to it. */
    private final class Subscriber {
        private final ServerCallStreamObserver<ProtocolEventMessage> out;
        private final ArrayDeque<ProtocolEvent> queue = new ArrayDeque<>();
        private boolean done;

        Subscriber(ServerCallStreamObserver<ProtocolEventMessage> out) {
            this.out = out;
        }

        /** Buffers and writes what the stream takes; false if this subscriber is gone (or cut off now). */
        synchronized boolean offer(ProtocolEvent e) {
            if (done) {
                return false;
            }
            if (queue.size() >= perSubscriber) {
                done = true;
                queue.clear();
                LOG.warn("node {}: an events subscriber fell {} events behind; its stream is cut off", node,
                        perSubscriber);
                out.onError(Status.RESOURCE_EXHAUSTED.withDescription("node " + node + ": this events stream fell "
                        + perSubscriber + " events behind and was cut off; read faster, or reconnect with since set"
                        + " to the last event's time").asRuntimeException());
                return false;
            }
            queue.addLast(e);
            drain();
            return true;
        }

        synchronized void drain() {
            while (!done && !queue.isEmpty() && out.isReady()) {
                out.onNext(toMessage(queue.pollFirst()));
            }
        }

        synchronized void cancelled() {
            done = true;
            queue.clear();
        }

        synchronized void end(Status status) {
            if (done) {
                return;
            }
            done = true;
            queue.clear();
            out.onError(status.asRuntimeException());
        }
    }
}
