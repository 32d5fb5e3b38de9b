package dev.raftkit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StagedState;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The live-restore entry's frame: what the leader writes every replica reads back, and a damaged one stops a node. */
class SwitchStateFrameTest {

    private static StagedState state() {
        byte[] sha = new byte[32];
        for (int i = 0; i < sha.length; i++) {
            sha[i] = (byte) (i * 7 + 1);
        }
        return new StagedState("live-1796606909003-n1", 3, 1234, 5678, sha);
    }

    @Test
    void aSwitchEntryNamesItsImageExactly() {
        byte[] framed = EntryCodec.switchState(state());
        EntryCodec.stamp(framed, 99);
        EntryCodec.validate(framed, 7);
        assertEquals(EntryCodec.SWITCH_STATE, EntryCodec.kind(framed));
        assertEquals(99, EntryCodec.timestamp(framed));
        assertEquals(state(), EntryCodec.stagedState(framed, 7));
    }

    @Test
    void aTruncatedOrPaddedSwitchEntryIsCorruption() {
        byte[] framed = EntryCodec.switchState(state());
        IllegalStateException cut = assertThrows(IllegalStateException.class,
                () -> EntryCodec.stagedState(Arrays.copyOf(framed, framed.length - 1), 7));
        assertTrue(cut.getMessage().contains("log entry 7") && cut.getMessage().contains("corrupt"), cut.getMessage());
        assertThrows(IllegalStateException.class, () -> EntryCodec.stagedState(Arrays.copyOf(framed, framed.length + 1), 7));
        assertThrows(IllegalStateException.class, () -> EntryCodec.validate(Arrays.copyOf(framed, 20), 7));
    }

    @Test
    void aStagingIdThatCouldLeaveTheStagingDirectoryIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new StagedState("../etc", 1, 1, 1, new byte[32]));
        assertTrue(e.getMessage().contains("letters, digits"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new StagedState("ok", 1, 1, 1, new byte[31]));
    }
}
