package dev.raftkit.storage.backup;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftListener;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.testkit.runtime.LocalNetwork;
import dev.raftkit.testkit.runtime.MapStateMachine;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups of a live 3-node cluster (docs/architecture.md, section Storage, issue 6): node 1 runs on the durable
 * {@link SegmentedLogStorage} and {@link FileSnapshotStore}, snapshots every 30 entries, and is
 * backed up online (as a follower) while clients keep writing. The chains are built once here and
 * only read afterwards: each test copies what it damages.
 */
class BackupChainTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String CLUSTER = "kv-test";

    @TempDir
    static Path tmp;

    private static RecordingMachine machine;
    private static SegmentedLogStorage node1Log;
    /** The store node 1's server writes to: the backup service copies snapshots out of the same instance. */
    private static FileSnapshotStore node1Store;
    private static final AtomicInteger snapshotsTaken = new AtomicInteger();
    /** Root A: full, incremental, incremental. */
    private static Path rootA;
    private static final List<Path> chainA = new ArrayList<>();
    private static final List<BackupService.Result> resultsA = new ArrayList<>();
    /** Node 1's first log index just before each incremental of chain A (the pin must keep it low). */
    private static final List<Long> firstIndexBeforeIncrement = new ArrayList<>();
    private static final AtomicInteger writtenDuringBackup = new AtomicInteger();
    /** Root B: another cluster's chain (same nodes, another cluster id). */
    private static final List<Path> chainB = new ArrayList<>();
    /** Root D: full + incremental, encrypted with {@link #key}. */
    private static final List<Path> chainD = new ArrayList<>();
    private static BackupKey key;
    private static Path node1DataDir;
    /** Root C: a full backup, then an incremental that had to fall back to full. */
    private static BackupService.Result fallback;
    private static long firstIndexAtFallback;
    private static long pinnedFromAtFallback;
    /** Root E: a full backup and an incremental stepped by hand, and the progress seen between the steps. */
    private static final List<BackupService.Progress> progressBetweenSteps = new ArrayList<>();
    /** Root E's full backup: the progress seen at each read of the snapshot it copies. */
    private static final List<BackupService.Progress> progressWhileCopying = new ArrayList<>();
    private static long snapshotBytesE;
    private static long entriesE;
    /** Root F: full, incremental, differential, incremental. */
    private static final List<BackupService.Result> resultsF = new ArrayList<>();
    private static long firstIndexBeforeDifferential;

    @BeforeAll
    static void takeBackupsOfALiveCluster() throws Exception {
        Path node1Dir = tmp.resolve("node1");
        node1DataDir = node1Dir;
        try (RuntimeCluster cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), (id, b) -> {
            b.snapshotThresholds(30, 1L << 30).snapshotsToKeep(2);
            if (id == 1) {
                machine = new RecordingMachine();
                try {
                    node1Log = SegmentedLogStorage.open(node1Dir.resolve("log"), SegmentedLogStorage.Options.defaults()
                            .withSegmentBytes(4096).withPreallocate(false).withCacheBytes(1 << 20));
                    node1Store = FileSnapshotStore.open(node1Dir.resolve("snapshots"));
                    b.logStorage(node1Log).snapshotStore(node1Store)
                            .stateMachine(machine).listener(new RaftListener() {
                                @Override
                                public void onSnapshotTaken(SnapshotDescriptor snapshot) {
                                    snapshotsTaken.incrementAndGet();
                                }
                            });
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        })) {
            cluster.startAll();
            ExecutorService writers = Executors.newSingleThreadExecutor();
            try {
                ClientSession session = cluster.openSession();
                // Back up from node 1 while it follows: a follower serves backups as well as the leader.
                cluster.awaitLeader();
                if (cluster.server(1).status().isLeader()) {
                    cluster.server(1).transferLeadership(2).get(10, TimeUnit.SECONDS);
                }
                RaftServer node1 = cluster.server(1);
                rootA = tmp.resolve("backups-a");
                BackupService a = new BackupService(node1, node1Store, CLUSTER, rootA);

                write(cluster, session, 0, 40);
                resultsA.add(whileWriting(writers, cluster, session, 1000, a::full));
                for (int round = 1; round <= 2; round++) {
                    int before = snapshotsTaken.get();
                    write(cluster, session, round * 100, 70); // beyond the snapshot threshold: compactions run
                    await().atMost(WAIT).until(() -> snapshotsTaken.get() > before);
                    firstIndexBeforeIncrement.add(node1Log.firstIndex());
                    resultsA.add(whileWriting(writers, cluster, session, 1000 + round * 100, a::incremental));
                }
                resultsA.forEach(r -> chainA.add(r.backup().dir()));
                await().atMost(WAIT).until(() -> node1.status().applied() >= resultsA.get(2).manifest().lastIndex());

                BackupService b = new BackupService(node1, node1Store, "another-cluster", tmp.resolve("backups-b"));
                chainB.add(b.full().backup().dir());
                write(cluster, session, 500, 10);
                chainB.add(b.incremental().backup().dir());

                key = BackupKey.createFile(tmp.resolve("backup.key"), new SecureRandom());
                BackupService d = new BackupService(node1, node1Store, CLUSTER, tmp.resolve("backups-d"), key);
                chainD.add(d.full().backup().dir());
                write(cluster, session, 700, 10);
                chainD.add(d.incremental().backup().dir());
                await().atMost(WAIT).until(() -> node1.status().applied() >= lastIndexOf(chainD));

                // Root C: the pin is released (as after a restart), snapshots compact past the last
                // backup, and the incremental must fall back to a full backup.
                BackupService c = new BackupService(node1, node1Store, CLUSTER, tmp.resolve("backups-c"));
                long fullAt = c.full().manifest().lastIndex();
                node1.releaseLogRetention();
                write(cluster, session, 600, 200);
                await().atMost(WAIT).until(() -> node1Log.firstIndex() > fullAt + 1);
                firstIndexAtFallback = node1Log.firstIndex();
                fallback = c.incremental();
                pinnedFromAtFallback = node1.logRetainedFrom();

                // Root E: steps run by hand, so what a caller polling the service sees in between is fixed.
                BackupService[] e = new BackupService[1];
                e[0] = new BackupService(node1, watching(node1Store, () -> progressWhileCopying.add(e[0].progress())),
                        CLUSTER, tmp.resolve("backups-e"));
                BackupService.Result fullE = stepped(e[0], e[0]::fullAsync);
                snapshotBytesE = fullE.manifest().file(BackupLayout.SNAPSHOT).sizeBytes();
                write(cluster, session, 900, 20);
                BackupService.Result incE = stepped(e[0], e[0]::incrementalAsync);
                entriesE = incE.manifest().lastIndex() - incE.manifest().prevIndex();

                // Root F: full, incremental, differential, incremental, with compactions between:
                // the differential's first entries are gone from node 1's log by the time it is taken.
                BackupService f = new BackupService(node1, node1Store, CLUSTER, tmp.resolve("backups-f"));
                resultsF.add(f.full());
                for (BackupKind kind : List.of(BackupKind.INCREMENTAL, BackupKind.DIFFERENTIAL, BackupKind.INCREMENTAL)) {
                    int before = snapshotsTaken.get();
                    write(cluster, session, 2000 + resultsF.size() * 100, 70);
                    await().atMost(WAIT).until(() -> snapshotsTaken.get() > before);
                    if (kind == BackupKind.DIFFERENTIAL) {
                        firstIndexBeforeDifferential = node1Log.firstIndex();
                    }
                    resultsF.add(f.take(kind));
                }
                await().atMost(WAIT).until(() -> node1.status().applied() >= resultsF.get(3).manifest().lastIndex());
            } finally {
                writers.shutdownNow();
            }
        }
    }

    private interface Backup {
        BackupService.Result take() throws IOException;
    }

    /** Takes a backup while another thread keeps submitting writes to the cluster. */
    private static BackupService.Result whileWriting(ExecutorService writers, RuntimeCluster cluster,
                                                     ClientSession session, int base, Backup backup) throws Exception {
        AtomicLong stop = new AtomicLong();
        CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
            for (int i = 0; stop.get() == 0 || i < 5; i++) {
                cluster.submit(session, put("w" + (base + i), "x" + i));
                writtenDuringBackup.incrementAndGet();
                if (i > 200) {
                    break;
                }
            }
        }, writers);
        await().atMost(WAIT).until(() -> writtenDuringBackup.get() > 0);
        BackupService.Result r = backup.take();
        stop.set(1);
        load.get(30, TimeUnit.SECONDS);
        return r;
    }

    /**
     * Runs {@code start}'s file steps on this thread one at a time, noting {@code service}'s
     * progress before each and once it is done.
     */
    private static BackupService.Result stepped(BackupService service,
            java.util.function.Function<java.util.concurrent.Executor, CompletableFuture<BackupService.Result>> start)
            throws Exception {
        java.util.concurrent.LinkedBlockingQueue<Runnable> steps = new java.util.concurrent.LinkedBlockingQueue<>();
        CompletableFuture<BackupService.Result> f = start.apply(steps::add);
        while (!f.isDone()) {
            Runnable step = steps.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(step, "the backup took no step for " + WAIT);
            progressBetweenSteps.add(service.progress());
            step.run();
        }
        progressBetweenSteps.add(service.progress());
        return f.get();
    }

    /** {@code store}, calling {@code onRead} before every read of a snapshot's input stream. */
    private static dev.raftkit.spi.SnapshotStore watching(FileSnapshotStore store, Runnable onRead) {
        return new dev.raftkit.spi.SnapshotStore() {
            @Override
            public dev.raftkit.spi.SnapshotWriter begin(dev.raftkit.core.SnapshotMeta meta) throws IOException {
                return store.begin(meta);
            }

            @Override
            public java.util.Optional<SnapshotDescriptor> latest() throws IOException {
                return store.latest();
            }

            @Override
            public dev.raftkit.spi.SnapshotReader open(SnapshotDescriptor snapshot) throws IOException {
                dev.raftkit.spi.SnapshotReader r = store.open(snapshot);
                return new dev.raftkit.spi.SnapshotReader() {
                    @Override
                    public SnapshotDescriptor descriptor() {
                        return r.descriptor();
                    }

                    @Override
                    public java.io.InputStream input() throws IOException {
                        return new java.io.FilterInputStream(r.input()) {
                            @Override
                            public int read() throws IOException {
                                onRead.run();
                                return super.read();
                            }

                            @Override
                            public int read(byte[] b, int off, int len) throws IOException {
                                onRead.run();
                                return super.read(b, off, len);
                            }
                        };
                    }

                    @Override
                    public byte[] chunk(long offset, int maxBytes) throws IOException {
                        return r.chunk(offset, maxBytes);
                    }

                    @Override
                    public void verify() throws IOException {
                        r.verify();
                    }

                    @Override
                    public void close() throws IOException {
                        r.close();
                    }
                };
            }

            @Override
            public void retain(int count) throws IOException {
                store.retain(count);
            }

            @Override
            public void close() {
                // node 1's server closes the store it writes to
            }
        };
    }

    private static void write(RuntimeCluster cluster, ClientSession session, int base, int n) {
        for (int i = 0; i < n; i++) {
            cluster.submit(session, put("k" + (base + i), "v" + i));
        }
    }

    // -------------------------------------------------------------------------------------------

    @Test
    void fullPlusTwoIncrementalsRestoreToTheLiveStateAtEachChainPoint() throws Exception {
        assertEquals(List.of(BackupKind.FULL, BackupKind.INCREMENTAL, BackupKind.INCREMENTAL),
                resultsA.stream().map(r -> r.manifest().kind()).toList());
        for (int n = 1; n <= 3; n++) {
            long last = resultsA.get(n - 1).manifest().lastIndex();
            Path data = tmp.resolve("restore-prefix-" + n);
            BackupRestore.Result r = BackupRestore.restore(chainA.subList(0, n), data, BackupRestore.LATEST);
            assertEquals(last, r.lastIndex());
            assertEquals(machine.digestAt(last), digestOfRestoredNode(data, last),
                    "the restored state equals the live state at index " + last + " (chain of " + n + ")");
        }
        assertTrue(writtenDuringBackup.get() > 0, "clients kept writing while the backups were taken");
    }

    @Test
    void aDifferentialHoldsEverythingSinceTheFullBackupAndRestoresWithoutTheIncrementsBeforeIt() throws Exception {
        assertEquals(List.of(BackupKind.FULL, BackupKind.INCREMENTAL, BackupKind.DIFFERENTIAL, BackupKind.INCREMENTAL),
                resultsF.stream().map(r -> r.manifest().kind()).toList());
        resultsF.forEach(r -> assertFalse(r.fellBackToFull(), r.fallbackReason()));
        BackupManifest full = resultsF.get(0).manifest();
        BackupManifest diff = resultsF.get(2).manifest();
        assertEquals(full.id(), diff.parentId());
        assertEquals(full.lastIndex(), diff.prevIndex());
        assertTrue(diff.lastIndex() > resultsF.get(1).manifest().lastIndex(), "it goes past the incremental before it");
        assertTrue(firstIndexBeforeDifferential > full.lastIndex() + 1, "node 1's log had dropped the entries after"
                + " the full backup (first index " + firstIndexBeforeDifferential + "): they came from the chain");
        assertEquals(diff.id(), resultsF.get(3).manifest().parentId(), "the next incremental follows the differential");
        assertTrue(resultsF.get(2).backup().dir().getFileName().toString().endsWith("-diff"));

        Path root = resultsF.get(0).backup().dir().getParent();
        BackupChain chain = BackupChain.discover(root);
        assertEquals(List.of(resultsF.get(0).backup().dir(), resultsF.get(2).backup().dir(),
                resultsF.get(3).backup().dir()), chain.backups().stream().map(BackupChain.Backup::dir).toList());
        for (BackupService.Result at : List.of(resultsF.get(1), resultsF.get(2), resultsF.get(3))) {
            long last = at.manifest().lastIndex();
            BackupChain path = BackupChain.plan(root, null, last);
            Path data = tmp.resolve("restore-diff-" + last);
            BackupRestore.restore(path.backups().stream().map(BackupChain.Backup::dir).toList(), data, last);
            assertEquals(machine.digestAt(last), digestOfRestoredNode(data, last), "state at " + last + " through "
                    + path.describePath());
        }
    }

    @Test
    void aRunningBackupSaysWhatItDoesAndHowFarItHasGot() {
        BackupService.Progress snapshotting = new BackupService.Progress(BackupKind.FULL, "taking a snapshot", 0, 0,
                "bytes");
        BackupService.Progress copyingEntries = new BackupService.Progress(BackupKind.INCREMENTAL, "copying entries", 0,
                entriesE, "entries");
        BackupService.Progress digesting = new BackupService.Progress(BackupKind.INCREMENTAL, "reading the state digest",
                0, 0, "entries");
        BackupService.Progress fullBarrier = new BackupService.Progress(BackupKind.FULL,
                "waiting to apply every acknowledged write", 0, 0, "bytes");
        BackupService.Progress incrementalBarrier = new BackupService.Progress(BackupKind.INCREMENTAL,
                "waiting to apply every acknowledged write", 0, 0, "entries");
        List<BackupService.Progress> p = progressBetweenSteps;
        // Full: waiting for a read index to be applied, for the node's snapshot, done; incremental:
        // the read index, the node's state digest, its entries counted (one batch: these few fit
        // in one read), done.
        assertEquals(java.util.Arrays.asList(fullBarrier, snapshotting, null, incrementalBarrier, digesting,
                copyingEntries, null), p);
        // The snapshot copy, read by read: the bytes so far of the snapshot's size, growing to it.
        assertFalse(progressWhileCopying.isEmpty());
        long before = -1;
        for (BackupService.Progress c : progressWhileCopying) {
            assertEquals("copying the snapshot", c.phase());
            assertEquals(snapshotBytesE, c.total());
            assertTrue(c.done() > before || c.done() == before && c.done() == snapshotBytesE, c.toString());
            before = c.done();
        }
        assertEquals(snapshotBytesE, before, "the last read finds everything copied");
    }

    @Test
    void aRestoreReportsTheBytesItReadsAndTheChainSaysHowManyToExpect() throws Exception {
        for (List<Path> chain : List.of(chainA, chainD)) {
            BackupKey k = chain == chainD ? key : null;
            long planned = BackupRestore.bytesToRead(BackupChain.verify(chain, k), BackupRestore.LATEST);
            AtomicLong read = new AtomicLong();
            Path data = tmp.resolve("restore-counted-" + (k == null ? "plain" : "encrypted"));
            BackupRestore.restore(chain, data, BackupRestore.LATEST, k, read::addAndGet);
            // Besides the data files the manifests are read (a few hundred bytes each, a few times).
            assertTrue(read.get() >= planned && read.get() <= planned + 16 * 1024,
                    "read " + read.get() + " bytes, expected about " + planned);
        }
    }

    @Test
    void pointInTimeRestoreEqualsTheStateAtThatIndex() throws Exception {
        long from = resultsA.get(1).manifest().lastIndex();
        long to = resultsA.get(2).manifest().lastIndex();
        long mid = (from + to) / 2;
        assertTrue(from < mid && mid < to);
        for (long k : new long[] {resultsA.get(0).manifest().lastIndex(), mid}) {
            Path data = tmp.resolve("restore-at-" + k);
            assertEquals(k, BackupRestore.restore(chainA, data, k).lastIndex());
            assertEquals(machine.digestAt(k), digestOfRestoredNode(data, k), "state at index " + k);
        }
        BackupException outside = assertThrows(BackupException.class,
                () -> BackupRestore.restore(chainA, tmp.resolve("restore-past-end"), to + 1));
        assertTrue(outside.getMessage().contains("cannot restore to index " + (to + 1)), outside.getMessage());
        assertFalse(Files.exists(tmp.resolve("restore-past-end")));
    }

    @Test
    void aRestoredDirectorySeedsANewThreeNodeClusterThatKeepsServing() throws Exception {
        long last = resultsA.get(2).manifest().lastIndex();
        List<Path> dirs = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
            Path d = tmp.resolve("seed-" + id);
            BackupRestore.restore(chainA, d, BackupRestore.LATEST);
            dirs.add(d);
        }
        List<RaftServer> servers = new ArrayList<>();
        List<MapStateMachine> machines = new ArrayList<>();
        try (LocalNetwork net = new LocalNetwork()) {
            for (long id = 1; id <= 3; id++) {
                MapStateMachine sm = new MapStateMachine();
                machines.add(sm);
                servers.add(startOn(dirs.get((int) id - 1), id, net, sm));
            }
            await().atMost(WAIT).until(() -> servers.stream().anyMatch(s -> s.status().isLeader()));
            RaftServer leader = servers.stream().filter(s -> s.status().isLeader()).findFirst().orElseThrow();
            leader.submit(put("after-restore", "yes")).get(10, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> machines.stream().allMatch(m -> m.digest() == machines.get(0).digest()
                    && MapStateMachine.string(m.query(MapStateMachine.bytes("after-restore"))).equals("yes")));
            assertTrue(servers.stream().allMatch(s -> s.status().applied() > last));
        } finally {
            servers.forEach(RaftServer::close);
        }
    }

    @Test
    void verifyAcceptsTheChainsAndDiscoverFindsTheNewest() throws Exception {
        BackupChain verified = BackupChain.verify(chainA);
        assertEquals(3, verified.backups().size());
        BackupChain found = BackupChain.discover(rootA);
        assertEquals(chainA, found.backups().stream().map(BackupChain.Backup::dir).toList());
        assertEquals(CLUSTER, found.last().manifest().clusterId());
        assertEquals(resultsA.get(1).manifest().id(), found.last().manifest().parentId());
    }

    @Test
    void aFlippedByteInAnyBackupFileIsRefusedNamingThatFile() throws Exception {
        int cases = 0;
        for (int b = 0; b < chainA.size(); b++) {
            List<Path> files;
            try (Stream<Path> s = Files.list(chainA.get(b))) {
                files = s.sorted().toList();
            }
            for (Path file : files) {
                long size = Files.size(file);
                for (long offset : new long[] {0, size / 2, size - 1}) {
                    List<Path> copy = copyChain("flip-" + cases);
                    Path damaged = copy.get(b).resolve(file.getFileName());
                    byte[] bytes = Files.readAllBytes(damaged);
                    bytes[(int) offset] ^= 0x10;
                    Files.write(damaged, bytes);
                    BackupException verify = assertThrows(BackupException.class, () -> BackupChain.verify(copy),
                            "flipped byte at " + offset + " of " + damaged);
                    assertEquals(damaged, verify.file(), verify.getMessage());
                    Path data = tmp.resolve("restore-flip-" + cases);
                    BackupException restore = assertThrows(BackupException.class,
                            () -> BackupRestore.restore(copy, data, BackupRestore.LATEST));
                    assertEquals(damaged, restore.file());
                    assertNoRestoreLeftovers(data);
                    cases++;
                }
            }
        }
        assertEquals(3 * 2 * 3, cases, "manifest + data file of each of three backups, three offsets each");
    }

    @Test
    void aMissingIncrementIsRefusedNamingTheIncrementThatNoLongerFits() throws Exception {
        List<Path> copy = copyChain("missing");
        Path second = copy.get(2).resolve(BackupManifest.FILE_NAME);
        BackupException e = assertThrows(BackupException.class, () -> BackupChain.verify(List.of(copy.get(0), copy.get(2))));
        assertEquals(second, e.file());
        assertTrue(e.getMessage().contains("missing or out of order"), e.getMessage());

        // In a root: the increment whose parent is gone is named.
        Path root = copy.get(0).getParent();
        FileIo.real().deleteRecursively(copy.get(1));
        BackupException discovered = assertThrows(BackupException.class, () -> BackupChain.discover(root));
        assertEquals(second, discovered.file());
        Path data = tmp.resolve("restore-missing");
        assertThrows(BackupException.class, () -> BackupRestore.restoreLatest(root, data));
        assertNoRestoreLeftovers(data);
    }

    @Test
    void incrementsOutOfOrderAreRefused() throws Exception {
        List<Path> copy = copyChain("order");
        BackupException swapped = assertThrows(BackupException.class,
                () -> BackupChain.verify(List.of(copy.get(0), copy.get(2), copy.get(1))));
        assertEquals(copy.get(2).resolve(BackupManifest.FILE_NAME), swapped.file());
        BackupException noFull = assertThrows(BackupException.class,
                () -> BackupChain.verify(List.of(copy.get(1), copy.get(0))));
        assertEquals(copy.get(1).resolve(BackupManifest.FILE_NAME), noFull.file());
        assertTrue(noFull.getMessage().contains("must start with a full backup"), noFull.getMessage());
    }

    @Test
    void aChainMixingClustersIsRefused() throws Exception {
        BackupException e = assertThrows(BackupException.class,
                () -> BackupChain.verify(List.of(chainA.get(0), chainB.get(1))));
        assertEquals(chainB.get(1).resolve(BackupManifest.FILE_NAME), e.file());
        assertTrue(e.getMessage().contains("another-cluster"), e.getMessage());
        BackupChain.verify(chainB); // that cluster's own chain is fine
    }

    @Test
    void logRetentionKeepsTheEntriesTheNextIncrementNeeds() {
        assertTrue(snapshotsTaken.get() >= 2, "node 1 took snapshots between the backups: " + snapshotsTaken.get());
        for (int i = 0; i < 2; i++) {
            long needed = resultsA.get(i).manifest().lastIndex() + 1;
            assertTrue(firstIndexBeforeIncrement.get(i) <= needed, "compaction kept entry " + needed
                    + " for increment " + (i + 1) + "; the log started at " + firstIndexBeforeIncrement.get(i));
            assertFalse(resultsA.get(i + 1).fellBackToFull(), resultsA.get(i + 1).fallbackReason());
        }
    }

    @Test
    void anIncrementalWhoseEntriesWereCompactedFallsBackToAFullBackupAndSaysSo() throws Exception {
        assertTrue(fallback.fellBackToFull());
        assertEquals(BackupKind.FULL, fallback.manifest().kind());
        assertNotNull(fallback.manifest().fallbackReason(), "the manifest records why");
        assertTrue(fallback.fallbackReason().contains("no longer holds entry"), fallback.fallbackReason());
        assertEquals(fallback.manifest().lastIndex() + 1, pinnedFromAtFallback, "the new full backup pins the log");
        assertTrue(firstIndexAtFallback > 1);
        // The new full backup starts the root's newest chain, and it restores.
        BackupChain newest = BackupChain.discover(fallback.backup().dir().getParent());
        assertEquals(List.of(fallback.backup().dir()), newest.backups().stream().map(BackupChain.Backup::dir).toList());
        long at = fallback.manifest().lastIndex();
        Path data = tmp.resolve("restore-fallback");
        BackupRestore.restoreLatest(fallback.backup().dir().getParent(), data);
        assertEquals(machine.digestAt(at), digestOfRestoredNode(data, at));
    }

    @Test
    void restoreRefusesADataDirectoryThatIsInUse() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("occupied"));
        Files.writeString(data.resolve("something"), "x");
        BackupException e = assertThrows(BackupException.class,
                () -> BackupRestore.restore(chainA, data, BackupRestore.LATEST));
        assertEquals(data, e.file());
        assertEquals(List.of(data.resolve("something")), Files.list(data).toList());
    }

    @Test
    void encryptedBackupsRestoreWithTheirKeyAndHoldNoPlaintext() throws Exception {
        long last = lastIndexOf(chainD);
        BackupChain verified = BackupChain.verify(chainD, key);
        assertTrue(verified.backups().stream().allMatch(b -> key.id().equals(b.manifest().keyId())));
        assertEquals(chainD, BackupChain.discover(chainD.get(0).getParent(), key).backups().stream()
                .map(BackupChain.Backup::dir).toList());
        for (Path file : List.of(chainD.get(0).resolve(BackupLayout.SNAPSHOT), chainD.get(1).resolve(EntryFile.NAME))) {
            byte[] bytes = Files.readAllBytes(file);
            assertEquals("RKBKGCM1", new String(bytes, 0, 8, java.nio.charset.StandardCharsets.US_ASCII), file.toString());
            assertFalse(new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).contains("k70"),
                    "no key or value in the clear in " + file);
        }
        Path data = tmp.resolve("restore-encrypted");
        assertEquals(last, BackupRestore.restore(chainD, data, BackupRestore.LATEST, key).lastIndex());
        assertEquals(machine.digestAt(last), digestOfRestoredNode(data, last));
    }

    @Test
    void anEncryptedBackupReadWithAWrongKeyIsRefusedAsEncryptedWithADifferentKey() throws Exception {
        BackupKey other = BackupKey.generate(new SecureRandom());
        BackupException wrong = assertThrows(BackupException.class, () -> BackupChain.verify(chainD, other));
        assertEquals(chainD.get(0).resolve(BackupManifest.FILE_NAME), wrong.file());
        assertTrue(wrong.getMessage().contains("backup " + chainD.get(0).getFileName()
                + " was encrypted with a different key (key id " + key.id() + "; the key given has id " + other.id()
                + ")"), wrong.getMessage());
        Path data = tmp.resolve("restore-wrong-key");
        assertThrows(BackupException.class, () -> BackupRestore.restore(chainD, data, BackupRestore.LATEST, other));
        assertNoRestoreLeftovers(data);

        BackupException none = assertThrows(BackupException.class, () -> BackupChain.verify(chainD));
        assertTrue(none.getMessage().contains("is encrypted (key id " + key.id() + "); give its key file"),
                none.getMessage());
        BackupException plain = assertThrows(BackupException.class, () -> BackupChain.verify(chainA, key));
        assertTrue(plain.getMessage().contains("is not encrypted, but a backup key"), plain.getMessage());
    }

    @Test
    void aTamperedManifestOrFileOfAnEncryptedBackupIsRefused() throws Exception {
        // The manifest edited and its CRC32C recomputed, as someone without the key could: the HMAC fails.
        List<Path> forged = copyChain("forged-manifest", chainD);
        Path manifest = forged.get(1).resolve(BackupManifest.FILE_NAME);
        String text = Files.readString(manifest);
        String body = text.substring(0, text.indexOf("crc32c="));
        String edited = body.replace("node=1\n", "node=2\n");
        assertFalse(edited.equals(body));
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(edited.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.writeString(manifest, edited + "crc32c=" + BackupFile.hex((int) crc.getValue())
                + text.substring(text.indexOf("\nhmac-sha256=")));
        BackupException e = assertThrows(BackupException.class, () -> BackupChain.verify(forged, key));
        assertEquals(manifest, e.file());
        assertTrue(e.getMessage().contains("fails authentication under key " + key.id()), e.getMessage());

        // The HMAC line removed: refused too.
        Files.writeString(manifest, text.substring(0, text.indexOf("hmac-sha256=")));
        assertTrue(assertThrows(BackupException.class, () -> BackupChain.verify(forged, key)).getMessage()
                .contains("has no hmac-sha256 line"));

        // A data file whose ciphertext changed, with the manifest's size and CRC32C fixed up to match
        // (which needs the key to re-sign; done here with it): GCM still refuses the chunk.
        List<Path> flipped = copyChain("forged-entries", chainD);
        Path entries = flipped.get(1).resolve(EntryFile.NAME);
        byte[] bytes = Files.readAllBytes(entries);
        bytes[BackupCipher.HEADER_BYTES + 3] ^= 0x01;
        Files.write(entries, bytes);
        BackupManifest m = BackupManifest.read(flipped.get(1), key);
        BackupManifest resigned = new BackupManifest(m.id(), m.clusterId(), m.kind(), m.sequence(), m.parentId(),
                m.sourceNode(), m.prevIndex(), m.prevTerm(), m.lastIndex(), m.lastTerm(), m.conf(), m.createdAt(),
                m.fallbackReason(), List.of(BackupFile.measure(entries)), m.keyId());
        Files.write(flipped.get(1).resolve(BackupManifest.FILE_NAME), resigned.encode(key));
        BackupException chunk = assertThrows(BackupException.class, () -> BackupChain.verify(flipped, key));
        assertEquals(entries, chunk.file());
        assertTrue(chunk.getMessage().contains("chunk 0 fails authentication"), chunk.getMessage());
    }

    @Test
    void dataAndBackupFilesArePrivateToTheServiceUser() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                tmp.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX permissions");
        Path restored = tmp.resolve("restore-private");
        BackupRestore.restore(chainA, restored, BackupRestore.LATEST);
        int checked = 0;
        for (Path top : List.of(node1DataDir, rootA, chainD.get(0).getParent(), restored)) {
            try (Stream<Path> s = Files.walk(top)) {
                for (Path p : s.toList()) {
                    String perms = java.nio.file.attribute.PosixFilePermissions.toString(
                            Files.getPosixFilePermissions(p));
                    assertEquals(Files.isDirectory(p) ? "rwx------" : "rw-------", perms, p.toString());
                    checked++;
                }
            }
        }
        assertTrue(checked > 20, "checked " + checked + " paths");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(tmp.resolve("backup.key"))));
    }

    // -------------------------------------------------------------------------------------------

    private static long lastIndexOf(List<Path> chain) throws IOException {
        Path dir = chain.get(chain.size() - 1);
        return BackupManifest.read(dir, dir.startsWith(tmp.resolve("backups-d")) ? key : null).lastIndex();
    }

    private static List<Path> copyChain(String name) throws IOException {
        return copyChain(name, chainA);
    }

    private static List<Path> copyChain(String name, List<Path> chain) throws IOException {
        Path root = Files.createDirectories(tmp.resolve("copies").resolve(name));
        List<Path> out = new ArrayList<>();
        for (Path dir : chain) {
            Path to = Files.createDirectory(root.resolve(dir.getFileName()));
            try (Stream<Path> s = Files.list(dir)) {
                for (Path f : s.toList()) {
                    Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            out.add(to);
        }
        return out;
    }

    private static void assertNoRestoreLeftovers(Path data) throws IOException {
        assertFalse(Files.exists(data), "a refused restore leaves no data directory");
        try (Stream<Path> s = Files.list(data.getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(BackupLayout.PARTIAL_PREFIX)),
                    "and no partial one");
        }
    }

    /**
     * Starts node 1 alone on a restored directory (its peers do not exist, so it can never lead):
     * it restores the snapshot and applies the restored committed entries by itself.
     */
    private static long digestOfRestoredNode(Path data, long lastIndex) throws IOException {
        MapStateMachine sm = new MapStateMachine();
        try (LocalNetwork net = new LocalNetwork(); RaftServer s = startOn(data, 1, net, sm)) {
            await().atMost(WAIT).until(() -> s.status().applied() == lastIndex);
            return sm.digest();
        }
    }

    private static RaftServer startOn(Path data, long id, LocalNetwork net, MapStateMachine sm) throws IOException {
        RaftConfig config = RaftConfig.builder(id).electionTicks(10).heartbeatTicks(2).randomSeed(id * 31).build();
        return RaftServer.builder(config)
                .logStorage(SegmentedLogStorage.open(data.resolve(BackupRestore.LOG_DIR)))
                .snapshotStore(FileSnapshotStore.open(data.resolve(BackupRestore.SNAPSHOT_DIR)))
                .stateMachine(sm).transport(net.transport(id)).tickMillis(20).start();
    }
}
