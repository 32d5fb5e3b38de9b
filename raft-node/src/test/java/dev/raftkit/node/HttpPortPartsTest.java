package dev.raftkit.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.Role;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.runtime.ProtocolEvent;
import dev.raftkit.runtime.ServerStatus;
import dev.raftkit.testkit.http.JsonReader;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The HTTP port's parts without a network: the readiness rule, the events it shows, the JSON writer. */
class HttpPortPartsTest {

    private static ServerStatus status(long leader, long commit, long applied, boolean running, Throwable failure,
                                       boolean recovering) {
        return new ServerStatus(1, Role.FOLLOWER, 4, leader, commit, applied, commit, ConfState.ofVoters(Set.of(1L, 2L, 3L)),
                running, failure, recovering, 0, -1, Duration.ZERO, Map.of());
    }

    @Test
    void readyNeedsARunningCaughtUpNodeThatKnowsALeader() {
        assertEquals(new HttpPort.Health(true, null), HttpPort.health(status(2, 500, 500, true, null, false)));
        long bound = HttpPort.READY_MAX_APPLY_LAG;
        assertTrue(HttpPort.health(status(2, 500, 500 - bound, true, null, false)).ready(), "exactly the bound is ready");
        HttpPort.Health behind = HttpPort.health(status(2, 500, 500 - bound - 1, true, null, false));
        assertFalse(behind.ready());
        assertEquals("applied index " + (500 - bound - 1) + " is " + (bound + 1) + " behind commit index 500 (more than "
                + bound + ")", behind.reason());
        assertEquals("no leader known in term 4", HttpPort.health(status(0, 500, 500, true, null, false)).reason());
        assertEquals("recovering lost state: waiting for a leader to catch it up",
                HttpPort.health(status(2, 500, 500, true, null, true)).reason());
        assertEquals("the server stopped: java.io.IOException: disk gone",
                HttpPort.health(status(0, 500, 500, false, new IOException("disk gone"), false)).reason());
    }

    @Test
    void theStatusPageShowsTheNewestHundredOfTheNodesEventsInOrder() {
        EventHub events = new EventHub(1);
        for (int i = 0; i < HttpPort.EVENTS + 50; i++) {
            events.onProtocolEvent(new ProtocolEvent(i, 1, 2, "role", "event " + i));
        }
        List<ProtocolEvent> kept = events.recent(HttpPort.EVENTS);
        assertEquals(HttpPort.EVENTS, kept.size());
        assertEquals("event 50", kept.get(0).detail());
        assertEquals("event " + (HttpPort.EVENTS + 49), kept.get(kept.size() - 1).detail());
    }

    @Test
    void theJsonWriterEscapesWhatWouldBreakTheDocument() {
        String detail = "quote \" backslash \\ newline \n tab \t bell \u0007 é";
        String json = JsonText.object().field("detail", detail).field("none", (String) null).field("n", -3)
                .field("ok", false).field("ids", List.of(3L, 1L)).field("nested", JsonText.array()
                        .add(JsonText.object().field("a", 1))).toString();
        Map<String, Object> back = JsonReader.object(json);
        assertEquals(detail, back.get("detail"));
        assertTrue(back.containsKey("none"));
        assertNull(back.get("none"));
        assertEquals(-3L, back.get("n"));
        assertEquals(false, back.get("ok"));
        assertEquals(List.of(3L, 1L), back.get("ids"));
        assertEquals(List.of(Map.of("a", 1L)), back.get("nested"));
    }
}
