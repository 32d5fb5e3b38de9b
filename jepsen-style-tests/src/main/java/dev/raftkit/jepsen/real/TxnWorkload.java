package dev.raftkit.jepsen.real;

import dev.raftkit.grpc.RaftClient;
import dev.raftkit.jepsen.txn.Mop;
import dev.raftkit.jepsen.txn.SqlListAppend;
import dev.raftkit.jepsen.txn.TxnRecorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@code --sm sql} client workload: Elle's list-append transactions on the SQL state machine.
 * Each client thread runs transactions of 1 to {@value #MAX_MOPS} micro-operations, appends of
 * run-unique values and reads, over the keys of its group, each transaction ONE SQL write built by
 * {@link SqlListAppend} and submitted through a {@link RaftClient} (whose session makes its
 * retries exactly-once), recorded in a {@link TxnRecorder} with real timestamps.
 *
 * <p>Outcomes, as Elle takes them: an {@link dev.raftkit.sql.SqlResult.Ok} answer commits the
 * transaction with what its reads saw; an {@link dev.raftkit.sql.SqlResult.Error} answer means the
 * state machine rolled all of it back, a definite failure; no answer at all (a timeout, a lost
 * connection) is indeterminate (:info), as it may still commit, and its client "crashes" as in
 * {@link ClientWorkload}: a new process number and a new client, so no process ever has two
 * transactions open and process order never follows an indeterminate one.
 *
 * <p>Keys rotate as {@link ClientWorkload}'s do (a few active per group, each retired after
 * {@link JepsenOptions#opsPerKey()} uses), which keeps every list, and so the checker's work, small.
 */
final class TxnWorkload {

    /** Micro-operations per transaction, at most. */
    static final int MAX_MOPS = 4;

    /** Process number of the final reads after healing. */
    static final int FINAL_PROCESS = ClientWorkload.FINAL_PROCESS;

    /** Keys per final read transaction: several per entry, so the final reads stay few. */
    private static final int FINAL_KEYS_PER_TXN = 16;

    private final Cluster cluster;
    private final JepsenOptions o;
    private final TxnRecorder recorder;
    private final List<Thread> threads = new ArrayList<>();
    private final List<KeyGroup> groups = new ArrayList<>();
    /** Appended values are unique across the run, as the checker requires per key. */
    private final AtomicLong nextValue = new AtomicLong();
    /** The first answer that was not of the shape its request asks for, or null. */
    private final AtomicReference<String> malformed = new AtomicReference<>();

    TxnWorkload(Cluster cluster, JepsenOptions o, TxnRecorder recorder) {
        this.cluster = cluster;
        this.o = o;
        this.recorder = recorder;
        int nGroups = (o.clients() + o.clientsPerGroup() - 1) / o.clientsPerGroup();
        for (int g = 0; g < nGroups; g++) {
            groups.add(new KeyGroup("t" + g, o.activeKeys(), o.opsPerKey()));
        }
    }

    void start(long deadlineNanos) {
        for (int c = 0; c < o.clients(); c++) {
            int client = c;
            Thread t = new Thread(() -> runClient(client, deadlineNanos), "jepsen-txn-client-" + c);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** Waits (bounded) for every client to finish its last transaction. */
    void awaitEnd() throws InterruptedException {
        long bound = o.opTimeout().toMillis() + 10_000;
        for (Thread t : threads) {
            t.join(bound);
            if (t.isAlive()) {
                throw new IllegalStateException(t.getName() + " did not finish within " + bound
                        + " ms of the end of the run; its transaction is stuck beyond the client timeout");
            }
        }
    }

    /** The first malformed answer a client got (a broken state machine), or null if none. */
    String malformedAnswer() {
        return malformed.get();
    }

    /** Every key any client touched, in order of first use. */
    Set<String> keys() {
        Set<String> all = new LinkedHashSet<>();
        for (KeyGroup g : groups) {
            all.addAll(g.used());
        }
        return all;
    }

    /**
     * After healing: reads every key, {@value #FINAL_KEYS_PER_TXN} to a transaction, through the
     * log, recorded as process {@link #FINAL_PROCESS}; an append acknowledged but missing from
     * these reads is then a lost write the checker names.
     *
     * @return how many final read transactions did not commit (their keys went unverified)
     */
    int finalReads() {
        RaftClient.Builder b = RaftClient.builder(cluster.clusterId()).timeout(Duration.ofSeconds(10));
        cluster.clientAddresses().forEach(b::node);
        List<String> keys = new ArrayList<>(keys());
        int failed = 0;
        try (RaftClient rc = b.build()) {
            for (int i = 0; i < keys.size(); i += FINAL_KEYS_PER_TXN) {
                List<Mop> mops = new ArrayList<>();
                for (String k : keys.subList(i, Math.min(keys.size(), i + FINAL_KEYS_PER_TXN))) {
                    mops.add(new Mop.Read(k, null));
                }
                if (!transact(rc, FINAL_PROCESS, mops)) {
                    failed++;
                }
            }
        }
        return failed;
    }

    private RaftClient newClient() {
        RaftClient.Builder b = RaftClient.builder(cluster.clusterId()).timeout(o.opTimeout())
                .attemptTimeout(o.opTimeout().compareTo(Duration.ofSeconds(1)) < 0 ? o.opTimeout() : Duration.ofSeconds(1));
        cluster.clientAddresses().forEach(b::node);
        return b.build();
    }

    private void runClient(int client, long deadlineNanos) {
        Random rnd = new Random(o.seed() * 1_000_003L + client);
        KeyGroup group = groups.get(client / o.clientsPerGroup());
        int process = client;
        RaftClient rc = newClient();
        try {
            while (System.nanoTime() < deadlineNanos) {
                int n = 1 + rnd.nextInt(MAX_MOPS);
                List<Mop> mops = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    String key = group.pick(rnd);
                    mops.add(rnd.nextBoolean() ? new Mop.Append(key, nextValue.incrementAndGet()) : new Mop.Read(key, null));
                }
                if (!transact(rc, process, mops)) {
                    rc.close();
                    rc = newClient();
                    process += o.clients();
                }
            }
        } finally {
            rc.close();
        }
    }

    /**
     * Runs one transaction and records its outcome.
     *
     * @return false if it is indeterminate (the caller's client then crashes)
     */
    private boolean transact(RaftClient rc, long process, List<Mop> mops) {
        int id = recorder.invoke(process, mops);
        byte[] answer;
        try {
            answer = await(rc.submitAsync(SqlListAppend.encode(mops)));
        } catch (RuntimeException e) {
            recorder.info(id);
            return false;
        }
        SqlListAppend.Completion c;
        try {
            c = SqlListAppend.complete(mops, answer);
        } catch (IllegalArgumentException e) {
            // An answer of the wrong shape: the state machine is broken. What the transaction did is
            // unknown (so :info, and the client goes on as a new process); the run reports it.
            malformed.compareAndSet(null, "T" + id + " (process " + process + "): " + e.getMessage());
            recorder.info(id);
            return false;
        }
        if (c.committed()) {
            recorder.ok(id, c.mops());
        } else {
            recorder.fail(id);
        }
        return true;
    }

    private byte[] await(CompletableFuture<byte[]> f) {
        return ClientWorkload.await(f, o);
    }
}
