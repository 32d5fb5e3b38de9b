package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Gens.Weighted;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.util.ArrayDeque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Flow control against a plain deque, and the progress state machine's invariants (§3.5). */
class TrackerPropertiesTest {

    sealed interface InflightOp permits Add, FreeLE, Reset {
    }

    record Add(int size) implements InflightOp {
    }

    record FreeLE(int back) implements InflightOp {
    }

    record Reset() implements InflightOp {
    }

    record InflightScript(int capacity, long maxBytes, List<InflightOp> ops) {
    }

    static final Gen<InflightScript> INFLIGHT_SCRIPTS = source -> new InflightScript(
            source.nextInt(1, 9),
            Gens.oneOf(0L, 50L, 100L, 300L).generate(source),
            Gens.lists(Gens.frequency(List.<Weighted<InflightOp>>of(
                    new Weighted<>(6, Gens.ints(0, 60).map(Add::new)),
                    new Weighted<>(3, Gens.ints(0, 5).map(FreeLE::new)),
                    new Weighted<>(1, Gens.constant(new Reset())))), 0, 80).generate(source));

    record Sent(long index, long size) {
    }

    @Test
    void inflightsAgreeWithADeque() {
        Property.check("Inflights = deque model (count and bytes)", INFLIGHT_SCRIPTS, s -> {
            Inflights in = new Inflights(s.capacity(), s.maxBytes());
            ArrayDeque<Sent> model = new ArrayDeque<>();
            long nextIndex = 1;
            for (InflightOp op : s.ops()) {
                long bytes = model.stream().mapToLong(Sent::size).sum();
                boolean full = model.size() == s.capacity() || (s.maxBytes() > 0 && bytes >= s.maxBytes());
                if (op instanceof Add a) {
                    long index = nextIndex++;
                    if (full) {
                        assertThrows(IllegalStateException.class, () -> in.add(index, a.size()), "add when full");
                    } else {
                        in.add(index, a.size());
                        model.addLast(new Sent(index, a.size()));
                    }
                } else if (op instanceof FreeLE f) {
                    long upTo = nextIndex - 1 - f.back();
                    in.freeLE(upTo);
                    while (!model.isEmpty() && model.peekFirst().index() <= upTo) {
                        model.pollFirst();
                    }
                } else {
                    in.reset();
                    model.clear();
                }
                long after = model.stream().mapToLong(Sent::size).sum();
                assertEquals(model.size(), in.count(), "count after " + op);
                assertEquals(after, in.bytes(), "bytes after " + op);
                assertEquals(model.size() == s.capacity() || (s.maxBytes() > 0 && after >= s.maxBytes()), in.full(),
                        "full after " + op + " with " + model);
            }
        });
    }

    @Test
    void inflightsRejectANonPositiveCapacity() {
        assertThrows(IllegalArgumentException.class, () -> new Inflights(0, 0));
    }

    // ---------------------------------------------------------------------------------------

    sealed interface ProgressOp permits Probe, Replicate, Snapshot, Update, Decr, SendEntries, SnapshotDone, Free, HeartbeatAck {
    }

    record Probe() implements ProgressOp {
    }

    record Replicate() implements ProgressOp {
    }

    record Snapshot(int index) implements ProgressOp {
    }

    record Update(int index) implements ProgressOp {
    }

    /** A rejection of an append whose prev was {@code next - 1 - back}, with the follower's hint. */
    record Decr(int back, int hint) implements ProgressOp {
    }

    record SendEntries(int entries, int bytes) implements ProgressOp {
    }

    record SnapshotDone(boolean ok) implements ProgressOp {
    }

    record Free(int index) implements ProgressOp {
    }

    record HeartbeatAck() implements ProgressOp {
    }

    static final Gen<ProgressOp> PROGRESS_OPS = Gens.frequency(List.<Weighted<ProgressOp>>of(
            new Weighted<>(1, Gens.constant(new Probe())),
            new Weighted<>(2, Gens.constant(new Replicate())),
            new Weighted<>(1, Gens.ints(0, 30).map(Snapshot::new)),
            new Weighted<>(4, Gens.ints(0, 30).map(Update::new)),
            new Weighted<>(3, source -> new Decr(source.nextInt(0, 2), source.nextInt(0, 30))),
            new Weighted<>(3, source -> new SendEntries(source.nextInt(0, 4), source.nextInt(0, 100))),
            new Weighted<>(1, Gens.booleans().map(SnapshotDone::new)),
            new Weighted<>(2, Gens.ints(0, 30).map(Free::new)),
            new Weighted<>(1, Gens.constant(new HeartbeatAck()))));

    record ProgressScript(int match, int gap, List<ProgressOp> ops) {
    }

    static final Gen<ProgressScript> PROGRESS_SCRIPTS = source -> new ProgressScript(
            source.nextInt(0, 10), source.nextInt(1, 3), Gens.lists(PROGRESS_OPS, 0, 60).generate(source));

