package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.bytes;
import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static dev.raftkit.testkit.runtime.MapStateMachine.string;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.core.ReadMode;
import dev.raftkit.testkit.runtime.GatedExecutor;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Successful client replies complete on the events executor, never on the apply thread: a
 * caller's callback (or a client endpoint building its reply in one) must not run on the state
 * machine's thread (docs/threads.md, the apply row).
 */
class ReplyThreadTest {

    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void resultsSessionRepliesAndReadAnswersCompleteOffTheApplyThread() throws Exception {
        try (GatedExecutor apply = new GatedExecutor("gated-apply")) {
            cluster = new RuntimeCluster(Set.of(1L), b -> b.applyExecutor(apply)).startAll();
            RaftServer server = cluster.awaitLeader();
            long client = server.openSession().get(RuntimeCluster.TIMEOUT.toSeconds(), TimeUnit.SECONDS);

            // Held, the apply thread cannot complete anything before every callback is attached,
            // so each callback runs on whichever thread completes its future.
            apply.hold();
            Map<String, String> threads = new ConcurrentHashMap<>();
            List<CompletableFuture<?>> all = new ArrayList<>();
            all.add(watch(threads, "command", server.submit(put("a", "1"))));
            all.add(watch(threads, "session command", server.submit(client, 1, put("b", "2"))));
            all.add(watch(threads, "duplicate in the batch", server.submit(client, 1, put("b", "2"))));
            all.add(watch(threads, "open session", server.openSession()));
            all.add(watch(threads, "stale read", server.read(bytes("z"), ReadMode.STALE)));
            all.add(watch(threads, "linearizable read", server.read(bytes("a"), ReadMode.LINEARIZABLE, 0)));
            apply.open();
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                    .get(RuntimeCluster.TIMEOUT.toSeconds(), TimeUnit.SECONDS);

            assertEquals(6, threads.size(), threads.toString());
            threads.forEach((what, thread) -> assertEquals("raft-events-1", thread, what + " completed on " + thread));
            assertEquals("1", string(server.read(bytes("a"), ReadMode.STALE)
                    .get(RuntimeCluster.TIMEOUT.toSeconds(), TimeUnit.SECONDS)));
            // Stop the server while its apply executor still runs, so shutdown drains at once.
            cluster.close();
            cluster = null;
        }
    }

    private static <T> CompletableFuture<T> watch(Map<String, String> threads, String what, CompletableFuture<T> f) {
        return f.whenComplete((v, e) -> threads.put(what, Thread.currentThread().getName()));
    }
}
