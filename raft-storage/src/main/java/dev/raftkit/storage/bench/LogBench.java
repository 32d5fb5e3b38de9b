package dev.raftkit.storage.bench;

import dev.raftkit.core.log.Entry;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.SegmentedLogStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * How close the log runs to the disk: appends of 100 B and 1 KiB entries in batches of 1, 16 and
 * 256 per {@code sync()}, next to this machine's raw rate of 4 KiB write + fdatasync measured in
 * the same run; then the time to recover (open and verify) a large log.
 *
 * <pre>
 * java -cp ... dev.raftkit.storage.bench.LogBench [--dir D] [--seconds S] [--recover-bytes N]
 *     [--sizes 100,1024] [--batches 1,16,256]
 * </pre>
 * {@code --dir} defaults to {@code raftkit-work/logbench} (deleted afterwards), {@code --seconds}
 * (per case) to 3, {@code --recover-bytes} to 1 GiB (0 skips recovery).
 */
public final class LogBench {

    private LogBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("raftkit-work", "logbench");
        double seconds = 3;
        long recoverBytes = 1L << 30;
        String sizesArg = "100,1024";
        String batchesArg = "1,16,256";
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[i + 1]);
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                case "--recover-bytes" -> recoverBytes = Long.parseLong(args[i + 1]);
                case "--sizes" -> sizesArg = args[i + 1];
                case "--batches" -> batchesArg = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --dir D --seconds S --recover-bytes N --sizes 100,1024 --batches 1,16,256");
            }
        }
        Files.createDirectories(dir);
        try {
            run(dir, seconds, recoverBytes, parse(sizesArg), parse(batchesArg));
        } finally {
            FileIo.real().deleteRecursively(dir);
        }
    }

    private static int[] parse(String csv) {
        return java.util.Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private static void run(Path dir, double seconds, long recoverBytes, int[] sizes, int[] batches) throws Exception {
        System.out.printf("LogBench: dir=%s, %.1f s per case, Java %s, %d CPUs%n", dir.toAbsolutePath(), seconds,
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
        double rawBefore = DiskProbe.fsyncRate(dir, seconds, false, 4096);
        double rawPrealloc = DiskProbe.fsyncRate(dir, seconds, true, 4096);
        List<String[]> rows = new ArrayList<>();
        double[][] syncRates = new double[sizes.length][batches.length];
        for (int s = 0; s < sizes.length; s++) {
            for (int b = 0; b < batches.length; b++) {
                double[] r = appendRate(dir.resolve("case-" + sizes[s] + "-" + batches[b]), sizes[s], batches[b], seconds);
                syncRates[s][b] = r[2] / r[3];
                rows.add(new String[] {String.valueOf(sizes[s]), String.valueOf(batches[b]),
                        String.format("%,.0f", r[0]), String.format("%.2f", r[1]), String.format("%,.0f", r[2]),
                        String.format("%,.0f", r[3]), String.format("%.0f / %.0f", r[4], r[5])});
            }
        }
        double rawAfter = DiskProbe.fsyncRate(dir, seconds, false, 4096);
        double raw32k = DiskProbe.fsyncRate(dir, seconds, true, 256 * 126);
        double raw = (rawBefore + rawAfter) / 2;
        System.out.printf("%nraw 4 KiB write + fdatasync, growing file: %,.0f/s before, %,.0f/s after (mean %,.0f/s); "
                + "overwriting a preallocated file: %,.0f/s; 32,256 B (one 256 x 100 B batch) write + fdatasync "
                + "on a preallocated file: %,.0f/s%n%n", rawBefore, rawAfter, raw, rawPrealloc, raw32k);
        System.out.printf("%-8s %-6s %12s %9s %9s %14s %8s %14s   %s%n", "entry B", "batch", "entries/s", "MB/s",
                "syncs/s", "raw 4K fsync/s", "ratio", "vs run mean", "us per batch in append / sync");
        int k = 0;
        for (String[] row : rows) {
            double sr = syncRates[k / batches.length][k % batches.length];
            double syncsPerSec = Double.parseDouble(row[4].replace(",", ""));
            System.out.printf("%-8s %-6s %12s %9s %9s %14s %7.0f%% %13.0f%%   %s%n", row[0], row[1], row[2], row[3], row[4],
                    row[5], 100 * sr, 100 * syncsPerSec / raw, row[6]);
            k++;
        }
        if (recoverBytes > 0) {
            recovery(dir.resolve("recovery"), recoverBytes);
        }
    }

    /**
     * Appends {@code batch} entries of {@code size} bytes then syncs, in slices interleaved with
     * slices of the raw 4 KiB probe, so both see the same load from whatever else shares the disk.
     *
     * @return entries/s, MB/s, syncs/s, raw fsyncs/s of the interleaved probe, µs per batch in
     *     append, µs per batch in sync
     */
    private static double[] appendRate(Path dir, int size, int batch, double seconds) throws IOException {
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++) {
            payload[i] = (byte) (i * 31 + 7);
        }
        int rounds = 6;
        double slice = seconds / rounds;
        Files.createDirectories(dir);
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir.resolve("log"))) {
            List<Entry> entries = new ArrayList<>(batch);
            long index = 1;
            long appendNanos = 0;
            long syncNanos = 0;
            long syncs = 0;
            long logNanos = 0;
            double rawSum = 0;
            long first = 0;
            for (int round = -1; round < rounds; round++) {
                boolean measured = round >= 0;
                if (measured) {
                    rawSum += DiskProbe.fsyncRate(dir, slice, false, 4096);
                }
                if (round == 0) {
                    first = index;
                }
                long t0 = System.nanoTime();
                long end = t0 + (long) ((measured ? slice : 0.5) * 1e9);
                while (System.nanoTime() < end) {
                    entries.clear();
                    for (int i = 0; i < batch; i++) {
                        entries.add(Entry.normal(1, index++, payload));
                    }
                    long a = System.nanoTime();
                    log.append(entries);
                    long b = System.nanoTime();
                    log.sync();
                    if (measured) {
                        appendNanos += b - a;
                        syncNanos += System.nanoTime() - b;
                        syncs++;
                    }
                }
                if (measured) {
                    logNanos += System.nanoTime() - t0;
                }
            }
            double el = logNanos / 1e9;
            long n = index - first;
            return new double[] {n / el, n * (double) size / el / 1e6, syncs / el, rawSum / rounds,
                    appendNanos / 1e3 / syncs, syncNanos / 1e3 / syncs};
        } finally {
            FileIo.real().deleteRecursively(dir);
        }
    }

    private static void recovery(Path dir, long bytes) throws IOException {
        byte[] payload = new byte[1024];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 17 + 3);
        }
        long t0 = System.nanoTime();
        long index = 1;
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir)) {
            List<Entry> entries = new ArrayList<>(1024);
            for (long written = 0; written < bytes; ) {
                entries.clear();
                for (int i = 0; i < 1024; i++) {
                    entries.add(Entry.normal(1, index++, payload));
                    written += payload.length + 26;
                }
                log.append(entries);
                log.sync();
            }
        }
        double writeSeconds = (System.nanoTime() - t0) / 1e9;
        long onDisk;
        try (Stream<Path> s = Files.list(dir)) {
            onDisk = s.mapToLong(p -> p.toFile().length()).sum();
        }
        long[] last = new long[1];
        double warm = timeOpen(dir, last);
        System.out.printf("%nrecovery: log of %,d entries of 1 KiB, %.2f GiB on disk (written in %.1f s)%n",
                last[0], onDisk / (double) (1L << 30), writeSeconds);
        System.out.printf("  open + verify, page cache warm (the log was just written): %.2f s = %.0f MB/s%n",
                warm, onDisk / warm / 1e6);
        String why = dropPageCache();
        if (why == null) {
            double cold = timeOpen(dir, last);
            System.out.printf("  open + verify, page cache dropped (read from the disk): %.2f s = %.0f MB/s%n",
                    cold, onDisk / cold / 1e6);
        } else {
            System.out.println("  cold open not measured: " + why);
        }
        FileIo.real().deleteRecursively(dir);
    }

    private static double timeOpen(Path dir, long[] last) throws IOException {
        long t = System.nanoTime();
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir)) {
            last[0] = log.lastIndex();
        }
        return (System.nanoTime() - t) / 1e9;
    }

    /** Drops the OS page cache (Linux, as root), so the next open reads the disk; null if done, else why not. */
    private static String dropPageCache() {
        Path knob = Path.of("/proc/sys/vm/drop_caches");
        try {
            new ProcessBuilder("sync").inheritIO().start().waitFor();
            Files.writeString(knob, "1");
            return null;
        } catch (IOException e) {
            return "cannot write " + knob + " (" + e.getMessage() + "); run as root on Linux to measure it";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

}
