package dev.raftkit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The shared event schema's JSON line: written and read back, and bad lines refused with where. */
class ProtocolEventTest {

    @Test
    void aLineReadsBackAsTheEventItWasWrittenFrom() {
        ProtocolEvent e = new ProtocolEvent(1_700_000_000_123_000L, 3, 7, "vote-refused",
                "vote to 2 for term 7: \"already voted\" for 1\n\ttab \\ \u2028 \u0001 é");
        String line = e.toJson();
        assertEquals("{\"t\":1700000000123000,\"node\":3,\"term\":7,\"ev\":\"vote-refused\",\"detail\":"
                + "\"vote to 2 for term 7: \\\"already voted\\\" for 1\\n\\ttab \\\\ \\u2028 \\u0001 é\"}", line);
        assertEquals(e, ProtocolEvent.fromJson(line));
        assertEquals(1_700_000_000_123L, e.timeMillis());
    }

    @Test
    void anUnknownTermIsLeftOutAndReadBackAsUnknown() {
        ProtocolEvent e = new ProtocolEvent(5, 0, ProtocolEvent.NO_TERM, "fault", "partition [1] | [2, 3]");
        assertEquals("{\"t\":5,\"node\":0,\"ev\":\"fault\",\"detail\":\"partition [1] | [2, 3]\"}", e.toJson());
        assertEquals(e, ProtocolEvent.fromJson(e.toJson()));
        // Fields in another order, spaces, and a field a newer writer added are all read.
        assertEquals(e, ProtocolEvent.fromJson(
                " { \"detail\" : \"partition [1] | [2, 3]\", \"x\": [1], \"ev\":\"fault\",\"node\":0,\"t\":5 } "
                        .replace("[1], ", "true, ")));
    }

    @Test
    void aBadLineIsRefusedSayingWhatAndWhere() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ProtocolEvent.fromJson("{\"t\":1,\"node\":2,\"ev\":\"role\"}"));
        assertTrue(missing.getMessage().contains("lacks \"detail\""), missing.getMessage());
        IllegalArgumentException notNumber = assertThrows(IllegalArgumentException.class,
                () -> ProtocolEvent.fromJson("{\"t\":\"soon\",\"node\":2,\"ev\":\"role\",\"detail\":\"\"}"));
        assertTrue(notNumber.getMessage().contains("expected an integer for \"t\" at column 6"), notNumber.getMessage());
        IllegalArgumentException trailing = assertThrows(IllegalArgumentException.class,
                () -> ProtocolEvent.fromJson("{\"t\":1,\"node\":2,\"ev\":\"role\",\"detail\":\"\"} x"));
        assertTrue(trailing.getMessage().contains("nothing after the closing '}'"), trailing.getMessage());
    }
}
