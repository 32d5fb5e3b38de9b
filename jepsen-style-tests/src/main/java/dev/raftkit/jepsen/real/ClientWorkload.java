package dev.raftkit.jepsen.real;

import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.HistoryRecorder;
import dev.raftkit.jepsen.history.Response;
import dev.raftkit.kv.KvCommand;
import dev.raftkit.kv.KvEntry;
import dev.raftkit.kv.KvOps;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Client threads over groups of keys: writes of unique values (40%), reads (40%) and CAS (20%),
 * each recorded with real timestamps. A write or CAS that does not answer is indeterminate, and
 * its client "crashes" (Jepsen's convention): it takes a new process number and a new session, so
 * no process ever has two operations open. A read that does not answer simply failed: reads have
 * no effect.
 */
final class ClientWorkload {

    /** Process number of the final reads after healing. */
    static final int FINAL_PROCESS = 1_000_000;

    private final Cluster cluster;
    private final JepsenOptions o;
    private final HistoryRecorder recorder;
    private final List<Thread> threads = new ArrayList<>();
    private final List<KeyGroup> groups = new ArrayList<>();
    private final long seed;

    ClientWorkload(Cluster cluster, JepsenOptions o, HistoryRecorder recorder) {
        this.cluster = cluster;
        this.o = o;
        this.recorder = recorder;
        this.seed = o.seed();
        int nGroups = (o.clients() + o.clientsPerGroup() - 1) / o.clientsPerGroup();
        for (int g = 0; g < nGroups; g++) {
            groups.add(new KeyGroup("g" + g, o.activeKeys(), o.opsPerKey()));
        }
    }

    void start(long deadlineNanos) {
        for (int c = 0; c < o.clients(); c++) {
            int client = c;
            Thread t = new Thread(() -> runClient(client, deadlineNanos), "jepsen-client-" + c);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** Waits (bounded) for every client to finish its last operation. */
    void awaitEnd() throws InterruptedException {
        long bound = o.opTimeout().toMillis() + 10_000;
        for (Thread t : threads) {
            t.join(bound);
            if (t.isAlive()) {
                throw new IllegalStateException(t.getName() + " did not finish within " + bound
                        + " ms of the end of the run; its operation is stuck beyond the client timeout");
            }
        }
    }

    /** Every key any client touched, in order of first use. */
    Set<String> keys() {
        Set<String> all = new LinkedHashSet<>();
        for (KeyGroup g : groups) {
            all.addAll(g.used());
        }
        return all;
    }

    private RaftClient newClient() {
        RaftClient.Builder b = RaftClient.builder(cluster.clusterId()).timeout(o.opTimeout())
                .attemptTimeout(o.opTimeout().compareTo(java.time.Duration.ofSeconds(1)) < 0 ? o.opTimeout()
                        : java.time.Duration.ofSeconds(1));
        cluster.clientAddresses().forEach(b::node);
        return b.build();
    }

    private void runClient(int client, long deadlineNanos) {
        Random rnd = new Random(seed * 1_000_003L + client);
        KeyGroup group = groups.get(client / o.clientsPerGroup());
        Map<String, String> lastSeen = new HashMap<>();
        int process = client;
        int counter = 0;
        RaftClient rc = newClient();
        try {
            while (System.nanoTime() < deadlineNanos) {
                String key = group.pick(rnd);
                int dice = rnd.nextInt(100);
                String value = "c" + client + "-" + (counter++);
                boolean crashed;
                if (dice < 40) {
                    crashed = write(rc, process, key, value, lastSeen);
                } else if (dice < 80) {
                    read(rc, process, key, rnd, lastSeen);
                    crashed = false;
                } else {
                    crashed = cas(rc, process, key, lastSeen.get(key), value, lastSeen);
                }
                if (crashed) {
                    rc.close();
                    rc = newClient();
                    process += o.clients();
                }
            }
        } finally {
            rc.close();
        }
    }

    private boolean write(RaftClient rc, int process, String key, String value, Map<String, String> lastSeen) {
        long id = recorder.invoke(process, Command.write(key, value));
        try {
            KvOps.written(await(rc.submitAsync(KvOps.put(key, value))));
            recorder.ok(id, Response.written());
            lastSeen.put(key, value);
            return false;
        } catch (RuntimeException e) {
            recorder.info(id);
            return true;
        }
    }

    private boolean cas(RaftClient rc, int process, String key, String expected, String value,
                        Map<String, String> lastSeen) {
        long id = recorder.invoke(process, Command.cas(key, expected, value));
        byte[] op = expected == null ? KvOps.casVersion(key, KvCommand.ABSENT, value) : KvOps.casValue(key, expected, value);
        try {
            boolean swapped = KvOps.casWritten(await(rc.submitAsync(op))).isPresent();
            recorder.ok(id, Response.cas(swapped));
            if (swapped) {
                lastSeen.put(key, value);
            }
            return false;
        } catch (RuntimeException e) {
            recorder.info(id);
            return true;
        }
    }

    private void read(RaftClient rc, int process, String key, Random rnd, Map<String, String> lastSeen) {
        long id = recorder.invoke(process, Command.read(key));
        try {
            ReadMode mode = o.reads().get(rnd.nextInt(o.reads().size()));
            CompletableFuture<byte[]> f;
            if (mode == ReadMode.STALE) {
                // Unsafe on purpose: whatever a random node has applied, no minimum index.
                List<Long> ids = cluster.ids();
                long node = ids.get(rnd.nextInt(ids.size()));
                f = cluster.pinnedClient(node).readAsync(KvOps.get(key), ReadMode.STALE, 0);
            } else {
                f = rc.readAsync(KvOps.get(key), mode, 0);
            }
            String v = decode(await(f));
            recorder.ok(id, Response.read(v));
            lastSeen.put(key, v);
        } catch (RuntimeException e) {
            recorder.fail(id);
        }
    }

    static String decode(byte[] result) {
        return KvOps.found(result).map(KvEntry::value).map(b -> new String(b, StandardCharsets.UTF_8)).orElse(null);
    }

    private byte[] await(CompletableFuture<byte[]> f) {
        return await(f, o);
    }

    /** The answer of a client call, waiting a little past the client's own time-out (the options'). */
    static byte[] await(CompletableFuture<byte[]> f, JepsenOptions o) {
        try {
            // The client times itself out; this bound only guards against a call left pending.
            return f.get(o.opTimeout().toMillis() + 2000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
