package dev.raftkit.node;

import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.spi.StagedState;
import dev.raftkit.spi.StagedStates;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's staging area for live restores ({@code DATA_DIR/staged/}): one file per staged
 * state-machine image, {@code ID.state}, written under a {@code .partial} name, fsync'd, checked
 * against its size and SHA-256 and renamed into place, so a crash leaves either the whole image or
 * a partial file the next write replaces. The apply thread opens images here ({@link #open}); one
 * it lacks is copied from the image's origin, or else from any other member, over the admin
 * service's {@code FetchStaged} ({@link #fetch}, retried every second until it succeeds or the
 * node closes).
 *
 * <p>Threads: {@link #open} on the apply thread; {@link #build} and {@link #copyFrom} on the
 * admin service's backup thread or a gRPC thread (blocking); {@link #fetch} hands the copy to this
 * area's own thread ({@code raftkit-staging-ID}, daemon).
 */
final class StagingArea implements StagedStates, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StagingArea.class);
    /** The staging directory's name inside the node's data directory. */
    static final String DIR = "staged";
    private static final String SUFFIX = ".state";
    /** A copy from another node may take long for a large image; a hung peer must not hold it forever. */
    private static final Duration COPY_TIMEOUT = Duration.ofHours(6);

    private final long self;
    private final String clusterId;
    private final Path dir;
    private final TlsConfig tls;
    /** The client address of a member, or null if not known. */
    private final LongFunction<String> clientAddress;
    /** The members to fetch from when the origin cannot give it. */
    private final Supplier<List<Long>> members;
    private final ScheduledExecutorService thread;

    StagingArea(long self, String clusterId, Path dataDir, TlsConfig tls, LongFunction<String> clientAddress,
                Supplier<List<Long>> members) {
        this.self = self;
        this.clusterId = clusterId;
        this.dir = dataDir.resolve(DIR);
        this.tls = tls;
        this.clientAddress = clientAddress;
        this.members = members;
        // Created by the first live restore, so a node that never runs one has no such directory.
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "raftkit-staging-" + self);
            th.setDaemon(true);
            return th;
        });
        t.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.thread = t;
    }

    /** The staging directory. */
    Path dir() {
        return dir;
    }

    Path file(String id) {
        return dir.resolve(id + SUFFIX);
    }

    @Override
    public InputStream open(StagedState state) throws IOException {
        Path f = file(state.id());
        if (!Files.exists(f)) {
            return null;
        }
        check(f, state);
        return Files.newInputStream(f);
    }

    /** Checks the file against the image's size and SHA-256: read once, in full. */
    private static void check(Path f, StagedState state) throws IOException {
        long size = Files.size(f);
        if (size != state.sizeBytes()) {
            throw new IOException("staged image " + f + " is " + size + " bytes, not the " + state.sizeBytes()
                    + " the live-restore entry names");
        }
        MessageDigest sha = sha256();
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
        }
        byte[] got = sha.digest();
        if (!Arrays.equals(got, state.sha256())) {
            throw new IOException("staged image " + f + " has SHA-256 " + HexFormat.of().formatHex(got) + ", not the "
                    + state.sha256Hex() + " the live-restore entry names: it is damaged");
        }
    }

    /** Writes an image. */
    @FunctionalInterface
    interface ImageWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Stages the image {@code writer} writes as {@code id}, built by this node from the backup's
     * state at {@code sourceIndex}; returns its name once it is durable.
     */
    StagedState build(String id, long sourceIndex, ImageWriter writer) throws IOException {
        Files.createDirectories(dir);
        Path partial = dir.resolve(id + ".partial");
        MessageDigest sha = sha256();
        long size;
        try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            CountingOutputStream counted = new CountingOutputStream(new DigestOutputStream(
                    new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16), sha));
            writer.writeTo(counted);
            counted.flush();
            ch.force(true);
            size = counted.count;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        StagedState state = new StagedState(id, self, sourceIndex, size, sha.digest());
        publish(partial, state);
        return state;
    }

    /** Copies {@code state} from node {@code from} (blocking); true once it is staged here. */
    boolean copyFrom(long from, StagedState state) {
        if (Files.exists(file(state.id()))) {
            return true;
        }
        String address = clientAddress.apply(from);
        if (address == null || from == self) {
            return false;
        }
        Path partial = dir.resolve(state.id() + ".partial");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            LOG.warn("node {}: cannot create its staging directory {}: {}", self, dir, e.toString());
            return false;
        }
        try (AdminClient client = new AdminClient(HostPort.parse(address, "client address"), tls);
             FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            client.fetchStaged(clusterId, state.id(), out, COPY_TIMEOUT).get(COPY_TIMEOUT.toMillis(),
                    TimeUnit.MILLISECONDS);
            out.flush();
            ch.force(true);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.info("node {}: could not copy {} from node {}: {}", self, state, from, e.toString());
            deleteQuietly(partial);
            return false;
        }
        try {
            publish(partial, state);
            LOG.info("node {}: staged {} copied from node {}", self, state, from);
            return true;
        } catch (IOException e) {
            LOG.warn("node {}: the copy of {} from node {} does not match: {}", self, state, from, e.getMessage());
            deleteQuietly(partial);
            return false;
        }
    }

    /** Checks the partial file against {@code state}, then renames it into place durably. */
    private void publish(Path partial, StagedState state) throws IOException {
        check(partial, state);
        Files.move(partial, file(state.id()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException notOnThisPlatform) {
            // Some platforms cannot open a directory to sync it; the rename is still atomic.
        }
    }

    @Override
    public void fetch(StagedState state, Runnable held) {
        try {
            thread.execute(() -> attempt(state, held));
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // The node is closing: the apply thread stops too.
        }
    }

    private void attempt(StagedState state, Runnable held) {
        List<Long> sources = new ArrayList<>();
        sources.add(state.origin());
        for (long m : members.get()) {
            if (m != state.origin() && m != self) {
                sources.add(m);
            }
        }
        for (long from : sources) {
            if (copyFrom(from, state)) {
                held.run();
                return;
            }
        }
        try {
            thread.schedule(() -> attempt(state, held), 1, TimeUnit.SECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // The node is closing.
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // A leftover partial file is replaced by the next copy.
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
