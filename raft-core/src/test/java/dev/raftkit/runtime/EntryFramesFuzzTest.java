package dev.raftkit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.confchange.ConfChangeCodec;
import dev.raftkit.testkit.fuzz.Fuzz;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the two payload decoders every replica runs on entries it received from a
 * leader: the runtime's session framing of a normal entry and the configuration-change codec. A
 * bad frame must be refused by {@link EntryCodec#validate} (which stops the node by design, on
 * corruption) and a validated frame must never throw in its accessors; a bad configuration change
 * must be an {@link IllegalArgumentException}.
 */
class EntryFramesFuzzTest {

    @Test
    void runtimeFramesValidateOrRefuseAndValidatedFramesAreReadable() {
        List<byte[]> corpus = List.of(EntryCodec.command(new byte[] {1, 2, 3}), EntryCodec.command(new byte[0]),
                EntryCodec.sessionCommand(7, 3, 2, new byte[] {9}), EntryCodec.openSession(), EntryCodec.closeSession(7));
        Fuzz.target("runtime-entry-frame", bytes -> {
            if (bytes.length == 0) {
                return "no-op"; // the applier skips empty entries (the leader's no-op) before validating
            }
            EntryCodec.validate(bytes, 42);
            byte kind = EntryCodec.kind(bytes);
            EntryCodec.timestamp(bytes);
            if (kind == EntryCodec.SESSION_COMMAND || kind == EntryCodec.CLOSE_SESSION) {
                EntryCodec.client(bytes);
            }
            if (kind == EntryCodec.SESSION_COMMAND) {
                EntryCodec.sequence(bytes);
                EntryCodec.lowestUnacked(bytes);
            }
            if (kind == EntryCodec.SESSION_COMMAND || kind == EntryCodec.COMMAND) {
                return EntryCodec.payload(bytes).length;
            }
            return kind;
        }).corpus(corpus).refusesWith(IllegalStateException.class).iterations(40_000).run();
    }

    @Test
    void configurationChangesDecodeOrRefuseWithIllegalArgumentException() {
        List<byte[]> corpus = List.of(ConfChangeCodec.encode(ConfChange.addVoter(4)),
                ConfChangeCodec.encode(ConfChange.addLearner(9)), ConfChangeCodec.encode(ConfChange.remove(2)),
                ConfChangeCodec.encode(ConfChange.leaveJoint()));
        Fuzz.target("conf-change", ConfChangeCodec::decode)
                .corpus(corpus)
                .refusesWith(IllegalArgumentException.class)
                .accepted((input, change) -> assertEquals(change, ConfChangeCodec.decode(ConfChangeCodec.encode(change))))
                .iterations(40_000)
                .run();
    }
}
