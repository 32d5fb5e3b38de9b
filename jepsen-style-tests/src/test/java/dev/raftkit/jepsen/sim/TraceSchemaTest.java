package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.JsonLines;
import dev.raftkit.runtime.ProtocolEvent;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/**
 * The simulator's trace and a live node's event stream are one schema with one encoder: an event
 * reads the same from either, and the simulator's lines are what they were before the encoder
 * moved to raft-core.
 */
class TraceSchemaTest {

    /** The simulator's trace line as it was written before the shared encoder: the bytes must not change. */
    private static String formerLine(TraceEvent e) {
        return "{\"t\":" + e.timeMicros() + ",\"node\":" + e.node() + ",\"ev\":" + JsonLines.quote(e.kind())
                + ",\"detail\":" + JsonLines.quote(e.detail()) + "}";
    }

    @Test
    void aSimulatedRunsLinesAreUnchangedAndReadAsLiveEvents() {
        SimResult r = Simulator.run(SimOptions.defaults(7).withFaults(EnumSet.of(Fault.PARTITION, Fault.CRASH))
                .withTrace(true));
        assertTrue(r.trace().size() > 100, "a run has events: " + r.trace().size());
        assertTrue(r.trace().stream().anyMatch(e -> e.kind().equals("vote-granted")));
        for (TraceEvent e : r.trace()) {
            String line = e.toJson();
            assertEquals(formerLine(e), line);
            // The live path's record of the same event, and what a reader of either makes of the line.
            ProtocolEvent live = new ProtocolEvent(e.timeMicros(), e.node(), ProtocolEvent.NO_TERM, e.kind(), e.detail());
            assertEquals(line, live.toJson());
            assertEquals(live, ProtocolEvent.fromJson(line));
            assertEquals(e.toProtocolEvent(), live);
        }
        assertEquals("{\"format\":\"raftkit-sim-trace\",\"version\":" + ProtocolEvent.SCHEMA_VERSION + "}", Trace.HEADER);
    }

    @Test
    void aLiveEventWithATermReadsLikeTheSimulatorsWithOneMoreField() {
        ProtocolEvent live = new ProtocolEvent(1_796_594_100_276_000L, 1, 2, "vote-granted", "vote to 2 for term 2");
        TraceEvent simulated = new TraceEvent(1_796_594_100_276_000L, 1, "vote-granted", "vote to 2 for term 2");
        assertEquals("{\"t\":1796594100276000,\"node\":1,\"term\":2,\"ev\":\"vote-granted\",\"detail\":\"vote to 2 for term 2\"}",
                live.toJson());
        assertEquals(simulated.toJson(), live.toJson().replace(",\"term\":2", ""));
        ProtocolEvent read = ProtocolEvent.fromJson(live.toJson());
        assertEquals(simulated.toProtocolEvent(), new ProtocolEvent(read.timeMicros(), read.node(), ProtocolEvent.NO_TERM,
                read.kind(), read.detail()));
    }
}
