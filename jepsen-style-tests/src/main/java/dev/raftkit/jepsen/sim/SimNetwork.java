package dev.raftkit.jepsen.sim;

import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.RequestVoteResponse;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.Transport;
import java.io.ByteArrayOutputStream;
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
 * handed over, as the {@link Transport} contract says.
 */
final class SimNetwork {

    private static final int CHUNK = 64 * 1024;

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
            byte[] bytes;
            try (data) {
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                for (long off = 0; ; ) {
                    byte[] chunk = data.chunk(off, CHUNK);
                    if (chunk.length == 0) {
                        break;
                    }
                    all.write(chunk);
                    off += chunk.length;
                }
                bytes = all.toByteArray();
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
                    failure = install(to, m, bytes, crc);
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

        /** The receiver's side of a stream: into its real store, committed, then handed over. Null: done. */
        private String install(Endpoint to, InstallSnapshot m, byte[] bytes, int crc) {
            SnapshotWriter w;
            try {
                w = to.inbound.beginSnapshot(m);
            } catch (IOException | RuntimeException e) {
                return "beginSnapshot failed: " + e;
            }
            try (w) {
                OutputStream out = w.output();
                out.write(bytes);
                out.flush();
                SnapshotDescriptor written = w.commit();
                if (written.crc32c() != crc) {
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
