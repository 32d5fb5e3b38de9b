package dev.raftkit.grpc;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import dev.raftkit.core.RaftException;
import dev.raftkit.core.RaftException.Reason;
import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.proto.MembershipChangeProto;
import dev.raftkit.grpc.proto.MembershipRequest;
import dev.raftkit.grpc.proto.MembershipResponse;
import dev.raftkit.grpc.proto.OpenSessionRequest;
import dev.raftkit.grpc.proto.OpenSessionResponse;
import dev.raftkit.grpc.proto.RaftClientServiceGrpc.RaftClientServiceFutureStub;
import dev.raftkit.grpc.proto.RaftClientServiceGrpc;
import dev.raftkit.grpc.proto.ReadModeProto;
import dev.raftkit.grpc.proto.ReadRequest;
import dev.raftkit.grpc.proto.Refusal;
import dev.raftkit.grpc.proto.StatusRequest;
import dev.raftkit.grpc.proto.StatusResponse;
import dev.raftkit.grpc.proto.SubmitRequest;
import dev.raftkit.grpc.proto.SubmitResponse;
import dev.raftkit.grpc.proto.TransferRequest;
import dev.raftkit.grpc.proto.TransferResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A Java client of a Raftkit cluster over gRPC.
 *
 * <ul>
 *   <li><b>Finds the leader</b>: starts with any node it knows, follows the leader named in a
 *       {@code NOT_LEADER} refusal, moves on to the next node when one does not answer or
 *       answers {@code STOPPED} (a node that failed, e.g. on a full disk, keeps its client port).
 *   <li><b>Too large</b>: a command over the node's limit fails at once with reason
 *       {@code TOO_LARGE}, whether the node's service refused it or gRPC cut it off.
 *   <li><b>Exactly once</b>: commands go through one session (opened on first use); each command
 *       has a sequence number and every retry of it reuses that number, so the cluster applies it
 *       once and answers retries with the first result (thesis §6.3). This holds across leader
 *       changes and lost answers.
 *   <li><b>Times out clearly</b>: each call retries (with a short back-off) until
 *       {@link Builder#timeout(Duration)} passes, then fails with a {@link RaftException}
 *       ({@code TIMED_OUT}) naming the nodes tried and the last error. Refusals that cannot
 *       succeed on retry (an invalid request, an expired session, another cluster) fail at once.
 *   <li><b>One exception</b>: every failure is a {@link RaftException}, the same type a node's
 *       own callers catch: the cluster's reason and leader hint as the node sent them, or a
 *       reason of the call itself ({@code UNAUTHORIZED}, {@code WRONG_CLUSTER}, {@code
 *       UNSUPPORTED}, {@code CLOSED}).
 * </ul>
 *
 * Thread-safe; blocking methods wrap the {@code …Async} ones. Close it to release its connections.
 */
public final class RaftClient implements AutoCloseable {

    private final String clusterId;
    private final Duration timeout;
    private final Duration attemptTimeout;
    private final TlsCredentials tls;
    private final Map<Long, String> addresses = new ConcurrentHashMap<>();
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final ExecutorService executor;
    private final ScheduledExecutorService timer;
    private final EventLoopGroup loop;
    private final AtomicLong nextSequence = new AtomicLong(1);
    private final ConcurrentSkipListSet<Long> unacknowledged = new ConcurrentSkipListSet<>();
    private volatile long leaderGuess;
    private volatile CompletableFuture<Long> session;

    private RaftClient(Builder b) {
        this.clusterId = MessageCodec.checkClusterId(b.clusterId);
        this.timeout = b.timeout;
        this.attemptTimeout = b.attemptTimeout;
        this.addresses.putAll(b.nodes);
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("a RaftClient needs the client address of at least one node");
        }
        this.tls = TlsCredentials.of(b.tls);
        this.executor = Executors.newFixedThreadPool(2, Endpoints.Threads.daemonFactory("raftkit-client"));
        this.timer = Executors.newSingleThreadScheduledExecutor(Endpoints.Threads.daemonFactory("raftkit-client-timer"));
        this.loop = Endpoints.eventLoop(1, "raftkit-client-netty");
    }

    public static Builder builder(String clusterId) {
        return new Builder(clusterId);
    }

    // ------------------------------------------------------------------------------- commands

    /** Takes the next sequence number of this client's session, for {@link #submit(long, byte[])}. */
    public long nextSequence() {
        long seq = nextSequence.getAndIncrement();
        unacknowledged.add(seq);
        return seq;
    }

    /** Applies {@code command} exactly once and returns the state machine's result. */
    public byte[] submit(byte[] command) {
        return join(submitAsync(command));
    }

    /**
     * Submits command {@code sequence} of this client's session; sending the same sequence again
     * (after a lost answer, say) returns the first result and applies nothing.
     */
    public byte[] submit(long sequence, byte[] command) {
        return join(submitAsync(sequence, command));
    }

    public CompletableFuture<byte[]> submitAsync(byte[] command) {
        return submitAsync(nextSequence(), command);
    }

    public CompletableFuture<byte[]> submitAsync(long sequence, byte[] command) {
        Objects.requireNonNull(command, "command");
        ByteString bytes = ByteString.copyFrom(command);
        return session().thenCompose(clientId -> {
            Long lowest = unacknowledged.isEmpty() ? sequence : unacknowledged.first();
            SubmitRequest request = SubmitRequest.newBuilder().setClusterId(clusterId).setClientId(clientId)
                    .setSequence(sequence).setLowestUnacked(Math.min(lowest, sequence)).setCommand(bytes).build();
            return this.<SubmitResponse, byte[]>call("submit command " + sequence + " of session " + clientId, 0,
                    stub -> stub.submit(request),
                    r -> r.hasRefused() ? Outcome.refused(r.getRefused()) : Outcome.ok(r.getResult().toByteArray()));
        }).whenComplete((r, e) -> {
            if (e == null) {
                unacknowledged.remove(sequence);
            }
        });
    }

    /** The session's client id, opening the session through the log on first use. */
    public long clientId() {
        return join(session());
    }

    private synchronized CompletableFuture<Long> session() {
        CompletableFuture<Long> s = session;
        if (s == null || s.isCompletedExceptionally()) {
            OpenSessionRequest request = OpenSessionRequest.newBuilder().setClusterId(clusterId).build();
            s = this.<OpenSessionResponse, Long>call("open a session", 0, stub -> stub.openSession(request),
                    r -> r.hasRefused() ? Outcome.refused(r.getRefused()) : Outcome.ok(r.getClientId()));
            session = s;
        }
        return s;
    }

    // ------------------------------------------------------------------------------- reads

    public byte[] read(byte[] query, ReadMode mode) {
        return join(readAsync(query, mode, 0));
    }

    /** Runs {@code query}; STALE reads may go to any node, applied at least up to {@code minIndex}. */
    public CompletableFuture<byte[]> readAsync(byte[] query, ReadMode mode, long minIndex) {
        ReadModeProto m = switch (mode) {
            case LINEARIZABLE -> ReadModeProto.READ_MODE_LINEARIZABLE;
            case LEASE -> ReadModeProto.READ_MODE_LEASE;
            case STALE -> ReadModeProto.READ_MODE_STALE;
        };
        ReadRequest request = ReadRequest.newBuilder().setClusterId(clusterId).setQuery(ByteString.copyFrom(query))
                .setMode(m).setMinIndex(minIndex).build();
        return call("read (" + mode + ")", 0, stub -> stub.read(request),
                r -> r.hasRefused() ? Outcome.refused(r.getRefused()) : Outcome.ok(r.getResult().toByteArray()));
    }

    // ------------------------------------------------------------------------------- admin

    /** The status as node {@code node} sees it (this call goes to that node only, never redirected). */
    public NodeStatus status(long node) {
        StatusRequest request = StatusRequest.newBuilder().setClusterId(clusterId).build();
        return join(new Call<StatusResponse, NodeStatus>("read the status of node " + node, node, null,
                stub -> stub.status(request), r -> Outcome.ok(NodeStatus.fromProto(r))).start());
    }

    /**
     * The status as the node at {@code hostPort} sees it, whatever its id (the answer names it):
     * for an address whose node id is not known yet. Goes to that address only, never redirected.
     */
    public NodeStatus statusAt(String hostPort) {
        StatusRequest request = StatusRequest.newBuilder().setClusterId(clusterId).build();
        return join(new Call<StatusResponse, NodeStatus>("read the status of the node at " + hostPort, 0,
                Objects.requireNonNull(hostPort, "hostPort"), stub -> stub.status(request),
                r -> Outcome.ok(NodeStatus.fromProto(r))).start());
    }

    /** Adds {@code node} as a learner: it receives the log but does not vote. Returns the voters. */
    public List<Long> addLearner(long node) {
        return membership(MembershipChangeProto.MEMBERSHIP_CHANGE_ADD_LEARNER, node, false);
    }

    /**
     * Makes learner {@code node} a voter, like {@link #promote(long)}: the leader refuses a node that
     * is not yet a learner (add it with {@link #addLearner} first).
     */
    public List<Long> addVoter(long node) {
        return addVoter(node, false);
    }

    /** {@link #addVoter(long)}; {@code force} skips the leader's live-quorum check. */
    public List<Long> addVoter(long node, boolean force) {
        return membership(MembershipChangeProto.MEMBERSHIP_CHANGE_ADD_VOTER, node, force);
    }

    /** Makes a caught-up learner a voter; retried (until the timeout) while it is still catching up. */
    public List<Long> promote(long node) {
        return promote(node, false);
    }

    /** {@link #promote(long)}; {@code force} skips the leader's live-quorum check. */
    public List<Long> promote(long node, boolean force) {
        return membership(MembershipChangeProto.MEMBERSHIP_CHANGE_PROMOTE, node, force);
    }

    /**
     * Removes {@code node}. Refused (not retried) if the remaining voters would not hold a quorum of
     * live members; the message gives the arithmetic.
     */
    public List<Long> remove(long node) {
        return remove(node, false);
    }

    /** {@link #remove(long)}; {@code force} skips the leader's live-quorum check. */
    public List<Long> remove(long node, boolean force) {
        return membership(MembershipChangeProto.MEMBERSHIP_CHANGE_REMOVE, node, force);
    }

    /** Returns the voters after the change. */
    private List<Long> membership(MembershipChangeProto change, long node, boolean force) {
        MembershipRequest request = MembershipRequest.newBuilder().setClusterId(clusterId).setChange(change)
                .setNodeId(node).setForce(force).build();
        return join(this.<MembershipResponse, List<Long>>call(change + " node " + node, 0,
                stub -> stub.changeMembership(request),
                r -> r.hasRefused() ? Outcome.refused(r.getRefused())
                        : Outcome.ok(List.copyOf(r.getConfiguration().getVotersList()))));
    }

    /** Hands leadership to {@code to}; returns once it leads. */
    public void transferLeadership(long to) {
        TransferRequest request = TransferRequest.newBuilder().setClusterId(clusterId).setTo(to).build();
        join(this.<TransferResponse, Long>call("transfer leadership to node " + to, 0,
                stub -> stub.transferLeadership(request),
                r -> r.hasRefused() ? Outcome.refused(r.getRefused()) : Outcome.ok(r.getNewLeader())));
        leaderGuess = to;
    }

    /** Adds or moves a node's client address. */
    public void setNode(long id, String hostPort) {
        addresses.put(id, hostPort);
    }

    @Override
    public void close() {
        for (ManagedChannel c : channels.values()) {
            c.shutdownNow();
        }
        timer.shutdownNow();
        executor.shutdownNow();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        tls.close();
    }

    // ------------------------------------------------------------------------------- retries

    /** What a response means: a value, or a refusal to act on. */
    private record Outcome<T>(T value, Refusal refusal) {
        static <T> Outcome<T> ok(T value) {
            return new Outcome<>(value, null);
        }

        static <T> Outcome<T> refused(Refusal r) {
            return new Outcome<>(null, r);
        }
    }

    /** One logical call, retried until it succeeds, fails for good, or the timeout passes. */
    private final class Call<Q, T> {
        final String what;
        final long pinned;
        /** The one address this call goes to when no id is known for it, or null. */
        final String at;
        final Function<RaftClientServiceFutureStub, ListenableFuture<Q>> rpc;
        final Function<Q, Outcome<T>> interpret;
        final CompletableFuture<T> result = new CompletableFuture<>();
        final long deadline = System.nanoTime() + timeout.toNanos();
        final List<String> tried = new ArrayList<>();
        int attempts;
        String lastError = "none";
        long target;

        Call(String what, long pinned, String at, Function<RaftClientServiceFutureStub, ListenableFuture<Q>> rpc,
             Function<Q, Outcome<T>> interpret) {
            this.what = what;
            this.pinned = pinned;
            this.at = at;
            this.rpc = rpc;
            this.interpret = interpret;
        }

        CompletableFuture<T> start() {
            attempt();
            return result;
        }

        void attempt() {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                // A call pinned to one node names it once and asks about it; others, the nodes tried.
                String where = at != null ? "at " + at
                        : pinned != 0 ? "at node " + pinned + "@" + addresses.get(pinned) : "at nodes " + tried;
                result.completeExceptionally(new RaftException(Reason.TIMED_OUT, 0, "could not " + what + " in cluster '"
                        + clusterId + "' within " + timeout.toMillis() + " ms (" + attempts + " attempt"
                        + (attempts == 1 ? "" : "s") + " " + where + "); last error: " + lastError + ". "
                        + (at != null ? "Is a node of this cluster up and reachable there?"
                                : pinned != 0 ? "Is node " + pinned + " up and reachable there?"
                                : "Is a majority of the cluster up and reachable?")));
                return;
            }
            target = at != null ? 0 : pinned != 0 ? pinned : pickTarget();
            String address = at != null ? at : addresses.get(target);
            attempts++;
            tried.remove(target + "@" + address); // each node once, the latest last
            tried.add(target + "@" + address);
            if (tried.size() > 8) {
                tried.remove(0);
            }
            ListenableFuture<Q> f;
            try {
                RaftClientServiceFutureStub stub = RaftClientServiceGrpc.newFutureStub(channel(address))
                        .withDeadlineAfter(Math.min(remaining, attemptTimeout.toNanos()), TimeUnit.NANOSECONDS);
                f = rpc.apply(stub);
            } catch (RuntimeException e) {
                onError(e);
                return;
            }
            f.addListener(() -> {
                Q response;
                try {
                    response = f.get();
                } catch (ExecutionException e) {
                    onError(e.getCause());
                    return;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    result.completeExceptionally(e);
                    return;
                }
                Outcome<T> outcome;
                try {
                    outcome = interpret.apply(response);
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                    return;
                }
                if (outcome.refusal() == null) {
                    if (pinned == 0 && at == null) {
                        leaderGuess = target;
                    }
                    result.complete(outcome.value());
                } else {
                    onRefusal(outcome.refusal());
                }
            }, executor);
        }

        /** A refusal's reason by name; one this client does not know is a newer server's. */
        private static Reason reasonOf(Refusal r) {
            try {
                return Reason.valueOf(r.getReason());
            } catch (IllegalArgumentException e) {
                return Reason.UNSUPPORTED;
            }
        }

        private void onRefusal(Refusal r) {
            lastError = r.getReason() + ": " + r.getMessage();
            if (!r.getRetryable()) {
                result.completeExceptionally(new RaftException(reasonOf(r), r.getLeaderId(),
                        "could not " + what + ": " + r.getMessage()));
                return;
            }
            if (r.getLeaderId() != 0) {
                if (!r.getLeaderAddress().isEmpty()) {
                    addresses.put(r.getLeaderId(), r.getLeaderAddress());
                }
                if (addresses.containsKey(r.getLeaderId()) && r.getLeaderId() != target) {
                    leaderGuess = r.getLeaderId();
                    attempt(); // a redirect: go there at once
                    return;
                }
            } else if ("NOT_LEADER".equals(r.getReason())) {
                leaderGuess = 0; // an election is on: wait a little and try around
            } else if ("STOPPED".equals(r.getReason())) {
                // That node stopped (a full disk, say) and keeps answering: it will never lead
                // again without a restart, so try the others, starting with any but it.
                if (leaderGuess == target) {
                    leaderGuess = 0;
                }
                skip = target;
            }
            retryLater();
        }

        private void onError(Throwable t) {
            Status s = Status.fromThrowable(t);
            lastError = GrpcErrors.describe(s);
            if (s.getCode() == Status.Code.RESOURCE_EXHAUSTED && s.getDescription() != null
                    && s.getDescription().contains("exceeds maximum size")) {
                // gRPC cut off a request larger than the node's client-port limit: every node
                // would, so retrying only repeats it.
                result.completeExceptionally(new RaftException(Reason.TOO_LARGE, 0, "could not " + what + " at "
                        + who() + ": the request is larger than the node accepts (" + s.getDescription()
                        + "); split the command"));
                return;
            }
            switch (s.getCode()) {
                case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, RESOURCE_EXHAUSTED, ABORTED, UNKNOWN, INTERNAL -> {
                    // That node is down, slow or confused: forget it as leader and try the next.
                    if (leaderGuess == target) {
                        leaderGuess = 0;
                    }
                    skip = target;
                    retryLater();
                }
                default -> result.completeExceptionally(new RaftException(
                        GrpcErrors.reasonOf(s, Status.trailersFromThrowable(t)), 0,
                        "could not " + what + " at " + who() + ": " + lastError, t));
            }
        }

        /** The node this attempt went to, for messages. */
        private String who() {
            return at != null ? at : "node " + target;
        }

        private void retryLater() {
            long delayMs = Math.min(500, 25L << Math.min(attempts, 5));
            try {
                timer.schedule(this::attempt, delayMs, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                result.completeExceptionally(new RaftException(Reason.CLOSED, 0, "the client was closed"));
            }
        }

        private long skip;

        private long pickTarget() {
            long guess = leaderGuess;
            if (guess != 0 && addresses.containsKey(guess)) {
                return guess;
            }
            // Round-robin over known nodes, starting after the one that just failed.
            List<Long> ids = new ArrayList<>(new TreeMap<>(addresses).keySet());
            int start = (int) (attempts % ids.size());
            for (int i = 0; i < ids.size(); i++) {
                long id = ids.get((start + i) % ids.size());
                if (id != skip || ids.size() == 1) {
                    return id;
                }
            }
            return ids.get(0);
        }
    }

    private <Q, T> CompletableFuture<T> call(String what, long pinned,
                                             Function<RaftClientServiceFutureStub, ListenableFuture<Q>> rpc,
                                             Function<Q, Outcome<T>> interpret) {
        return new Call<>(what, pinned, null, rpc, interpret).start();
    }

    private ManagedChannel channel(String hostPort) {
        return channels.computeIfAbsent(hostPort, hp -> {
            int colon = hp.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("node address '" + hp + "' is not host:port");
            }
            InetSocketAddress target = new InetSocketAddress(hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1)));
            // gRPC's callbacks only complete the call's future, whose listener runs on the client's
            // executor (never on the event loop, so a caller's callbacks cannot stall it).
            return Endpoints.channel(target, loop, com.google.common.util.concurrent.MoreExecutors.directExecutor(),
                    executor, 64 << 20, tls);
        });
    }

    private <T> T join(CompletableFuture<T> f) {
        try {
            // The call times itself out; the margin only guards against a bug leaving it pending.
            return f.get(timeout.toMillis() + 5000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RaftException r) {
                throw r;
            }
            throw new RaftException(Reason.FAILED, 0, e.getCause().toString(), e.getCause());
        } catch (TimeoutException e) {
            throw new RaftException(Reason.TIMED_OUT, 0, "no answer from cluster '" + clusterId + "' within " + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RaftException(Reason.CLOSED, 0, "interrupted while waiting for cluster '" + clusterId + "'", e);
        }
    }

    /** Settings of a {@link RaftClient}. */
    public static final class Builder {
        private final String clusterId;
        private final Map<Long, String> nodes = new TreeMap<>();
        private Duration timeout = Duration.ofSeconds(10);
        private Duration attemptTimeout = Duration.ofSeconds(3);
        private TlsConfig tls;

        private Builder(String clusterId) {
            this.clusterId = clusterId;
        }

        /** A node's client service address, host:port. */
        public Builder node(long id, String hostPort) {
            nodes.put(id, hostPort);
            return this;
        }

        /** How long a call may take, retries included (default 10 s). */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** How long one attempt at one node may take (default 3 s). */
        public Builder attemptTimeout(Duration attemptTimeout) {
            this.attemptTimeout = attemptTimeout;
            return this;
        }

        /**
         * TLS for every connection (null: plaintext). On mutual TLS the certificate's role decides
         * what the nodes let this client do: a client certificate may open sessions, submit, read
         * and ask for status; membership changes and leadership transfers need an admin certificate.
         */
        public Builder tls(TlsConfig tls) {
            this.tls = tls;
            return this;
        }

        public RaftClient build() {
            return new RaftClient(this);
        }
    }
}
