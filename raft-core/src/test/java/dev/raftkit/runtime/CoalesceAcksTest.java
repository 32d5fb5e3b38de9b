package dev.raftkit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.HeartbeatResponse;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.RequestVoteResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The log writer's after-sync acknowledgements: later acceptances cover earlier ones, nothing else is dropped. */
class CoalesceAcksTest {

    private static AppendEntriesResponse accept(long to, long term, long index) {
        return AppendEntriesResponse.accept(2, to, term, index);
    }

    @Test
    void keepsOnlyTheHighestAcceptanceToEachLeaderPerTerm() {
        Message vote = new RequestVoteResponse(2, 3, 5, false, true);
        List<Message> in = List.of(accept(1, 5, 10), accept(1, 5, 12), vote, accept(3, 5, 11), accept(1, 5, 14));
        assertEquals(List.of(vote, accept(3, 5, 11), accept(1, 5, 14)), LogWriterStage.coalesceAcks(in));
    }

    @Test
    void keepsRejectionsOtherTermsRecoveringFlagsAndLowerLaterIndexes() {
        AppendEntriesResponse reject = new AppendEntriesResponse(2, 1, 5, true, 9, new EntryId(4, 8));
        AppendEntriesResponse recovering = new AppendEntriesResponse(2, 1, 5, false, 15, EntryId.ZERO, true);
        Message heartbeat = new HeartbeatResponse(2, 1, 5, 7, false);
        List<Message> in = List.of(accept(1, 4, 20), accept(1, 5, 16), reject, heartbeat, recovering, accept(1, 5, 12));
        // 4's acceptance is another term; 16 is not covered by the later 12; the recovering one differs.
        assertEquals(in, LogWriterStage.coalesceAcks(in));
    }

    @Test
    void anEmptyOrSingleListIsUnchanged() {
        assertEquals(List.of(), LogWriterStage.coalesceAcks(List.of()));
        assertEquals(List.of(accept(1, 1, 1)), LogWriterStage.coalesceAcks(List.of(accept(1, 1, 1))));
    }
}
