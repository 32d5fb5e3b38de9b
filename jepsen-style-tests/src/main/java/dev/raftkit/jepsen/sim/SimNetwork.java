package dev.raftkit.jepsen.sim;

import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.RequestVoteResponse;
import dev.raftkit.spi.ResumableSnapshotWriter;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.Transport;
import java.io.IOException;
import java.io.OutputStream;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The simulated network between the nodes' real runtimes: each node's {@link Transport} is an
 * {@link Endpoint} here. Messages are delayed (0.1–2 ms, more while reordering), dropped (cut links,
 * a loss rate), and duplicated, all decided by the run's one random source. A snapshot travels
 * with its bytes: read from the sender's store, written through the receiver's
 * {@link Transport.Inbound#beginSnapshot} into its real snapshot store, committed, and only then
 * handed over, as the {@link Transport} contract says. Like the gRPC transport it asks the receiver
 * where to resume and sends only the chunks after those it kept from a cut transfer; under
 * {@link Fault#SNAPSHOT} transfers are cut at random chunks ({@link #snapshotCutRate}).
 */
final class SimNetwork {

    /** Tiny, so that the simulator's snapshots (a few hundred bytes) span several chunks to cut between. */
    private static final int CHUNK = 64;

    private final SimScheduler scheduler;
    private final SplittableRandom random;
    private final Hooks hooks;
    private final Trace trace;
    private final Map<Long, Endpoint> endpoints = new TreeMap<>();
    private final Set<Long> blockedLinks = new HashSet<>();
    /**
     * Nodes armed to crash just after their next answer that a peer counts (a granted vote, an
     * accepted append): the power cut lands while that answer's fsync may still be under way, where
     * a runtime that answers before its state is durable (§3.8) loses what it promised.
     */
    /** Nodes to crash just after their next counted answer, each with how long it stays down (micros). */
    final java.util.Map<Long, Long> crashAfterNextAnswer = new java.util.TreeMap<>();
    java.util.function.BiConsumer<Long, Long> crasher = (id, down) -> { };
    double lossRate;
    /** The chance that a snapshot transfer is cut at a random chunk (under {@link Fault#SNAPSHOT}). */
    double snapshotCutRate;
    /** Snapshot transfers cut, and transfers that resumed past byte 0, so far. */
    long snapshotCuts;
    long snapshotResumes;
    private long transfers;
    /** Per image on a link not delivered yet: the furthest byte sent, bytes sent, bytes sent again. */
    private final Map<String, long[]> streamed = new TreeMap<>();
    double duplicateRate;
    long extraDelay;

    SimNetwork(SimScheduler scheduler, SplittableRandom random, Hooks hooks, Trace trace) {
        this.scheduler = scheduler;
        this.random = random;
        this.hooks = hooks;
        this.trace = trace;
    }

    static long link(long from, long to) {
        return from * 1_000 + to;
    }

    void block(Set<Long> links) {
        blockedLinks.addAll(links);
    }

    void unblock(Set<Long> links) {
        blockedLinks.removeAll(links);
    }

    void healAll() {
        blockedLinks.clear();
        crashAfterNextAnswer.clear();
        lossRate = 0;
        duplicateRate = 0;
        extraDelay = 0;
    }

    /** Network latency of one message or reply, in microseconds. */
    long delay() {
        long base = 100 + random.nextLong(1_900);
        return extraDelay > 0 ? base + random.nextLong(extraDelay) : base;
    }

    private boolean cut(long from, long to) {
        return blockedLinks.contains(link(from, to));
    }

    /** A new transport for one life of node {@code id}; replaces the previous life's. */
    Endpoint endpoint(long id) {
        Endpoint e = new Endpoint(id);
        Endpoint old = endpoints.put(id, e);
        if (old != null) {
            old.closed = true;
        }
        return e;
    }

    private Endpoint live(long id) {
        Endpoint e = endpoints.get(id);
        return e == null || e.closed || e.inbound == null || e.paused ? null : e;
    }

    /** Freezes or thaws node {@code id}'s network side (a paused process reads no sockets). */
    void pause(long id, boolean paused) {
        Endpoint e = endpoints.get(id);
        if (e != null) {
            e.paused = paused;
        }
    }

    /** One node's transport: what its real runtime sends through and receives from. */
    final class Endpoint implements Transport {
        final long id;
        Inbound inbound;
        boolean closed;
        boolean paused;

        Endpoint(long id) {
            this.id = id;
        }

        @Override
        public void start(Inbound in) {
            this.inbound = in;
        }

        @Override
        public void send(List<Message> messages) {
            if (closed) {
                return;
            }
            for (Message original : messages) {
                Message m = hooks.rewrite(id, original);
                if (m instanceof InstallSnapshot) {
                    continue; // travels only through sendSnapshot (Transport contract)
                }
                if (cut(m.from(), m.to()) || random.nextDouble() < lossRate) {
                    continue;
                }
                int copies = random.nextDouble() < duplicateRate ? 2 : 1;
                for (int i = 0; i < copies; i++) {
                    scheduler.schedule(delay(), () -> deliver(m));
                }
                if (countedAnswer(m) && crashAfterNextAnswer.containsKey(id)) {
                    long down = crashAfterNextAnswer.remove(id);
                    scheduler.schedule(random.nextLong(100), () -> crasher.accept(id, down));
                }
            }
        }

        private static boolean countedAnswer(Message m) {
            return m instanceof RequestVoteResponse v && v.granted() && !v.preVote()
                    || m instanceof AppendEntriesResponse a && !a.reject() && !a.recovering();
        }

        private void deliver(Message m) {
            Endpoint to = live(m.to());
            if (to != null && !cut(m.from(), m.to())) {
                to.inbound.receive(m);
            }
        }

        @Override
        public CompletableFuture<Void> sendSnapshot(InstallSnapshot m, SnapshotReader data) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            done.whenComplete((v, e) -> {
                try {
                    data.close();
                } catch (IOException | RuntimeException ignored) {
                    // a reader on a crashed disk; nothing to release
                }
            });
            byte[] bytes;
            try (java.io.InputStream in = data.input()) {
                bytes = in.readAllBytes();
            } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
                return done;
            }
            // As the gRPC transport does (and the Transport contract asks): a local snapshot that
            // does not match its own descriptor is damaged and never sent as if it were good.
            SnapshotDescriptor d = data.descriptor();
            int crc = crc32c(bytes);
            if (bytes.length != d.sizeBytes() || crc != d.crc32c()) {
                String why = "the local snapshot at " + m.snapshot().last() + " does not match its descriptor ("
                        + bytes.length + " bytes of " + d.sizeBytes() + ", CRC32C "
                        + (crc == d.crc32c() ? "matches" : "differs") + "); it is corrupt and was not sent";
                trace.add(scheduler.now(), m.from(), "snapshot-refused", why);
                scheduler.schedule(delay(), () -> done.completeExceptionally(new IOException(why)));
                return done;
            }
            if (closed || cut(m.from(), m.to()) || random.nextDouble() < lossRate) {
                scheduler.schedule(delay(), () -> done.completeExceptionally(new IOException("simulated: snapshot "
                        + m.snapshot().last() + " to node " + m.to() + " lost on the network")));
                return done;
            }
            scheduler.schedule(delay(), () -> {
                Endpoint to = live(m.to());
                String failure = null;
                if (to == null || cut(m.from(), m.to())) {
                    failure = "node " + m.to() + " unreachable";
                } else {
                    failure = install(to, m, data, d);
                }
                String why = failure;
                trace.add(scheduler.now(), m.to(), "snapshot-received", m.snapshot().last() + " from " + m.from()
                        + (why == null ? "" : " failed: " + why));
                scheduler.schedule(delay(), () -> {
                    if (why == null) {
                        done.complete(null);
                    } else {
                        done.completeExceptionally(new IOException("simulated: snapshot " + m.snapshot().last()
                                + " to node " + m.to() + ": " + why));
                    }
                });
            });
            return done;
        }

        /** Counts an attempt at {@code image} that sent bytes {@code from} to {@code to}: see {@link #streamed}. */
        private void sent(String image, long from, long to) {
            long[] t = streamed.computeIfAbsent(image, k -> new long[3]);
            t[2] += Math.max(0, Math.min(to, t[0]) - from);
            t[1] += Math.max(0, to - from);
            t[0] = Math.max(t[0], to);
        }

        /**
         * The receiver's side of a stream, as the gRPC transport runs it: ask where to resume, then
         * chunks from there into its real store, each checkpointed; under the snapshot fault a
         * transfer may be cut at a random chunk (the receiver keeps its verified chunks and the next
         * attempt resumes). Committed, then handed over. Null: done.
         */
        private String install(Endpoint to, InstallSnapshot m, SnapshotReader data, SnapshotDescriptor d) {
            long resume;
            ResumableSnapshotWriter w;
            try {
                resume = to.inbound.snapshotResumePoint(m, d.sizeBytes(), d.crc32c());
                w = to.inbound.beginSnapshot(m, d.sizeBytes(), d.crc32c());
            } catch (IOException | RuntimeException e) {
                return "beginSnapshot failed: " + e;
            }
            try {
                if (w.resumeOffset() != resume) {
                    if (resume != 0) {
                        w.suspend();
                        return "the receiver's partial changed since it was asked (" + resume + " then "
                                + w.resumeOffset() + " bytes)";
                    }
                    w.restart();
                }
                long size = d.sizeBytes();
                int chunks = (int) ((size - resume + CHUNK - 1) / CHUNK);
                int cutAt = -1;
                if (snapshotCutRate > 0 && chunks > 0) {
                    // Its own random source, derived from the transfer, so that cutting transfers
                    // leaves the run's other random choices as they were.
                    SplittableRandom r = new SplittableRandom(m.from() * 1_000_003L ^ m.to() * 7919L
                            ^ m.snapshot().index() * 31L ^ resume ^ (long) (++transfers) << 40);
                    if (r.nextDouble() < snapshotCutRate) {
                        cutAt = r.nextInt(chunks);
                    }
                }
                OutputStream out = w.output();
                String image = m.from() + ">" + m.to() + "@" + m.snapshot().last() + "/" + size + "/" + d.crc32c();
                long off = resume;
                for (int i = 0; off < size; i++) {
                    byte[] chunk;
                    try {
                        chunk = data.chunk(off, CHUNK);
                    } catch (IOException | RuntimeException e) {
                        w.suspend(); // the sender failed, not the bytes already verified
                        return "the sender could not read its snapshot: " + e;
                    }
                    if (chunk.length == 0) {
                        break;
                    }
                    if (i == cutAt) {
                        // Half of this chunk arrives, unverified, then the link breaks.
                        out.write(chunk, 0, chunk.length / 2);
                        w.suspend();
                        snapshotCuts++;
                        sent(image, resume, off + chunk.length / 2);
                        trace.add(scheduler.now(), m.to(), "snapshot-cut", m.snapshot().last() + " from " + m.from()
                                + " at byte " + off + " of " + size + " (this attempt began at " + resume + ")");
                        return "cut at byte " + off;
                    }
                    out.write(chunk);
                    w.checkpoint();
                    off += chunk.length;
                }
                sent(image, resume, off);
                long[] totals = streamed.remove(image);
                if (resume > 0) {
                    snapshotResumes++;
                    trace.add(scheduler.now(), m.to(), "snapshot-resumed", m.snapshot().last() + " from " + m.from()
                            + " at byte " + resume + " of " + size + ": sent=" + totals[1] + " resent=" + totals[2]
                            + " size=" + size);
                }
                SnapshotDescriptor written = w.commit();
                if (written.crc32c() != d.crc32c()) {
                    return "the committed snapshot's CRC32C differs from the bytes sent";
                }
            } catch (IOException | RuntimeException e) {
                w.abort();
                return "writing it failed: " + e;
            }
            to.inbound.receive(m);
            return null;
        }

        @Override
        public void close() {
            closed = true;
        }

        private static int crc32c(byte[] bytes) {
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(bytes);
            return (int) crc.getValue();
        }
    }
}
