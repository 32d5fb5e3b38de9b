package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Stateful property: run any sequence of append (possibly overwriting a suffix), sync, compact,
 * install, hard-state updates and crashes (dropping unsynced bytes, optionally keeping a random
 * prefix of them with the last write torn) against the log and against a plain list. After every
 * crash the recovered log is a prefix of a state the log passed through since the last sync, and
 * holds every synced entry that was not overwritten since; the hard state and snapshot base are
 * the synced ones.
 *
 * <p>Runs 200 tries by default (each try opens the log up to a dozen times on the simulated file
 * system); {@code -Dproperty.tries} does not apply, {@code -Dproperty.seed} replays a failure.
 */
class LogCrashPropertyTest {

    static final Path DIR = Path.of("/sim/prop/log");
    static final SegmentedLogStorage.Options OPTIONS = SegmentedLogStorage.Options.defaults()
            .withSegmentBytes(4096).withCacheBytes(2048);

    sealed interface Op permits Sync, Append, Crash, Compact, Vote, Install {
    }

    record Sync() implements Op {
    }

    /** Append {@code count} entries starting {@code back} places before the end (0 = at the end). */
    record Append(int back, int count, boolean newTerm, int size) implements Op {
    }

    record Crash(boolean keepSomeUnsynced, long seed) implements Op {
    }

    record Compact(int back) implements Op {
    }

    record Vote(int vote) implements Op {
    }

    record Install(int ahead) implements Op {
    }

    static final Gen<Op> OPS = Gens.frequency(List.of(
            new Gens.Weighted<>(3, Gens.constant(new Sync())),
            new Gens.Weighted<>(6, Gens.ints(0, 4).flatMap(back -> Gens.ints(1, 6).flatMap(count ->
                    Gens.booleans().flatMap(bump -> Gens.ints(0, 60).map(size ->
                            (Op) new Append(back, count, bump, size)))))),
            new Gens.Weighted<>(2, Gens.booleans().flatMap(keep -> Gens.longs(0, 1_000_000).map(seed ->
                    (Op) new Crash(keep, seed)))),
            new Gens.Weighted<>(1, Gens.ints(0, 10).map(Compact::new)),
            new Gens.Weighted<>(1, Gens.ints(0, 3).map(Vote::new)),
            new Gens.Weighted<>(1, Gens.ints(0, 3).map(Install::new))));

    /** The model: the log since the last install, the states since the last sync, and what is durable. */
    static final class Model {
        long origin; // index before the first entry the model holds
        long originTerm;
        SnapshotMeta base = SnapshotMeta.EMPTY;
        List<Entry> log = new ArrayList<>();
        /** Every state of {@code log} since the last sync, the synced one first. */
        List<List<Entry>> sinceSync = new ArrayList<>(List.of(List.of()));
        HardState hardState = HardState.EMPTY;
        HardState durableHardState = HardState.EMPTY;

        long last() {
            return origin + log.size();
        }

        long termAt(long index) {
            return index == origin ? originTerm : log.get((int) (index - origin - 1)).term();
        }

        /** Entries synced and not overwritten since: the common prefix of every state since the sync. */
        int safePrefix() {
            int n = sinceSync.get(0).size();
            for (List<Entry> s : sinceSync) {
                int k = 0;
                while (k < Math.min(n, s.size()) && s.get(k).equals(sinceSync.get(0).get(k))) {
                    k++;
                }
                n = k;
            }
            return n;
        }
    }

