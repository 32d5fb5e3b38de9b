package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.LogCompactedException;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.log.LogUnavailableException;
import dev.raftkit.runtime.MemoryLogStorage;
import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Gens.Weighted;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link RaftLog} over a {@link MemoryLogStorage} against a plain list (STYLE 8), driven the way a
 * node drives it: leader appends, follower appends from leaders whose logs come from earlier
 * versions of this one (so entries are overwritten, and sometimes written back: A-B-A), commits,
 * Readys taken and persisted later in order (so acknowledgements go stale), application,
 * compaction of the storage and snapshot restores.
 *
 * <p>The model never looks at the log's internals. Durability is judged from what the storage
 * actually holds: the log may call durable only what the storage holds, and once every Ready is
 * persisted, everything.
 */
class RaftLogModelTest {

    sealed interface Op permits LeaderAppend, FollowerAppend, Commit, TakeReady, Persist, Apply, Compact, Restore {
    }

    /** Where a leader's log comes from: a prefix of a log seen before, then {@code fresh} entries of a new term. */
    record LeaderPick(int version, int prefix, int fresh) {
    }

    record LeaderAppend(int count) implements Op {
    }

    record FollowerAppend(LeaderPick leader, int prev, int length, int commit) implements Op {
    }

    record Commit(int pick) implements Op {
    }

    record TakeReady() implements Op {
    }

    record Persist() implements Op {
    }

    record Apply(boolean markApplied) implements Op {
    }

    record Compact(int pick) implements Op {
    }

    record Restore(LeaderPick leader, int pick) implements Op {
    }

    private static final Gen<Integer> PICK = Gens.ints(0, 1000);
    private static final Gen<LeaderPick> LEADERS = source -> new LeaderPick(
            PICK.generate(source), PICK.generate(source), source.nextInt(0, 3));

    /** Mostly no news of commitment, so that committed entries do not fence off overwrites too soon. */
    private static final Gen<Integer> LEADER_COMMITS = Gens.frequency(List.of(
            new Weighted<>(2, Gens.constant(0)), new Weighted<>(1, PICK)));

    static final Gen<Op> OPS = Gens.frequency(List.of(
            new Weighted<Op>(3, Gens.ints(1, 3).map(LeaderAppend::new)),
            new Weighted<Op>(5, source -> new FollowerAppend(LEADERS.generate(source), PICK.generate(source),
                    PICK.generate(source), LEADER_COMMITS.generate(source))),
            new Weighted<Op>(1, PICK.map(Commit::new)),
            new Weighted<Op>(3, Gens.constant(new TakeReady())),
            new Weighted<Op>(3, Gens.constant(new Persist())),
            new Weighted<Op>(1, Gens.booleans().map(Apply::new)),
            new Weighted<Op>(1, PICK.map(Compact::new)),
            new Weighted<Op>(1, source -> new Restore(LEADERS.generate(source), PICK.generate(source)))));

    record Script(long applyBytes, List<Op> ops) {
    }

    static final Gen<Script> SCRIPTS = Gens.pairs(Gens.oneOf(Long.MAX_VALUE, 60L, 1L), Gens.lists(OPS, 0, 80))
            .map(p -> new Script(p.first(), p.second()));

    /** Entries are a function of their position, so two logs holding the same id hold the same bytes. */
    static Entry entry(long term, long index) {
        byte[] data = new byte[(int) ((term * 7 + index) % 4)];
        java.util.Arrays.fill(data, (byte) index);
        return Entry.normal(term, index, data);
    }

