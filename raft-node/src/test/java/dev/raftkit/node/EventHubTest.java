package dev.raftkit.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.grpc.proto.ProtocolEventMessage;
import dev.raftkit.runtime.ProtocolEvent;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The admin {@code Events} fan-out: bounded per subscriber, in order, and the recent past on request. */
class EventHubTest {

    /** A stream whose reader takes messages only when told to ({@link #ready}), as gRPC's flow control does. */
    private static final class FakeStream extends ServerCallStreamObserver<ProtocolEventMessage> {
        final List<ProtocolEventMessage> sent = new ArrayList<>();
        volatile boolean ready;
        Throwable error;
        Runnable onReady;
        Runnable onCancel;

        @Override public boolean isCancelled() { return false; }
        @Override public void setOnCancelHandler(Runnable r) { onCancel = r; }
        @Override public void setCompression(String c) { }
        @Override public boolean isReady() { return ready; }
        @Override public void setOnReadyHandler(Runnable r) { onReady = r; }
        @Override public void disableAutoInboundFlowControl() { }
        @Override public void request(int n) { }
        @Override public void setMessageCompression(boolean e) { }
        @Override public void onNext(ProtocolEventMessage m) { sent.add(m); }
        @Override public void onError(Throwable t) { error = t; }
        @Override public void onCompleted() { }

        void becomeReady() {
            ready = true;
            onReady.run();
        }
    }

    private static ProtocolEvent event(long t) {
        return new ProtocolEvent(t, 2, 5, "role", "event " + t);
    }

    @Test
    void aSubscriberThatDoesNotReadIsCutOffAtItsBoundWhileOthersGoOn() {
        EventHub hub = new EventHub(2, 3);
        FakeStream slow = new FakeStream();
        FakeStream fast = new FakeStream();
        fast.ready = true;
        hub.subscribe(0, slow);
        hub.subscribe(0, fast);
        for (long t = 1; t <= 5; t++) {
            hub.onProtocolEvent(event(t));
        }
        assertEquals(0, slow.sent.size());
        assertNotNull(slow.error, "cut off");
        Status s = Status.fromThrowable(slow.error);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, s.getCode());
        assertTrue(s.getDescription().contains("fell 3 events behind"), s.getDescription());
        assertEquals(5, fast.sent.size());
        assertEquals("event 5", fast.sent.get(4).getDetail());
        assertEquals(1, hub.subscribers(), "only the reader that keeps up is still subscribed");
    }

    @Test
    void bufferedEventsAreWrittenInOrderOnceTheStreamIsReady() {
        EventHub hub = new EventHub(2, 10);
        FakeStream s = new FakeStream();
        hub.subscribe(0, s);
        hub.onProtocolEvent(event(1));
        hub.onProtocolEvent(event(2));
        assertEquals(0, s.sent.size());
        s.becomeReady();
        hub.onProtocolEvent(event(3));
        assertEquals(List.of("event 1", "event 2", "event 3"), s.sent.stream().map(ProtocolEventMessage::getDetail).toList());
        assertEquals(5, s.sent.get(0).getTerm());
    }

    @Test
    void sinceReplaysTheKeptEventsFromThatTimeAndStoppingEndsEveryStream() {
        EventHub hub = new EventHub(2, 10);
        for (long t = 1; t <= 4; t++) {
            hub.onProtocolEvent(event(t));
        }
        FakeStream s = new FakeStream();
        s.ready = true;
        hub.subscribe(3, s);
        hub.onProtocolEvent(event(5));
        assertEquals(List.of(3L, 4L, 5L), s.sent.stream().map(ProtocolEventMessage::getTimeMicros).toList());

        hub.onStopped(null);
        assertEquals(Status.Code.UNAVAILABLE, Status.fromThrowable(s.error).getCode());
        assertTrue(Status.fromThrowable(s.error).getDescription().contains("node 2 stopped"));
        FakeStream late = new FakeStream();
        hub.subscribe(0, late);
        assertEquals(Status.Code.UNAVAILABLE, Status.fromThrowable(late.error).getCode());
    }
}