    static byte[] payload(long index, long term, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (index * 31 + term * 7 + i);
        }
        return b;
    }

    @Test
    void theRecoveredLogIsADurablePrefixAndKeepsEverySyncedEntry() {
        Property.forAll(Gens.lists(OPS, 1, 60)).name("recovered log = model's durable prefix").tries(200)
                .check(LogCrashPropertyTest::run);
    }

    static void run(List<Op> script) throws Exception {
        SimFileIo fs = new SimFileIo().mkdirsDurable(DIR.getParent());
        SegmentedLogStorage log = SegmentedLogStorage.open(fs, DIR, OPTIONS);
        Model m = new Model();
        try {
            int step = 0;
            for (Op op : script) {
                String where = "step " + step++ + " " + op;
                if (op instanceof Sync) {
                    log.sync();
                    m.sinceSync = new ArrayList<>(List.of(List.copyOf(m.log)));
                    m.durableHardState = m.hardState;
                } else if (op instanceof Append a) {
                    long first = Math.max(m.base.index() + 1, m.last() + 1 - a.back());
                    long term = m.termAt(first - 1) + (a.newTerm() || first == 1 ? 1 : 0);
                    List<Entry> batch = new ArrayList<>();
                    for (int i = 0; i < a.count(); i++) {
                        batch.add(Entry.normal(term, first + i, payload(first + i, term, a.size())));
                    }
                    log.append(batch);
                    m.log = new ArrayList<>(m.log.subList(0, (int) (first - m.origin - 1)));
                    m.log.addAll(batch);
                    m.sinceSync.add(List.copyOf(m.log));
                } else if (op instanceof Compact c) {
                    long index = Math.min(m.last() - c.back(), m.origin + m.safePrefix());
                    if (index > m.base.index()) {
                        SnapshotMeta snap = new SnapshotMeta(new EntryId(m.termAt(index), index),
                                ConfState.ofVoters(Set.of(1L, index % 5 + 2)));
                        log.compact(snap);
                        m.base = snap;
                    }
                } else if (op instanceof Vote v) {
                    HardState hs = new HardState(m.hardState.term() + 1, v.vote(), 0);
                    log.setHardState(hs);
                    m.hardState = hs;
                } else if (op instanceof Install i) {
                    long index = m.last() + i.ahead();
                    long term = Math.max(1, m.termAt(m.last()) + 1);
                    SnapshotMeta snap = new SnapshotMeta(new EntryId(term, index), ConfState.ofVoters(Set.of(1L)));
                    log.installSnapshot(snap);
                    log.sync(); // the SPI promises durability only after sync
                    m.origin = index;
                    m.originTerm = term;
                    m.base = snap;
                    m.log = new ArrayList<>();
                    m.sinceSync = new ArrayList<>(List.of(List.of()));
                    m.durableHardState = m.hardState;
                } else if (op instanceof Crash c) {
                    fs.crash(c.keepSomeUnsynced() ? new Random(c.seed()) : null);
                    log = SegmentedLogStorage.open(fs, DIR, OPTIONS);
                    checkRecovered(log, m, where);
                    m.hardState = m.durableHardState;
                }
                checkLive(log, m, where);
            }
        } finally {
            log.close();
        }
    }

    /** After a crash: a prefix of some state since the sync, keeping all synced entries; then the model follows it. */
    static void checkRecovered(SegmentedLogStorage log, Model m, String where) {
        assertEquals(m.durableHardState, log.initialState().hardState(), "hard state after " + where);
        assertEquals(m.base, log.initialState().snapshot(), "snapshot base after " + where);
        long last = log.lastIndex();
        int n = (int) (last - m.origin);
        assertTrue(n >= m.safePrefix(), "lost synced entries: recovered up to " + last + ", synced up to "
                + (m.origin + m.safePrefix()) + " after " + where);
        long from = Math.max(log.firstIndex(), m.origin + 1);
        List<Entry> got = from <= last ? log.entries(from, last + 1, Long.MAX_VALUE) : List.of();
        int skip = (int) (from - m.origin - 1);
        boolean matchesSomeState = false;
        for (List<Entry> state : m.sinceSync) {
            if (state.size() >= n && state.subList(skip, n).equals(got)) {
                matchesSomeState = true;
                m.log = new ArrayList<>(state.subList(0, n));
                break;
            }
        }
        assertTrue(matchesSomeState, "recovered log " + got + " is no prefix of a state since the last sync "
                + m.sinceSync + " after " + where);
        m.sinceSync = new ArrayList<>(List.of(List.copyOf(m.log)));
    }

    /** Without a crash the log shows exactly the model. */
    static void checkLive(SegmentedLogStorage log, Model m, String where) {
        assertEquals(m.last(), log.lastIndex(), "last index after " + where);
        long from = Math.max(log.firstIndex(), m.origin + 1);
        assertTrue(log.firstIndex() <= m.base.index() + 1, "first index after " + where);
        if (from <= m.last()) {
            assertEquals(m.log.subList((int) (from - m.origin - 1), m.log.size()),
                    log.entries(from, m.last() + 1, Long.MAX_VALUE), "entries after " + where);
        }
        assertEquals(m.termAt(m.last()), log.term(m.last()), "last term after " + where);
    }
}
