package dev.raftkit.storage.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** This machine's raw disk limit, measured the way a Raft log writes (the shared FsyncProbe). */
public final class DiskProbe {

    private DiskProbe() {
    }

    /**
     * Writes {@code block} bytes then {@code force(false)} (fdatasync) in a loop for {@code seconds},
     * on a growing file or on a preallocated (zero-filled, synced) 256 MiB file, and returns the
     * rate per second: the physical limit a Raft log's commit path is measured against.
     */
    public static double fsyncRate(Path dir, double seconds, boolean prealloc, int block) throws IOException {
        Path f = dir.resolve("raw-fsync.dat");
        long region = 256L << 20;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            if (prealloc) {
                ByteBuffer z = ByteBuffer.allocateDirect(1 << 20);
                for (long p = 0; p < region; p += z.capacity()) {
                    z.clear();
                    ch.write(z, p);
                }
                ch.force(true);
            }
            ByteBuffer buf = ByteBuffer.allocateDirect(block);
            long pos = 0;
            long n = 0;
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                buf.clear();
                if (prealloc && pos + block > region) {
                    pos = 0;
                }
                while (buf.hasRemaining()) {
                    pos += ch.write(buf, pos);
                }
                ch.force(false);
                n++;
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        } finally {
            Files.deleteIfExists(f);
        }
    }

}