    static List<Entry> capped(List<Entry> entries, long maxBytes) {
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (Entry e : entries) {
            bytes += e.sizeBytes();
            if (!out.isEmpty() && bytes > maxBytes) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    record ReadyRecord(SnapshotMeta snapshot, List<Entry> entries, long overwrites) {
    }

    /** The system under test and its model, side by side. */
    static final class World {
        final long applyBytes;
        final MemoryLogStorage storage = new MemoryLogStorage();
        final RaftLog log;
        final ArrayDeque<ReadyRecord> readies = new ArrayDeque<>();
        final List<List<Entry>> history = new ArrayList<>();

        // The model.
        final List<Entry> entries = new ArrayList<>(); // index i at position i - 1, compacted ones too
        long first = 1;
        long committed;
        long applying;
        /** Bytes handed out since the last markApplied. */
        long inflight;
        long applied;
        long handedOut;
        SnapshotMeta pendingSnapshot;
        boolean snapshotHandedOut;
        long term;
        long ownTerm = -1;

        World(long applyBytes) {
            this.applyBytes = applyBytes;
            this.log = new RaftLog(storage, applyBytes);
            history.add(List.of());
        }

        long last() {
            return entries.size();
        }

        long termAt(long index) {
            return index == 0 ? 0 : entries.get((int) index - 1).term();
        }

        EntryId idAt(List<Entry> log, long index) {
            return index == 0 ? EntryId.ZERO : log.get((int) index - 1).id();
        }

        static int pick(int pick, long lo, long hi) {
            return (int) (lo + pick % (hi - lo + 1));
        }

        void remember(List<Entry> log) {
            history.add(List.copyOf(log));
            if (history.size() > 16) {
                history.remove(0);
            }
        }

        /**
         * A leader's log: a prefix of a log seen before that holds every committed entry (Leader
         * Completeness; by Log Matching, holding the committed entry itself is enough), then
         * entries of a new term.
         */
        List<Entry> leaderLog(LeaderPick p) {
            List<Entry> source = history.get(p.version() % history.size());
            if (source.size() < committed || (committed > 0 && !source.get((int) committed - 1).equals(entries.get((int) committed - 1)))) {
                source = entries;
            }
            List<Entry> leader = new ArrayList<>(source.subList(0, pick(p.prefix(), committed, source.size())));
            if (p.fresh() > 0) {
                term++;
                for (int i = 0; i < p.fresh(); i++) {
                    leader.add(entry(term, leader.size() + 1));
                }
            }
            remember(leader);
            return leader;
        }

        /** Replaces the model's entries from {@code at} on (a truncation, as far as the model is concerned). */
        void truncateFrom(long at) {
            entries.subList((int) at - 1, entries.size()).clear();
            handedOut = Math.min(handedOut, at - 1);
        }

        void run(Op op) {
            if (op instanceof LeaderAppend a) {
                if (ownTerm != term) {
                    term++;
                    ownTerm = term;
                }
                List<Entry> batch = new ArrayList<>();
                for (int i = 0; i < a.count(); i++) {
                    batch.add(entry(term, last() + 1 + i));
                }
                assertEquals(last() + a.count(), log.append(batch));
                entries.addAll(batch);
                remember(entries);
            } else if (op instanceof FollowerAppend f) {
                ownTerm = -1;
                List<Entry> leader = leaderLog(f.leader());
                long prev = pick(f.prev(), committed, leader.size());
                long end = pick(f.length(), prev, leader.size());
                long leaderCommit = pick(f.commit(), 0, leader.size());
                EntryId prevId = idAt(leader, prev);
                LogSlice slice = new LogSlice(prevId, leader.subList((int) prev, (int) end));
                boolean matches = prev <= last() && termAt(prev) == prevId.term();
                long got = log.maybeAppend(slice, leaderCommit);
                if (!matches) {
                    assertEquals(-1, got, "append after " + prevId + " that this log does not hold");
                    return;
                }
                assertEquals(end, got, "last index of the accepted slice");
                for (Entry e : slice.entries()) {
                    if (e.index() <= last() && !entries.get((int) e.index() - 1).equals(e)) {
                        truncateFrom(e.index());
                    }
                    if (e.index() == last() + 1) {
                        entries.add(e);
                    }
                }
                committed = Math.max(committed, Math.min(leaderCommit, end));
                remember(entries);
            } else if (op instanceof Commit c) {
                long to = pick(c.pick(), 0, last());
                log.commitTo(to);
                committed = Math.max(committed, to);
            } else if (op instanceof TakeReady) {
                SnapshotMeta snap = log.nextUnstableSnapshot();
                List<Entry> ents = log.nextUnstableEntries();
                long overwrites = log.unstableOverwrites();
                assertEquals(snapshotHandedOut ? null : pendingSnapshot, snap, "snapshot in the Ready");
                assertEquals(entries.subList((int) handedOut, entries.size()), ents, "entries in the Ready");
                log.acceptUnstable();
                assertTrue(!log.hasNextUnstableEntries() && log.nextUnstableSnapshot() == null, "accepted");
                if (snap != null) {
                    snapshotHandedOut = true;
                    applying = Math.max(applying, snap.index());
                }
                handedOut = last();
                if (snap != null || !ents.isEmpty()) {
                    readies.add(new ReadyRecord(snap, ents, overwrites));
                }
            } else if (op instanceof Persist) {
                ReadyRecord r = readies.poll();
                if (r == null) {
                    return;
                }
                if (r.snapshot() != null) {
                    storage.installSnapshot(r.snapshot());
                    log.stableSnapshotTo(r.snapshot().index());
                    if (pendingSnapshot != null && pendingSnapshot.index() == r.snapshot().index()) {
                        pendingSnapshot = null;
                        snapshotHandedOut = false;
                    }
                }
                if (!r.entries().isEmpty()) {
                    storage.append(r.entries());
                    log.stableTo(r.entries().get(r.entries().size() - 1).id(), r.overwrites());
                }
            } else if (op instanceof Apply a) {
                List<Entry> got = log.nextCommittedEntries();
                List<Entry> want = List.of();
                long hi = Math.min(committed, log.lastStableIndex());
                if (pendingSnapshot == null && hi > applying && inflight < applyBytes) {
                    want = capped(entries.subList((int) applying, (int) hi), applyBytes - inflight);
                }
                assertEquals(want, got, "committed entries handed out (committed " + committed + ", stable "
                        + log.lastStableIndex() + ", applying " + applying + ")");
                assertEquals(!want.isEmpty(), log.hasNextCommittedEntries());
                if (!got.isEmpty()) {
                    applying = got.get(got.size() - 1).index();
                    long bytes = got.stream().mapToLong(Entry::sizeBytes).sum();
                    log.acceptApplying(applying, bytes);
                    inflight += bytes;
                }
                assertEquals(inflight, log.applyingBytes(), "bytes handed out and not applied");
                if (a.markApplied()) {
                    log.appliedTo(applying);
                    applied = applying;
                    inflight = 0;
                }
            } else if (op instanceof Compact c) {
                long snap = storage.snapshot().index();
                long hi = Math.min(applied, durable());
                if (pendingSnapshot != null || hi <= snap) {
                    return;
                }
                long at = pick(c.pick(), snap + 1, hi);
                storage.compact(new SnapshotMeta(idAt(entries, at), ConfState.EMPTY));
                first = at + 1;
            } else if (op instanceof Restore r) {
                ownTerm = -1;
                List<Entry> leader = leaderLog(r.leader());
                if (leader.size() <= committed) {
                    return;
                }
                long at = pick(r.pick(), committed + 1, leader.size());
                EntryId id = idAt(leader, at);
                if (at <= last() && termAt(at) == id.term()) {
                    // What a node does with a snapshot whose last entry it holds: just commit.
                    log.commitTo(at);
                    committed = at;
                    return;
                }
                SnapshotMeta meta = new SnapshotMeta(id, ConfState.EMPTY);
                log.restore(meta);
                entries.clear();
                entries.addAll(leader.subList(0, (int) at));
                first = at + 1;
                committed = at;
                handedOut = at;
                pendingSnapshot = meta;
                snapshotHandedOut = false;
                assertEquals(meta, log.snapshot());
                remember(entries);
            }
        }

        /** The longest prefix of the model log that the storage really holds. */
        long durable() {
            long d = 0;
            SnapshotMeta snap = storage.snapshot();
            if (snap.index() > 0) {
                if (snap.index() > last() || !idAt(entries, snap.index()).equals(snap.last())) {
                    return 0;
                }
                d = snap.index();
            }
            for (long i = d + 1; i <= Math.min(last(), storage.lastIndex()); i++) {
                if (!storage.entries(i, i + 1, Long.MAX_VALUE).get(0).equals(entries.get((int) i - 1))) {
                    break;
                }
                d = i;
            }
            return d;
        }

        void check(String after) {
            String where = " after " + after;
            assertEquals(last(), log.lastIndex(), "lastIndex" + where);
            assertEquals(first, log.firstIndex(), "firstIndex" + where);
            assertEquals(committed, log.committed(), "committed" + where);
            assertEquals(applying, log.applying(), "applying" + where);
            assertEquals(applied, log.applied(), "applied" + where);
            for (long i = first - 1; i <= last(); i++) {
                assertEquals(termAt(i), log.term(i), "term(" + i + ")" + where);
            }
            if (first >= 2) {
                assertThrows(LogCompactedException.class, () -> log.term(first - 2), "term below the log" + where);
                assertThrows(LogCompactedException.class, () -> log.slice(first - 1, first, Long.MAX_VALUE));
            }
            assertThrows(LogUnavailableException.class, () -> log.term(last() + 1), "term past the log" + where);
            assertEquals(entries.subList((int) first - 1, entries.size()), log.slice(first, last() + 1, Long.MAX_VALUE),
                    "all entries" + where);
            for (long lo : new long[] {first, first + 1, (first + last()) / 2, last()}) {
                if (lo >= first && lo <= last()) {
                    assertEquals(capped(entries.subList((int) lo - 1, entries.size()), 60), log.entriesFrom(lo, 60),
                            "entries from " + lo + " within 60 bytes" + where);
                    long hi = Math.min(last(), lo + 2);
                    assertEquals(entries.subList((int) lo - 1, (int) hi), log.slice(lo, hi + 1, Long.MAX_VALUE),
                            "entries [" + lo + "," + (hi + 1) + ")" + where);
                }
            }
            assertEquals(List.of(), log.entriesFrom(last() + 1, 60));
            assertEquals(idAt(entries, last()), log.lastEntryId());
            // Fast back-off agrees with a scan from the top.
            for (long t = 0; t <= term; t++) {
                EntryId want = EntryId.ZERO;
                for (long i = last(); i > 0; i--) {
                    if (i < first - 1) {
                        want = new EntryId(0, i);
                        break;
                    }
                    if (termAt(i) <= t) {
                        want = new EntryId(termAt(i), i);
                        break;
                    }
                }
                assertEquals(want, log.findConflictByTerm(last(), t), "findConflictByTerm(" + last() + ", " + t + ")" + where);
            }
            assertEquals(last() > handedOut, log.hasNextUnstableEntries(), "unstable entries pending" + where);
            assertEquals(pendingSnapshot != null, log.hasPendingSnapshot(), "snapshot pending" + where);
            long stable = log.lastStableIndex();
            long durable = durable();
            assertTrue(stable <= durable, "the log calls " + stable + " durable but the storage holds only "
                    + durable + where);
            if (readies.isEmpty() && !log.hasNextUnstableEntries() && log.nextUnstableSnapshot() == null) {
                assertEquals(last(), stable, "everything handed out was persisted" + where);
            }
        }
    }

    @Test
    void raftLogAgreesWithAPlainList() {
        Property.check("RaftLog = list model under append/overwrite/commit/persist/compact/restore", SCRIPTS, script -> {
            World w = new World(script.applyBytes());
            w.check("start");
            for (int i = 0; i < script.ops().size(); i++) {
                Op op = script.ops().get(i);
                w.run(op);
                w.check("op " + i + " " + op);
            }
        });
    }

    @Test
    void unstableNeverDropsOverwrittenEntriesOnAStaleAcknowledgement() {
        Gen<List<Integer>> gen = Gens.lists(Gens.ints(1, 6), 3, 3);
        Property.check("Unstable: a stale stableTo keeps overwritten entries", gen, p -> {
            int n = p.get(0);
            int cut = 1 + p.get(1) % n;
            int acked = 1 + p.get(2) % n;
            Unstable u = new Unstable(1);
            List<Entry> old = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                old.add(entry(1, i));
            }
            u.truncateAndAppend(old);
            assertEquals(old, u.nextEntries());
            long token = u.overwrites;
            u.acceptInProgress();
            // A new leader overwrites from `cut` before the Ready that held `old` is acknowledged.
            List<Entry> replacement = List.of(entry(2, cut), entry(2, cut + 1));
            u.truncateAndAppend(replacement);
            assertEquals(replacement, u.nextEntries(), "overwritten entries are handed out again");
            u.stableTo(entry(1, acked).id(), token);
            assertTrue(u.offset <= cut, "stale acknowledgement of " + acked + "@1 after overwrite at " + cut
                    + " dropped entries from " + u.offset);
            assertEquals(cut + 1, u.maybeLastIndex());
            for (long i = u.offset; i <= cut + 1; i++) {
                assertEquals(i < cut ? 1 : 2, u.maybeTerm(i), "term at " + i);
            }
            assertEquals(replacement, u.nextEntries(), "the replacement still awaits persistence");
            // The acknowledgement of the Ready that holds the replacement does count.
            long fresh = u.overwrites;
            u.acceptInProgress();
            u.stableTo(entry(2, cut + 1).id(), fresh);
            assertEquals(cut + 2, u.offset);
            assertEquals(-1, u.maybeLastIndex());
        });
    }

    /**
     * The A-B-A race, step by step: Ready 1 holds 1@1 2@1; leader 2 overwrites 2 with 2@2 (Ready
     * 2); leader 3, whose log has 2@1, writes 2@1 back. Ready 1's acknowledgement names an entry
     * that is here again, but must not mark it durable: the storage holds 2@2 once Ready 2 is
     * written, and the written-back 2@1 must still be handed out.
     */
    @Test
    void staleAcknowledgementOfAnEntryWrittenBackAfterAnOverwriteIsIgnored() {
        MemoryLogStorage storage = new MemoryLogStorage();
        RaftLog log = new RaftLog(storage, Long.MAX_VALUE);
        log.append(List.of(entry(1, 1), entry(1, 2)));
        List<Entry> ready1 = log.nextUnstableEntries();
        long token1 = log.unstableOverwrites();
        log.acceptUnstable();
        assertEquals(2, log.maybeAppend(new LogSlice(entry(1, 1).id(), List.of(entry(2, 2))), 0));
        List<Entry> ready2 = log.nextUnstableEntries();
        long token2 = log.unstableOverwrites();
        log.acceptUnstable();
        assertEquals(3, log.maybeAppend(new LogSlice(entry(1, 1).id(), List.of(entry(1, 2), entry(3, 3))), 0));

        storage.append(ready1);
        log.stableTo(entry(1, 2).id(), token1);
        assertEquals(0, log.lastStableIndex(), "a stale acknowledgement proves nothing");
        storage.append(ready2);
        log.stableTo(entry(2, 2).id(), token2);
        assertEquals(1, log.term(2), "the log still holds the written-back entry");
        assertEquals(List.of(entry(1, 2), entry(3, 3)), log.nextUnstableEntries(), "written-back entries are handed out");
        long token3 = log.unstableOverwrites();
        log.acceptUnstable();
        storage.append(List.of(entry(1, 2), entry(3, 3)));
        log.stableTo(entry(3, 3).id(), token3);
        assertEquals(3, log.lastStableIndex());
        assertEquals(List.of(entry(1, 1), entry(1, 2), entry(3, 3)), storage.entries(1, 4, Long.MAX_VALUE));
    }

    @Test
    void emptyLogConventions() {
        RaftLog log = new RaftLog(new MemoryLogStorage(), 100);
        assertEquals(0, log.lastIndex());
        assertEquals(1, log.firstIndex());
        assertEquals(EntryId.ZERO, log.lastEntryId());
        assertEquals(0, log.termOrZero(5));
        assertNull(log.nextUnstableSnapshot());
        assertEquals(SnapshotMeta.EMPTY, log.snapshot());
        assertThrows(IllegalStateException.class, () -> log.commitTo(1));
        assertThrows(IllegalArgumentException.class, () -> log.slice(2, 1, 100));
    }
}
