package dev.raftkit.jepsen.txn;

import static dev.raftkit.jepsen.txn.Mop.append;
import static dev.raftkit.jepsen.txn.Mop.read;
import static dev.raftkit.jepsen.txn.Mop.readRegister;
import static dev.raftkit.jepsen.txn.Mop.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.OpStatus;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Histories the checker must accept as strict serializable, and the history's own validation. */
class KnownGoodHistoriesTest {

    private static void assertValid(TxnHistory h) {
        TxnResult r = TxnChecker.check(h);
        assertTrue(r.valid() && r.types().isEmpty(), r::text);
    }

    @Test
    void serialAppendsAndReads() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 10, append("x", 1), read("y"));
        b.ok(1, 20, 30, read("x", 1), append("y", 1), append("x", 2));
        b.ok(0, 40, 50, read("x", 1, 2), read("y", 1), append("y", 2), read("y", 1, 2));
        b.ok(2, 45, 60, read("x", 1, 2), read("y", 1, 2));
        assertValid(b.build());
    }

    @Test
    void indeterminateWhoseEffectsShow() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.info(0, 0, 5, append("x", 1));       // the client gave up at 5 ...
        b.ok(1, 10, 20, read("x"));             // ... it had not taken effect at 10-20 ...
        b.ok(2, 30, 40, read("x", 1));          // ... but had by 30: fine, it may take effect any time
        b.ok(3, 50, 60, append("x", 2), read("x", 1, 2));
        TxnResult r = TxnChecker.check(b.build());
        assertTrue(r.valid() && r.types().isEmpty(), r::text);
        assertEquals(4, r.committed(), "the indeterminate transaction counts as committed once a read shows it");
    }

    @Test
    void indeterminateWhoseEffectsNeverShow() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.info(0, 0, 5, append("x", 1));
        b.ok(1, 10, 20, read("x"));
        b.ok(2, 30, 40, append("x", 2));
        b.ok(3, 50, 60, read("x", 2));
        TxnResult r = TxnChecker.check(b.build());
        assertTrue(r.valid() && r.types().isEmpty(), r::text);
        assertEquals(3, r.committed());
    }

    @Test
    void failedTransactionNobodyRead_andRegisters() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.fail(0, 0, 5, append("x", 1), write("r", 9));
        b.ok(1, 10, 20, read("x"), readRegister("r", null), write("r", 1));
        b.ok(2, 30, 40, readRegister("r", 1L), write("r", 2), readRegister("r", 2L));
        b.ok(3, 50, 60, readRegister("r", 2L));
        assertValid(b.build());
    }

    @Test
    void recorderFromThreadsGivesACheckableHistory() throws Exception {
        AtomicLong clock = new AtomicLong();
        TxnRecorder rec = new TxnRecorder(() -> clock.addAndGet(10));
        int t0 = rec.invoke(1, List.of(append("x", 1), read("x")));
        rec.ok(t0, List.of(append("x", 1), read("x", 1)));
        int t1 = rec.invoke(2, List.of(read("x")));
        int t2 = rec.invoke(3, List.of(append("x", 2)));
        rec.ok(t1, List.of(read("x", 1)));
        rec.fail(t2);
        int t3 = rec.invoke(4, List.of(append("x", 3)));   // never completed: recorded as indeterminate
        TxnHistory h = rec.history();
        assertEquals(OpStatus.INFO, h.txns().get(t3).status());
        assertEquals(OpStatus.FAIL, h.txns().get(t2).status());
        assertValid(h);
        assertThrows(IllegalStateException.class, () -> rec.ok(t0, List.of(append("x", 1), read("x", 1))));
    }

    @Test
    void badHistoriesAreRefusedWithWhatIsWrong() {
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> {
            TxnHistory.Builder b = TxnHistory.builder();
            b.ok(0, 0, 1, append("x", 1));
            b.ok(0, 2, 3, append("x", 1));
            b.build();
        });
        assertTrue(dup.getMessage().contains("value 1 is written to key 'x' by both T0 and T1"), dup.getMessage());
        IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class, () -> {
            TxnHistory.Builder b = TxnHistory.builder();
            b.ok(0, 0, 1, append("x", 1));
            b.ok(0, 2, 3, write("x", 2));
            b.build();
        });
        assertTrue(mixed.getMessage().contains("T1 uses key 'x' as a register"), mixed.getMessage());
    }
}
