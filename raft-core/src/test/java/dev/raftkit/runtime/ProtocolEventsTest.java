package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.Role;
import dev.raftkit.testkit.runtime.HangingLog;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RaftListener#onProtocolEvent}: a live server's listeners get the core's trace events in
 * order, on the events thread, interleaved in order with the other callbacks; a listener that
 * stops consuming costs dropped (counted) events, never the raft loop's progress.
 */
class ProtocolEventsTest {

    /** Records protocol events and role-change callbacks in one list, in the order delivered. */
    private static final class Recorder implements RaftListener {
        final List<Object> seen = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();

        @Override
        public void onProtocolEvent(ProtocolEvent e) {
            threads.add(Thread.currentThread().getName());
            seen.add(e);
        }

        @Override
        public void onRoleChange(Role role, long term, long leader) {
            seen.add("onRoleChange " + role + " " + term);
        }

        List<ProtocolEvent> events() {
            List<ProtocolEvent> out = new ArrayList<>();
            for (Object o : seen) {
                if (o instanceof ProtocolEvent e) {
                    out.add(e);
                }
            }
            return out;
        }
    }

    private final Map<Long, Recorder> recorders = new ConcurrentHashMap<>();
    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void listenersGetTheVotesAndRoleChangesOfAnElectionInOrder() {
        long before = System.currentTimeMillis();
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L),
                (id, b) -> b.listener(recorders.computeIfAbsent(id, k -> new Recorder()))).startAll();
        RaftServer leader = cluster.awaitLeader();
        long id = leader.id();
        long term = leader.status().term();
        Recorder mine = recorders.get(id);
        String leading = "leader in term " + term;
        await().atMost(Duration.ofSeconds(10)).until(() -> mine.seen.contains("onRoleChange LEADER " + term));

        List<ProtocolEvent> events = mine.events();
        int candidate = indexOf(events, "role", "candidate in term " + term);
        int led = indexOf(events, "role", leading);
        assertTrue(candidate >= 0 && led > candidate, "candidate, then leader, in " + events);
        ProtocolEvent e = events.get(led);
        assertEquals(id, e.node());
        assertEquals(term, e.term(), "the term the core was in when it became leader");
        assertTrue(e.timeMillis() >= before && e.timeMillis() <= System.currentTimeMillis(), "wall-clock time: " + e);
        // The core's event comes before the callback the loop publishes after the same step.
        assertTrue(mine.seen.indexOf(e) < mine.seen.indexOf("onRoleChange LEADER " + term), mine.seen.toString());
        assertTrue(mine.threads.stream().allMatch(t -> t.equals("raft-events-" + id)), mine.threads.toString());

        // A voter that elected it says so: vote granted to the leader for its term, before it follows it.
        String granted = "vote to " + id + " for term " + term;
        await().atMost(Duration.ofSeconds(10)).until(() -> recorders.entrySet().stream()
                .filter(r -> r.getKey() != id).anyMatch(r -> indexOf(r.getValue().events(), "vote-granted", granted) >= 0));
        for (Map.Entry<Long, Recorder> r : recorders.entrySet()) {
            List<ProtocolEvent> theirs = r.getValue().events();
            int vote = indexOf(theirs, "vote-granted", granted);
            if (r.getKey() != id && vote >= 0) {
                // Stamped with the term it moved to for the candidate; a pre-vote (PreVote is on)
                // came first, granted in the term before, since a pre-vote changes no term.
                assertEquals(term, theirs.get(vote).term(), theirs.toString());
                int preVote = indexOf(theirs, "vote-granted", "pre-vote to " + id + " for term " + term);
                if (preVote >= 0) {
                    assertTrue(preVote < vote, theirs.toString());
                    assertEquals(term - 1, theirs.get(preVote).term(), theirs.toString());
                }
            }
        }
    }

    @Test
    void aListenerThatStopsConsumingCostsCountedEventsNeverTheLoop() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<ProtocolEvent> delivered = new CopyOnWriteArrayList<>();
        RaftListener stuck = new RaftListener() {
            @Override
            public void onProtocolEvent(ProtocolEvent e) {
                try {
                    release.await(30, TimeUnit.SECONDS); // a listener that hangs (bounded, so a failing test ends)
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                }
                delivered.add(e);
            }
        };
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), (id, b) -> {
            if (id == 1) {
                b.listener(stuck).maxPendingProtocolEvents(4);
            }
        }).startAll();
        try {
            RaftServer one = cluster.server(1);
            // Leadership moves to node 1 and away, again and again: every move is events on node 1,
            // while its listener holds the events thread (and with it node 1's future completions,
            // which is why nothing here waits on one of node 1's futures). Its loop goes on regardless.
            for (int i = 0; i < 4; i++) {
                RaftServer leader = cluster.awaitLeader();
                long target = leader.id() == 1 ? 2 : 1;
                leader.transferLeadership(target);
                await().atMost(Duration.ofSeconds(10)).until(() -> cluster.server(target).status().isLeader()
                        && one.status().leader() == target);
            }
            RaftServer other = cluster.awaitLeader().id() == 1 ? cluster.server(2) : cluster.awaitLeader();
            if (other.status().isLeader()) {
                other.submit(put("k", "v")).get(10, TimeUnit.SECONDS);
                long committed = other.status().commit();
                await().atMost(Duration.ofSeconds(10)).until(() -> one.status().commit() >= committed);
            }
            assertTrue(one.protocolEventsDropped() > 0, "events beyond the bound of 4 are dropped");
            assertTrue(delivered.isEmpty(), "nothing delivered while the listener hangs");
        } finally {
            release.countDown();
        }
        RaftServer one = cluster.server(1);
        long dropped = one.protocolEventsDropped();
        // The next event after the drain carries the gap marker first.
        RaftServer now = cluster.awaitLeader();
        long next = now.id() == 3 ? 2 : 3;
        now.transferLeadership(next);
        await().atMost(Duration.ofSeconds(10)).until(() -> delivered.stream().anyMatch(e -> e.kind().equals(ProtocolEvent.GAP)));
        long counted = 0;
        Pattern lost = Pattern.compile("(\\d+) events dropped: .*");
        for (ProtocolEvent e : delivered) {
            if (e.kind().equals(ProtocolEvent.GAP)) {
                Matcher m = lost.matcher(e.detail());
                assertTrue(m.matches(), e.detail());
                counted += Long.parseLong(m.group(1));
            }
        }
        assertEquals(one.protocolEventsDropped(), counted, "every dropped event is counted by a gap marker");
        assertTrue(counted >= dropped);
        assertFalse(delivered.get(0).kind().equals(ProtocolEvent.GAP), "the events that fitted came first");
    }

    @Test
    void theRuntimesOwnEventsReachListenersToo() throws Exception {
        Map<Long, HangingLog> logs = new ConcurrentHashMap<>();
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), (id, b) -> b.diskStallTicks(10)
                .logStorage(logs.computeIfAbsent(id, k -> new HangingLog()))
                .listener(recorders.computeIfAbsent(id, k -> new Recorder()))).startAll();
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("a", "1"));
        RaftServer stalled = cluster.awaitLeader();
        CountDownLatch release = new CountDownLatch(1);
        logs.get(stalled.id()).hang = release;
        try {
            stalled.submit(put("b", "2")); // reaches the writer and waits there with its fsync
            Recorder mine = recorders.get(stalled.id());
            await().atMost(Duration.ofSeconds(10)).until(() -> mine.events().stream()
                    .anyMatch(e -> e.kind().equals("disk-stalled")));
            List<ProtocolEvent> events = mine.events();
            int stall = -1;
            int down = -1;
            for (int i = 0; i < events.size(); i++) {
                if (events.get(i).kind().equals("stepped-down") && down < 0) {
                    down = i;
                }
                if (events.get(i).kind().equals("disk-stalled") && stall < 0) {
                    stall = i;
                }
            }
            assertTrue(down >= 0 && stall >= 0, events.toString());
            assertEquals(stalled.id(), events.get(stall).node());
            assertTrue(events.get(stall).detail().contains("ticks"), events.get(stall).detail());
        } finally {
            release.countDown();
            logs.get(stalled.id()).hang = null;
        }
        Recorder mine = recorders.get(stalled.id());
        await().atMost(Duration.ofSeconds(10)).until(() -> mine.events().stream()
                .anyMatch(e -> e.kind().equals("disk-recovered")));
    }

    @Test
    void aServerWithoutSuchListenersPublishesNothing() {
        cluster = new RuntimeCluster(Set.of(1L), b -> b.listener(new RaftListener() {
        })).startAll();
        cluster.awaitLeader();
        assertEquals(0, cluster.server(1).protocolEventsDropped());
        assertFalse(new RaftListener() {
        }.wantsProtocolEvents());
        assertTrue(new Recorder().wantsProtocolEvents());
    }

    private static int indexOf(List<ProtocolEvent> events, String kind, String detail) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).kind().equals(kind) && events.get(i).detail().equals(detail)) {
                return i;
            }
        }
        return -1;
    }
}
