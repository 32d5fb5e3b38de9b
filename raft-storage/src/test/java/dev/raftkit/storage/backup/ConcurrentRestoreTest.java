package dev.raftkit.storage.backup;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.runtime.ClientSession;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.ForwardingFileIo;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent recovery (issue 16, point 5): a long chain (a full backup and eight increments of a
 * one-node cluster on the durable log) restored by the worker pool must write exactly what the
 * sequential restore writes, into one directory or several at once, and fail as a whole.
 */
class ConcurrentRestoreTest {

    private static final String CLUSTER = "concurrent-restore";
    private static final int INCREMENTS = 8;

    @TempDir
    static Path tmp;

    private static final List<Path> chain = new ArrayList<>();

    @BeforeAll
    static void takeALongChain() throws Exception {
        Path node = tmp.resolve("node1");
        FileSnapshotStore[] store = new FileSnapshotStore[1];
        try (RuntimeCluster cluster = new RuntimeCluster(Set.of(1L), (id, b) -> {
            try {
                store[0] = FileSnapshotStore.open(node.resolve("snapshots"));
                b.logStorage(SegmentedLogStorage.open(node.resolve("log"), SegmentedLogStorage.Options.defaults()
                                .withSegmentBytes(64 * 1024).withPreallocate(false)))
                        .snapshotStore(store[0]).snapshotThresholds(1 << 20, 1L << 30);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        })) {
            cluster.startAll();
            cluster.awaitLeader();
            ClientSession session = cluster.openSession();
            BackupService backups = new BackupService(cluster.server(1), store[0], CLUSTER, tmp.resolve("backups"));
            write(cluster, session, 0, 200);
            chain.add(backups.full().backup().dir());
            for (int i = 1; i <= INCREMENTS; i++) {
                write(cluster, session, i * 1000, 150);
                chain.add(backups.incremental().backup().dir());
            }
        }
    }

    private static void write(RuntimeCluster cluster, ClientSession session, int base, int n) {
        for (int i = 0; i < n; i++) {
            // Values of a few hundred bytes, so the increments' entry files span several reads.
            cluster.submit(session, put("k" + (base + i), ("v" + i).repeat(60)));
        }
    }

    private static long lastIndexOf(int backup) throws IOException {
        return BackupManifest.read(chain.get(backup)).lastIndex();
    }

    @Test
    void aParallelRestoreWritesExactlyWhatTheSequentialOneWrites() throws Exception {
        for (long target : new long[] {BackupRestore.LATEST, lastIndexOf(4) + 7}) {
            Path seq = tmp.resolve("seq-" + target);
            Path par = tmp.resolve("par-" + target);
            BackupRestore.Result s = BackupRestore.restore(chain, List.of(seq), target, null, 1, null).get(0);
            BackupRestore.Result p = BackupRestore.restore(chain, List.of(par), target, null, 4, null).get(0);
            assertEquals(target == BackupRestore.LATEST ? lastIndexOf(INCREMENTS) : target, s.lastIndex());
            assertEquals(s.lastIndex(), p.lastIndex());
            assertEquals(s.lastTerm(), p.lastTerm());
            assertSameFiles(seq, par);
            // And the sequential path is the one restores always took: the single-directory call.
            Path old = tmp.resolve("old-" + target);
            BackupRestore.restore(chain, old, target);
            assertSameFiles(seq, old);
        }
    }

    @Test
    void severalNodesAreRestoredAtOnceEachAsASingleRestoreWouldWriteIt() throws Exception {
        Path single = tmp.resolve("single");
        BackupRestore.restore(chain, single, BackupRestore.LATEST);
        List<Path> nodes = List.of(tmp.resolve("nodes/n1"), tmp.resolve("nodes/n2"), tmp.resolve("nodes/n3"));
        AtomicLong read = new AtomicLong();
        List<BackupRestore.Result> results = BackupRestore.restore(chain, nodes, BackupRestore.LATEST, null, 3,
                read::addAndGet);
        assertEquals(nodes, results.stream().map(BackupRestore.Result::dataDir).toList());
        for (Path n : nodes) {
            assertSameFiles(single, n);
        }
        long planned = BackupRestore.bytesToRead(BackupChain.verify(chain), BackupRestore.LATEST, nodes.size());
        // The workers' reads summed: the chain verified once, copied three times, plus the manifests.
        assertTrue(read.get() >= planned && read.get() <= planned + 64 * 1024,
                "read " + read.get() + " bytes, expected about " + planned);
        assertTrue(planned > BackupRestore.bytesToRead(BackupChain.verify(chain), BackupRestore.LATEST, 1));
    }

    @Test
    void aDamagedIncrementInTheMiddleOfTheChainFailsTheWholeRestoreNamingItAndLeavesNothing() throws Exception {
        List<Path> copy = copyChain(tmp.resolve("damaged"));
        Path bad = copy.get(5).resolve(EntryFile.NAME);
        flipByte(bad, Files.size(bad) / 2);
        List<Path> nodes = List.of(tmp.resolve("damaged-out/n1"), tmp.resolve("damaged-out/n2"));
        BackupException e = assertThrows(BackupException.class,
                () -> BackupRestore.restore(copy, nodes, BackupRestore.LATEST, null, 4, null));
        assertEquals(bad, e.file(), e.getMessage());
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertNothingLeftIn(tmp.resolve("damaged-out"));
    }

    @Test
    void aDirectoryThatFailsWhileItIsWrittenFailsTheRestoreAndNoDirectoryIsLeftBehind() throws Exception {
        for (int parallelism : new int[] {1, 3}) {
            Path out = tmp.resolve("failing-out-" + parallelism);
            List<Path> nodes = List.of(out.resolve("n1"), out.resolve("n2"), out.resolve("n3"));
            // n2's log cannot be written (a full disk, say): n1's and n3's finished work goes too,
            // and the error is n2's, not that of a directory stopped because n2 failed.
            FileIo failing = new FailingFileIo(FileIo.real(), p -> p.toString().contains(".partial-n2-")
                    && p.toString().contains("/" + BackupRestore.LOG_DIR + "/"));
            IOException e = assertThrows(IOException.class, () -> BackupRestore.restore(failing, chain, nodes,
                    BackupRestore.LATEST, null, SegmentedLogStorage.Options.defaults(), parallelism, null));
            assertTrue(e.getMessage().contains("no space left (test)"), e.toString());
            assertNothingLeftIn(out);
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeAnythingIsWritten() throws Exception {
        Path out = tmp.resolve("twice");
        BackupException twice = assertThrows(BackupException.class, () -> BackupRestore.restore(chain,
                List.of(out.resolve("n1"), out.resolve("n1")), BackupRestore.LATEST, null, 2, null));
        assertTrue(twice.getMessage().contains("is named twice"), twice.getMessage());
        assertFalse(Files.exists(out.resolve("n1")));
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> BackupRestore.restore(chain,
                List.of(out.resolve("n9")), BackupRestore.LATEST, null, 0, null));
        assertTrue(zero.getMessage().contains("parallelism must be at least 1"), zero.getMessage());
    }

    // -------------------------------------------------------------------------------------------

    /**
     * Every file under {@code a} and {@code b}, by relative path, with the same bytes; the log's
     * lock file says only who held it when (a pid and a time), so its bytes are not compared.
     */
    private static void assertSameFiles(Path a, Path b) throws IOException {
        Map<String, byte[]> fa = files(a);
        Map<String, byte[]> fb = files(b);
        assertEquals(fa.keySet(), fb.keySet(), a + " and " + b + " hold the same files");
        assertFalse(fa.isEmpty());
        for (String name : fa.keySet()) {
            if (Path.of(name).getFileName().toString().equals("LOCK")) {
                continue;
            }
            assertArrayEquals(fa.get(name), fb.get(name), name + " differs between " + a + " and " + b);
        }
    }

    private static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private static void assertNothingLeftIn(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> left = s.toList();
            assertTrue(left.isEmpty(), "a failed restore leaves no data or partial directory behind: " + left);
        }
    }

    private static List<Path> copyChain(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path dir : chain) {
            Path to = Files.createDirectories(root.resolve(dir.getFileName()));
            try (Stream<Path> s = Files.list(dir)) {
                for (Path f : s.toList()) {
                    Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            out.add(to);
        }
        return out;
    }

    private static void flipByte(Path file, long at) throws IOException {
        byte[] b = Files.readAllBytes(file);
        b[(int) at] ^= 0x5a;
        Files.write(file, b);
    }

    /** The real file system, except that a write to a file {@code failWrites} picks fails as a full disk would. */
    private static final class FailingFileIo extends ForwardingFileIo {
        private final Predicate<Path> failWrites;

        FailingFileIo(FileIo io, Predicate<Path> failWrites) {
            super(io);
            this.failWrites = failWrites;
        }

        @Override
        public Handle open(Path file) throws IOException {
            Handle h = delegate.open(file);
            if (!failWrites.test(file.toAbsolutePath())) {
                return h;
            }
            return new ForwardingHandle(h) {
                @Override
                public void write(ByteBuffer src, long position) throws IOException {
                    throw new IOException(file + ": no space left (test)");
                }
            };
        }
    }
}