    @Test
    void progressTransitionsKeepMatchBelowNextAndNeverMoveMatchBackwards() {
        Property.check("Progress: match < next, match monotone, transitions as documented", PROGRESS_SCRIPTS, s -> {
            Progress pr = new Progress(s.match(), s.match() + s.gap(), 4, 200, false);
            for (ProgressOp op : s.ops()) {
                long match = pr.match();
                long next = pr.next();
                Progress.State state = pr.state();
                long pending = pr.pendingSnapshot();
                String where = " after " + op + " from " + state + " match=" + match + " next=" + next;
                if (op instanceof Probe) {
                    pr.becomeProbe();
                    assertEquals(Progress.State.PROBE, pr.state());
                    assertEquals(state == Progress.State.SNAPSHOT ? Math.max(match + 1, pending + 1) : match + 1,
                            pr.next(), "next" + where);
                    assertEquals(0, pr.inflights().count());
                    assertTrue(!pr.isPaused(), "a fresh probe may send" + where);
                } else if (op instanceof Replicate) {
                    pr.becomeReplicate();
                    assertEquals(Progress.State.REPLICATE, pr.state());
                    assertEquals(match + 1, pr.next(), "next" + where);
                    assertTrue(!pr.isPaused(), "replicate starts unpaused" + where);
                } else if (op instanceof Snapshot sn) {
                    pr.becomeSnapshot(sn.index());
                    assertEquals(Progress.State.SNAPSHOT, pr.state());
                    assertEquals(sn.index(), pr.pendingSnapshot());
                    assertTrue(pr.isPaused(), "nothing is sent while a snapshot is in flight" + where);
                } else if (op instanceof Update u) {
                    boolean moved = pr.maybeUpdate(u.index());
                    assertEquals(u.index() > match, moved, "maybeUpdate result" + where);
                    assertEquals(Math.max(match, u.index()), pr.match(), "match" + where);
                    assertEquals(Math.max(next, u.index() + 1), pr.next(), "next" + where);
                } else if (op instanceof Decr d) {
                    long rejected = next - 1 - d.back();
                    if (rejected < 0) {
                        continue;
                    }
                    boolean applied = pr.maybeDecrTo(rejected, d.hint());
                    if (state == Progress.State.REPLICATE) {
                        assertEquals(rejected > match, applied, "stale rejection" + where);
                        assertEquals(applied ? match + 1 : next, pr.next(), "next" + where);
                    } else {
                        // A rejection of the probe at the match itself is stale (or from a follower
                        // that lost entries unknowingly): it waits for the heartbeat, not a re-probe.
                        assertEquals(rejected == next - 1 && rejected != match, applied, "stale rejection" + where);
                        assertEquals(applied ? Math.max(Math.min(rejected, d.hint() + 1), match + 1) : next, pr.next(),
                                "next" + where);
                        if (applied) {
                            assertTrue(!pr.isPaused() || state == Progress.State.SNAPSHOT, "probe resumes" + where);
                        }
                    }
                } else if (op instanceof SendEntries e) {
                    if (state == Progress.State.SNAPSHOT) {
                        assertThrows(IllegalStateException.class, () -> pr.sentEntries(e.entries(), e.bytes()));
                        continue;
                    }
                    if (state == Progress.State.REPLICATE && pr.inflights().full()) {
                        continue; // the leader does not send to a full pipeline
                    }
                    int before = pr.inflights().count();
                    pr.sentEntries(e.entries(), e.bytes());
                    if (state == Progress.State.REPLICATE) {
                        assertEquals(next + e.entries(), pr.next(), "optimistic next" + where);
                        assertEquals(before + (e.entries() > 0 ? 1 : 0), pr.inflights().count());
                        assertEquals(pr.inflights().full(), pr.isPaused(), "paused iff pipeline full" + where);
                    } else {
                        assertEquals(next, pr.next(), "a probe waits for the answer" + where);
                        if (e.entries() > 0) {
                            assertTrue(pr.isPaused(), "one probe at a time" + where);
                        }
                    }
                } else if (op instanceof SnapshotDone done) {
                    pr.snapshotFinished(done.ok());
                    assertEquals(Progress.State.PROBE, pr.state());
                    long resumeAfter = state == Progress.State.SNAPSHOT && done.ok() ? pending : 0;
                    assertEquals(Math.max(match + 1, resumeAfter + 1), pr.next(), "next" + where);
                    assertTrue(pr.isPaused(), "waits for a heartbeat answer before probing" + where);
                } else if (op instanceof Free f) {
                    pr.freeInflightsUpTo(f.index());
                    if (state != Progress.State.SNAPSHOT) {
                        assertEquals(pr.inflights().full(), pr.isPaused(), "paused iff pipeline full" + where);
                    }
                } else if (op instanceof HeartbeatAck) {
                    pr.heartbeatAcknowledged(3);
                    assertTrue(pr.recentActive());
                    // A live follower may be sent to again: only a snapshot in flight holds appends
                    // back. A full window lets one empty append through (mustSendEmpty), since the
                    // appends that filled it may all have been lost.
                    assertEquals(state == Progress.State.SNAPSHOT, pr.isPaused(), "paused" + where);
                    assertEquals(state == Progress.State.REPLICATE && pr.inflights().full(), pr.mustSendEmpty(),
                            "empty append iff replicating with a full window" + where);
                }
                assertTrue(pr.match() < pr.next(), "match < next" + where + ": " + pr);
                assertTrue(pr.match() >= match, "match moved backwards" + where + ": " + pr);
            }
        });
    }
}
