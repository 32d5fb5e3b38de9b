package dev.raftkit.testkit.runtime;

import static org.awaitility.Awaitility.await;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftException;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.MemoryLogStorage;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.RaftServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Real {@link RaftServer}s over a {@link LocalNetwork}, each with a {@link MemoryLogStorage} and a
 * {@link MemorySnapshotStore} that outlive the server, so a node can be stopped and started again
 * on the same "disk". Ticks are real (20 ms), elections take 200–400 ms.
 */
public final class RuntimeCluster implements AutoCloseable {

    public static final Duration TIMEOUT = Duration.ofSeconds(20);

    public final LocalNetwork net = new LocalNetwork();
    private final Set<Long> founders;
    private final BiConsumer<Long, RaftServerBuilder> customize;
    private final Map<Long, MemoryLogStorage> logs = new TreeMap<>();
    private final Map<Long, MemorySnapshotStore> snapshots = new TreeMap<>();
    private final Map<Long, MapStateMachine> machines = new TreeMap<>();
    private final Map<Long, RaftServer> servers = new TreeMap<>();
    private final Map<Long, Integer> lives = new TreeMap<>();

    public RuntimeCluster(Set<Long> founders, Consumer<RaftServerBuilder> customize) {
        this(founders, (id, b) -> customize.accept(b));
    }

    /** {@code customize} gets each node's id and builder before it starts. */
    public RuntimeCluster(Set<Long> founders, BiConsumer<Long, RaftServerBuilder> customize) {
        this.founders = Set.copyOf(founders);
        this.customize = customize;
    }

    /** Starts every founder. */
    public RuntimeCluster startAll() {
        founders.stream().sorted().forEach(this::start);
        return this;
    }

    /** Starts node {@code id} on its storage (created empty on first start) with a fresh state machine. */
    public synchronized RaftServer start(long id) {
        return start(id, founders.contains(id));
    }

    /**
     * Stops node {@code id} if it runs, empties its storage (log, hard state and snapshots: a wiped
     * data directory) and starts it again under the same id without founding a cluster.
     */
    public synchronized RaftServer restartWiped(long id) {
        stop(id);
        logs.remove(id);
        snapshots.remove(id);
        return start(id, false);
    }

    private RaftServer start(long id, boolean bootstrap) {
        int life = lives.merge(id, 1, Integer::sum);
        RaftConfig config = RaftConfig.builder(id).electionTicks(10).heartbeatTicks(2)
                .randomSeed(id * 7919 + life * 104_729L).build();
        MapStateMachine sm = new MapStateMachine();
        RaftServerBuilder b = RaftServer.builder(config)
                .logStorage(logs.computeIfAbsent(id, k -> new MemoryLogStorage()))
                .snapshotStore(snapshots.computeIfAbsent(id, k -> new MemorySnapshotStore()))
                .stateMachine(sm)
                .transport(net.transport(id))
                .tickMillis(20);
        if (bootstrap) {
            b.bootstrap(founders);
        }
        customize.accept(id, b);
        try {
            RaftServer s = b.start();
            machines.put(id, sm);
            servers.put(id, s);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Gracefully stops node {@code id}; its storage stays for a restart. */
    public synchronized void stop(long id) {
        RaftServer s = servers.remove(id);
        if (s != null) {
            s.close();
        }
    }

    public synchronized RaftServer server(long id) {
        return servers.get(id);
    }

    public synchronized MapStateMachine machine(long id) {
        return machines.get(id);
    }

    public synchronized MemoryLogStorage log(long id) {
        return logs.get(id);
    }

    /** Node {@code id}'s snapshot store. */
    public synchronized MemorySnapshotStore snapshots(long id) {
        return snapshots.get(id);
    }

    public synchronized List<RaftServer> running() {
        return new ArrayList<>(servers.values());
    }

    /** Waits for a running server that leads, and returns it. */
    public RaftServer awaitLeader() {
        RaftServer[] found = new RaftServer[1];
        await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(5)).until(() -> {
            for (RaftServer s : running()) {
                if (s.status().isLeader()) {
                    found[0] = s;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    /** Opens a session at the current leader, retrying through elections. */
    public ClientSession openSession() {
        return retry(leader -> leader.newSession());
    }

    /** Submits a command exactly once: retries through elections with the same sequence number. */
    public byte[] submit(ClientSession session, byte[] command) {
        long seq = session.nextSequence();
        return retry(leader -> session.submit(leader, seq, command));
    }

    /** Runs {@code call} at the leader until it succeeds or fails for a reason that is not retryable. */
    public <T> T retry(java.util.function.Function<RaftServer, CompletableFuture<T>> call) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        Throwable last = null;
        while (System.nanoTime() < deadline) {
            RaftServer leader = awaitLeader();
            try {
                return call.apply(leader).get(5, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                last = e.getCause();
                if (!retryable(last)) {
                    throw new AssertionError("request failed for good: " + last, last);
                }
            } catch (TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("request did not succeed within " + TIMEOUT, last);
    }

    public static boolean retryable(Throwable t) {
        return t instanceof RaftException r && r.retryable();
    }

    /** Waits until the given nodes applied the same commands (same count and digest). */
    public void awaitSameState(Set<Long> ids, long minCount) {
        await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(10)).until(() -> {
            long digest = 0;
            long count = -1;
            for (long id : ids) {
                MapStateMachine m = machine(id);
                if (m == null || m.appliedCount() < minCount) {
                    return false;
                }
                if (count < 0) {
                    count = m.appliedCount();
                    digest = m.digest();
                } else if (count != m.appliedCount() || digest != m.digest()) {
                    return false;
                }
            }
            return true;
        });
    }

    @Override
    public synchronized void close() {
        new ArrayList<>(servers.keySet()).forEach(this::stop);
        net.close();
    }
}
