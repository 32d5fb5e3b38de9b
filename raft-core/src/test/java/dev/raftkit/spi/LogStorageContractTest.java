package dev.raftkit.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.confchange.ConfChangeCodec;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.log.InitialState;
import dev.raftkit.core.log.LogCompactedException;
import dev.raftkit.core.log.LogReader;
import dev.raftkit.core.log.LogUnavailableException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link LogStorage} (see {@link LogReader} and {@link LogWriter}): every
 * implementation extends this test. Durable implementations override {@link #reopen} so each
 * check also runs against what survives a close and reopen after {@code sync()}.
 */
public abstract class LogStorageContractTest {

    /** A new, empty log. */
    protected abstract LogStorage create() throws Exception;

    /**
     * Closes {@code log} and opens the same storage again, as a restart would. In-memory logs
     * return {@code log} itself.
     */
    protected LogStorage reopen(LogStorage log) throws Exception {
        return log;
    }

    protected LogStorage log;

    @BeforeEach
    void setUpLog() throws Exception {
        log = create();
    }

    @AfterEach
    void closeLog() throws Exception {
        log.close();
    }

    protected static Entry entry(long term, long index) {
        return Entry.normal(term, index, ("e" + index + "@" + term).getBytes());
    }

    protected static List<Entry> entries(long term, long from, long to) {
        List<Entry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            out.add(entry(term, i));
        }
        return out;
    }

    private void syncAndReopen() throws Exception {
        log.sync();
        log = reopen(log);
    }

    private static final ConfState JOINT = new ConfState(Set.of(1L, 2L, 3L), Set.of(1L, 2L, 4L), Set.of(5L),
            Set.of(4L), true);

    @Test
    void anEmptyLogStartsAfterTheEmptySnapshot() throws Exception {
        for (int round = 0; round < 2; round++) {
            assertEquals(1, log.firstIndex());
            assertEquals(0, log.lastIndex());
            assertEquals(0, log.term(0));
            assertEquals(new InitialState(HardState.EMPTY, SnapshotMeta.EMPTY), log.initialState());
            assertEquals(List.of(), log.entries(1, 1, Long.MAX_VALUE));
            syncAndReopen();
        }
    }

    @Test
    void appendedEntriesReadBackAfterSync() throws Exception {
        List<Entry> written = new ArrayList<>(entries(1, 1, 3));
        written.add(new Entry(2, 4, EntryType.CONF_CHANGE, ConfChangeCodec.encode(ConfChange.addVoter(7))));
        written.add(Entry.normal(2, 5, new byte[0]));
        log.append(written);
        for (int round = 0; round < 2; round++) {
            assertEquals(1, log.firstIndex());
            assertEquals(5, log.lastIndex());
            assertEquals(written, log.entries(1, 6, Long.MAX_VALUE));
            assertEquals(1, log.term(3));
            assertEquals(2, log.term(4));
            assertEquals(0, log.term(0));
            syncAndReopen();
        }
    }

    @Test
    void appendsContinueAcrossCalls() throws Exception {
        log.append(entries(1, 1, 2));
        log.append(entries(1, 3, 3));
        log.append(entries(2, 4, 6));
        syncAndReopen();
        log.append(entries(3, 7, 8));
        syncAndReopen();
        List<Entry> expected = new ArrayList<>(entries(1, 1, 3));
        expected.addAll(entries(2, 4, 6));
        expected.addAll(entries(3, 7, 8));
        assertEquals(expected, log.entries(1, 9, Long.MAX_VALUE));
    }

    @Test
    void appendAtOrBelowTheLastIndexReplacesTheSuffix() throws Exception {
        log.append(entries(1, 1, 5));
        log.sync();
        log.append(entries(2, 3, 4));
        for (int round = 0; round < 2; round++) {
            assertEquals(4, log.lastIndex());
            List<Entry> expected = new ArrayList<>(entries(1, 1, 2));
            expected.addAll(entries(2, 3, 4));
            assertEquals(expected, log.entries(1, 5, Long.MAX_VALUE));
            assertThrows(LogUnavailableException.class, () -> log.term(5));
            syncAndReopen();
        }
    }

    @Test
    void overwritingTheWholeLogKeepsNothingOfTheOld() throws Exception {
        log.append(entries(1, 1, 4));
        log.sync();
        log.append(entries(3, 1, 2));
        syncAndReopen();
        assertEquals(entries(3, 1, 2), log.entries(1, 3, Long.MAX_VALUE));
        assertEquals(2, log.lastIndex());
    }

    @Test
    void anAppendThatLeavesAGapIsRejected() throws Exception {
        log.append(entries(1, 1, 2));
        assertThrows(IllegalStateException.class, () -> log.append(entries(1, 4, 4)));
    }

    @Test
    void anAppendWhoseTermsGoBackwardsIsRejected() throws Exception {
        log.append(entries(2, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> log.append(entries(1, 3, 3)));
    }

    @Test
    void appendingNothingChangesNothing() throws Exception {
        log.append(entries(1, 1, 2));
        log.append(List.of());
        assertEquals(2, log.lastIndex());
    }

    @Test
    void entriesStopOnceOverMaxBytesButReturnAtLeastOne() throws Exception {
        log.append(entries(1, 1, 10));
        long one = entry(1, 1).sizeBytes();
        assertEquals(1, log.entries(1, 11, 0).size());
        assertEquals(1, log.entries(1, 11, one).size());
        assertEquals(2, log.entries(1, 11, 2 * one).size());
        assertEquals(2, log.entries(1, 11, 3 * one - 1).size());
        assertEquals(10, log.entries(1, 11, Long.MAX_VALUE).size());
        assertEquals(entries(1, 4, 6), log.entries(4, 7, Long.MAX_VALUE));
    }

    @Test
    void readsOutsideTheLogThrowTheRangeExceptions() throws Exception {
        log.append(entries(1, 1, 3));
        assertThrows(LogUnavailableException.class, () -> log.term(4));
        assertThrows(LogUnavailableException.class, () -> log.entries(2, 5, Long.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> log.entries(3, 2, Long.MAX_VALUE));
        log.compact(new SnapshotMeta(new EntryId(1, 2), ConfState.ofVoters(Set.of(1L))));
        long first = log.firstIndex();
        assertTrue(first <= 3, "compaction must not drop entries above the snapshot");
        assertThrows(LogCompactedException.class, () -> log.term(first - 2));
        assertThrows(LogCompactedException.class, () -> log.entries(first - 1, 3, Long.MAX_VALUE));
    }

    @Test
    void hardStateIsDurableAfterSync() throws Exception {
        log.append(entries(1, 1, 3));
        HardState hs = new HardState(4, 2, 3);
        log.setHardState(hs);
        assertEquals(hs, log.initialState().hardState());
        syncAndReopen();
        assertEquals(hs, log.initialState().hardState());
        log.setHardState(new HardState(5, 0, 3));
        syncAndReopen();
        assertEquals(new HardState(5, 0, 3), log.initialState().hardState());
    }

    @Test
    void compactionKeepsEverythingAboveTheSnapshotAndRemembersIt() throws Exception {
        log.append(entries(1, 1, 5));
        log.append(entries(2, 6, 10));
        SnapshotMeta snap = new SnapshotMeta(new EntryId(2, 7), JOINT);
        log.compact(snap);
        for (int round = 0; round < 2; round++) {
            assertEquals(snap, log.initialState().snapshot());
            long first = log.firstIndex();
            assertTrue(first >= 1 && first <= 8, "first index " + first);
            assertEquals(10, log.lastIndex());
            assertEquals(first - 1 >= 6 ? 2 : first - 1 == 0 ? 0 : 1, log.term(first - 1));
            assertEquals(2, log.term(7));
            assertEquals(entries(2, 8, 10), log.entries(8, 11, Long.MAX_VALUE));
            syncAndReopen();
        }
        log.append(entries(3, 11, 11));
        assertEquals(entry(3, 11), log.entries(11, 12, Long.MAX_VALUE).get(0));
    }

    @Test
    void compactingToAnOlderSnapshotChangesNothing() throws Exception {
        log.append(entries(1, 1, 5));
        SnapshotMeta snap = new SnapshotMeta(new EntryId(1, 4), ConfState.ofVoters(Set.of(1L)));
        log.compact(snap);
        long first = log.firstIndex();
        log.compact(new SnapshotMeta(new EntryId(1, 2), ConfState.ofVoters(Set.of(1L))));
        assertEquals(first, log.firstIndex());
        assertEquals(snap, log.initialState().snapshot());
    }

    @Test
    void compactingBeyondTheLogOrAtTheWrongTermIsRejected() throws Exception {
        log.append(entries(1, 1, 3));
        assertThrows(IllegalStateException.class,
                () -> log.compact(new SnapshotMeta(new EntryId(1, 4), ConfState.EMPTY)));
        assertThrows(IllegalStateException.class,
                () -> log.compact(new SnapshotMeta(new EntryId(2, 3), ConfState.EMPTY)));
    }

    @Test
    void installingASnapshotReplacesTheWholeLog() throws Exception {
        log.append(entries(1, 1, 5));
        log.setHardState(new HardState(1, 1, 3));
        log.sync();
        SnapshotMeta snap = new SnapshotMeta(new EntryId(4, 20), JOINT);
        log.installSnapshot(snap);
        log.setHardState(new HardState(4, 0, 20));
        for (int round = 0; round < 2; round++) {
            assertEquals(21, log.firstIndex());
            assertEquals(20, log.lastIndex());
            assertEquals(4, log.term(20));
            assertEquals(snap, log.initialState().snapshot());
            assertThrows(LogCompactedException.class, () -> log.term(5));
            assertThrows(LogCompactedException.class, () -> log.entries(20, 21, Long.MAX_VALUE));
            syncAndReopen();
        }
        log.append(entries(4, 21, 22));
        syncAndReopen();
        assertEquals(entries(4, 21, 22), log.entries(21, 23, Long.MAX_VALUE));
        assertThrows(IllegalStateException.class, () -> log.append(entries(4, 20, 20)));
    }

    @Test
    void installingASnapshotInsideTheLogDropsTheEntriesAfterItToo() throws Exception {
        log.append(entries(1, 1, 10));
        SnapshotMeta snap = new SnapshotMeta(new EntryId(1, 5), ConfState.ofVoters(Set.of(1L, 2L)));
        log.installSnapshot(snap);
        syncAndReopen();
        assertEquals(5, log.lastIndex());
        assertEquals(6, log.firstIndex());
        log.append(entries(2, 6, 6));
        assertEquals(entries(2, 6, 6), log.entries(6, 7, Long.MAX_VALUE));
    }
}
