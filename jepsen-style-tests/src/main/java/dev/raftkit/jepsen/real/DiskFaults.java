package dev.raftkit.jepsen.real;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Disk faults applied to a node's log directory while the node is down (between a SIGKILL and its
 * restart). The node must then either recover (a torn tail is what a crash mid-write leaves: the
 * partial record is dropped) or refuse to start with a clear error (a flipped bit inside a closed
 * segment is corruption, not a crash) — never serve the corrupt bytes.
 *
 * <p>File names follow {@code SegmentedLogStorage}: {@code log_inprogress_<first>} is the open
 * segment, {@code log_<first>-<last>} a closed one ({@code <first>}, {@code <last>}: 20 digits).
 * Other files ({@code log_spare.tmp}, the next segment prepared ahead; other {@code .tmp} files)
 * are never read by recovery, so damaging them would test nothing.
 */
final class DiskFaults {

    private static final Pattern OPEN_SEGMENT = Pattern.compile("log_inprogress_\\d{20}");
    private static final Pattern CLOSED_SEGMENT = Pattern.compile("log_\\d{20}-\\d{20}");

    private DiskFaults() {
    }

    /**
     * Leaves a torn write after the open segment's last record: 1 to 4096 random bytes where the
     * next record would have started, as a crash in the middle of an unsynced append leaves them.
     * Only bytes that were never acknowledged are touched: tearing synced records would make the
     * node forget entries it acknowledged, which Raft does not tolerate and which no disk that
     * honours fsync can do (a first version did that, and the leader — rightly trusting its match
     * index — never repaired the follower).
     */
    static String tearOpenTail(Path dataDir, Random rnd) throws IOException {
        Path seg = newest(dataDir.resolve("log"), OPEN_SEGMENT);
        if (seg == null) {
            return "no open segment to tear in " + dataDir;
        }
        try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
            long end = dataEnd(f);
            int n = 1 + rnd.nextInt(4096);
            byte[] junk = new byte[n];
            rnd.nextBytes(junk);
            f.seek(end);
            f.write(junk);
            f.getFD().sync();
            return "tore the tail of " + seg.getFileName() + ": " + n + " bytes of a partial record at offset " + end;
        }
    }

    /**
     * Flips one random bit inside a random closed segment: corruption of acknowledged data, which
     * the node must detect and refuse. With no closed segment yet, tears the tail instead (a flip in
     * the open segment is indistinguishable from a torn tail to recovery, and would again drop
     * acknowledged entries).
     */
    static String flipBit(Path dataDir, Random rnd) throws IOException {
        Path logDir = dataDir.resolve("log");
        List<Path> closed = list(logDir, CLOSED_SEGMENT);
        if (closed.isEmpty()) {
            return "no closed segment yet; " + tearOpenTail(dataDir, rnd);
        }
        Path seg = closed.get(rnd.nextInt(closed.size()));
        try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
            long end = f.length();
            if (end <= 0) {
                return "segment " + seg.getFileName() + " is empty; nothing flipped";
            }
            long at = (long) (rnd.nextDouble() * end);
            int bit = rnd.nextInt(8);
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ (1 << bit));
            f.getFD().sync();
            return "flipped bit " + bit + " of byte " + at + " in closed segment " + seg.getFileName();
        }
    }

    /** Offset just past the last non-zero byte. */
    private static long dataEnd(RandomAccessFile f) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long pos = f.length();
        while (pos > 0) {
            int n = (int) Math.min(buf.length, pos);
            pos -= n;
            f.seek(pos);
            f.readFully(buf, 0, n);
            for (int i = n - 1; i >= 0; i--) {
                if (buf[i] != 0) {
                    return pos + i + 1;
                }
            }
        }
        return 0;
    }

    private static Path newest(Path dir, Pattern name) throws IOException {
        List<Path> l = list(dir, name);
        return l.isEmpty() ? null : l.get(l.size() - 1);
    }

    /** Files of {@code dir} whose whole name matches (not the spare segment or other temporary files). */
    private static List<Path> list(Path dir, Pattern name) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> name.matcher(p.getFileName().toString()).matches()).sorted().toList();
        }
    }
}
