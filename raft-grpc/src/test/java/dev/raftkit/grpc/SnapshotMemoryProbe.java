package dev.raftkit.grpc;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Streams a large synthetic snapshot between two transports in this JVM and reports the heap it
 * took. Run by {@link SnapshotMemoryTest} in a child JVM with a small {@code -Xmx}: if streaming
 * needed memory in proportion to the snapshot, the child would die of OutOfMemoryError.
 *
 * <p>Prints {@code OK <bytes> <peak heap bytes> <millis>} and exits 0, or prints the failure and
 * exits 1.
 */
public final class SnapshotMemoryProbe {

    private SnapshotMemoryProbe() {
    }

    public static void main(String[] args) throws Exception {
        long size = Long.parseLong(args[0]);
        try {
            run(size);
            System.exit(0);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.println("FAILED " + t);
            System.exit(1);
        }
    }

    private static void run(long size) throws Exception {
        SnapshotMeta meta = new SnapshotMeta(new EntryId(2, 1_000_000), ConfState.ofVoters(Set.of(1L, 2L)));
        int crc = Synthetic.crc(size);
        CountingWriter writer = new CountingWriter(meta);
        CompletableFuture<Message> delivered = new CompletableFuture<>();
        try (GrpcNetwork net = new GrpcNetwork("memory", id -> null)) {
            GrpcTransport one = net.start(1, new Quiet(null, null));
            net.start(2, new Quiet(writer, delivered));
            InstallSnapshot message = new InstallSnapshot(1, 2, 3, meta);
            long start = System.nanoTime();
            one.sendSnapshot(message, new Synthetic(meta, size, crc)).get(10, TimeUnit.MINUTES);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (!message.equals(delivered.get(1, TimeUnit.MINUTES)) || writer.received != size
                    || writer.crc() != crc || !writer.committed) {
                throw new AssertionError("wrong snapshot received: " + writer.received + " bytes, committed "
                        + writer.committed);
            }
            long peak = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == MemoryType.HEAP) {
                    peak += pool.getPeakUsage().getUsed();
                }
            }
            System.out.println("OK " + size + " " + peak + " " + millis);
        }
    }

    /** Deterministic bytes made from their offsets: nothing of the image is held in memory. */
    static final class Synthetic implements SnapshotReader {
        private final SnapshotDescriptor descriptor;

        Synthetic(SnapshotMeta meta, long size, int crc) {
            this.descriptor = new SnapshotDescriptor(meta, size, crc);
        }

        static void fill(byte[] b, long offset) {
            for (int i = 0; i < b.length; i++) {
                long x = (offset + i) * 0x9E3779B97F4A7C15L;
                b[i] = (byte) (x >>> 56);
            }
        }

        static int crc(long size) {
            CRC32C c = new CRC32C();
            byte[] b = new byte[1 << 20];
            for (long off = 0; off < size; off += b.length) {
                int n = (int) Math.min(b.length, size - off);
                byte[] chunk = n == b.length ? b : new byte[n];
                fill(chunk, off);
                c.update(chunk);
            }
            return (int) c.getValue();
        }

        @Override
        public SnapshotDescriptor descriptor() {
            return descriptor;
        }

        @Override
        public InputStream input() {
            throw new UnsupportedOperationException("not needed to stream");
        }

        @Override
        public byte[] chunk(long offset, int maxBytes) {
            int n = (int) Math.max(0, Math.min(maxBytes, descriptor.sizeBytes() - offset));
            byte[] b = new byte[n];
            fill(b, offset);
            return b;
        }

        @Override
        public void verify() {
        }

        @Override
        public void close() {
        }
    }

    /** Counts and checksums what it is given, and keeps none of it. */
    static final class CountingWriter implements SnapshotWriter {
        private final SnapshotMeta meta;
        private final CRC32C crc = new CRC32C();
        volatile long received;
        volatile boolean committed;

        CountingWriter(SnapshotMeta meta) {
            this.meta = meta;
        }

        int crc() {
            return (int) crc.getValue();
        }

        @Override
        public OutputStream output() {
            return new OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    crc.update(b, off, len);
                    received += len;
                }
            };
        }

        @Override
        public SnapshotDescriptor commit() {
            committed = true;
            return new SnapshotDescriptor(meta, received, crc());
        }

        @Override
        public void abort() {
        }

        @Override
        public void close() {
        }
    }

    private record Quiet(SnapshotWriter writer, CompletableFuture<Message> delivered) implements Transport.Inbound {
        @Override
        public void receive(Message message) {
            if (delivered != null) {
                delivered.complete(message);
            }
        }

        @Override
        public void unreachable(long peer) {
        }

        @Override
        public SnapshotWriter beginSnapshot(InstallSnapshot message) throws IOException {
            if (writer == null) {
                throw new IOException("node 1 expects no snapshot");
            }
            return writer;
        }
    }
}
