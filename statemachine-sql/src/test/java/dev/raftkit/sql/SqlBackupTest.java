package dev.raftkit.sql;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.ReadMode;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupException;
import dev.raftkit.storage.backup.BackupKind;
import dev.raftkit.storage.backup.BackupManifest;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.BackupService;
import dev.raftkit.testkit.runtime.LocalNetwork;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library's backups (docs/architecture.md, section Storage) work for SQL unchanged: a full and two incremental
 * backups of a live node running {@link SqlStateMachine} restore to the live digest, to any index
 * in between (point in time), and a damaged backup is refused.
 */
class SqlBackupTest {

    private static final Duration WAIT = RuntimeCluster.TIMEOUT;

    @TempDir
    Path tmp;

    @Test
    void fullAndIncrementalBackupsRestoreToTheLatestStateAndToAnyIndexAndRefuseADamagedChain() throws Exception {
        Path node1 = tmp.resolve("node1");
        FileSnapshotStore[] store = new FileSnapshotStore[1];
        TreeMap<Long, Integer> seqAtIndex = new TreeMap<>();
        List<BackupService.Result> backups = new ArrayList<>();
        String liveDigest;
        try (RuntimeCluster cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), (id, b) -> {
            b.snapshotThresholds(30, 1L << 30).stateMachine(new SqlStateMachine());
            if (id == 1) {
                try {
                    store[0] = FileSnapshotStore.open(node1.resolve("snapshots"));
                    b.logStorage(SegmentedLogStorage.open(node1.resolve("log"), SegmentedLogStorage.Options.defaults()
                            .withSegmentBytes(8192).withPreallocate(false))).snapshotStore(store[0]);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        })) {
            cluster.startAll();
            ClientSession session = cluster.openSession();
            cluster.submit(session, SqlOps.execute("CREATE TABLE ledger (seq INTEGER PRIMARY KEY, note TEXT, at TEXT)"));
            BackupService service = new BackupService(cluster.server(1), store[0], "sql-test", tmp.resolve("backups"));
            int seq = 0;
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 40; i++) {
                    seq++;
                    SqlResult.Ok ok = SqlOps.ok(cluster.submit(session, SqlOps.execute(SqlStatement.of(
                            "INSERT INTO ledger VALUES (?, hex(randomblob(16)), datetime('now'))", seq))));
                    seqAtIndex.put(ok.index(), seq);
                }
                if (round == 1) {
                    cluster.submit(session, SqlOps.execute("BACKUP TABLE ledger TO 'mid'"));
                }
                // A backup covers what node 1 has applied (its state digest is read there): let it
                // apply every write first, so the last backup holds the live state.
                long written = seqAtIndex.lastKey();
                await().atMost(WAIT).until(() -> cluster.server(1).status().applied() >= written);
                backups.add(round == 0 ? service.full() : service.incremental());
            }
            long last = backups.get(2).manifest().lastIndex();
            await().atMost(WAIT).until(() -> cluster.running().stream().allMatch(s -> s.status().applied() >= last));
            liveDigest = SqlOps.digestOf(cluster.server(1).read(SqlOps.digest(), ReadMode.STALE, last)
                    .get(5, TimeUnit.SECONDS));
        }
        assertEquals(List.of(BackupKind.FULL, BackupKind.INCREMENTAL, BackupKind.INCREMENTAL),
                backups.stream().map(r -> r.manifest().kind()).toList());
        assertFalse(backups.get(1).fellBackToFull(), backups.get(1).fallbackReason());
        List<Path> chain = backups.stream().map(r -> r.backup().dir()).toList();
        BackupChain.verify(chain);

        // Latest: the same database as the live cluster's, table backup included.
        long last = backups.get(2).manifest().lastIndex();
        Path latest = tmp.resolve("restore-latest");
        assertEquals(last, BackupRestore.restore(chain, latest, BackupRestore.LATEST).lastIndex());
        assertEquals(liveDigest, onRestoredNode(latest, last, sm -> SqlOps.digestOf(sm.query(SqlOps.digest()))));
        assertEquals("mid", onRestoredNode(tmp.resolve("restore-latest-2"), chain, last,
                sm -> Replicas.select(sm, "SHOW BACKUPS").value(0, 0)));

        // Point in time: an index inside the second increment holds exactly the rows written up to it.
        long from = backups.get(1).manifest().lastIndex();
        long at = seqAtIndex.ceilingKey(from + 10);
        int expected = seqAtIndex.get(at);
        Path pit = tmp.resolve("restore-pit");
        BackupRestore.restore(chain, pit, at);
        assertEquals(List.of((long) expected, (long) expected), onRestoredNode(pit, at,
                sm -> Replicas.select(sm, "SELECT max(seq), count(*) FROM ledger").rows().get(0)));

        // A flipped byte in the full backup's snapshot: refused, naming the file, nothing restored.
        Path damagedRoot = Files.createDirectories(tmp.resolve("damaged"));
        List<Path> copy = new ArrayList<>();
        for (Path dir : chain) {
            Path to = Files.createDirectory(damagedRoot.resolve(dir.getFileName()));
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
            copy.add(to);
        }
        Path image;
        try (Stream<Path> files = Files.list(copy.get(0))) {
            image = files.filter(f -> !f.getFileName().toString().equals(BackupManifest.FILE_NAME))
                    .max(Comparator.comparingLong(f -> f.toFile().length())).orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(image);
        bytes[bytes.length / 2] ^= 0x20;
        Files.write(image, bytes);
        Path refused = tmp.resolve("restore-damaged");
        BackupException e = assertThrows(BackupException.class,
                () -> BackupRestore.restore(copy, refused, BackupRestore.LATEST));
        assertEquals(image, e.file(), e.getMessage());
        assertFalse(Files.exists(refused), "a refused restore leaves no data directory");
        assertEquals(120, seqAtIndex.size());
    }

    private interface Probe<T> {
        T on(SqlStateMachine sm) throws Exception;
    }

    private <T> T onRestoredNode(Path dataDir, List<Path> chain, long index, Probe<T> probe) throws Exception {
        BackupRestore.restore(chain, dataDir, BackupRestore.LATEST);
        return onRestoredNode(dataDir, index, probe);
    }

    /**
     * Starts node 1 alone on a restored data directory (its peers do not exist, so it never leads):
     * it restores the backup's snapshot and applies the restored entries; then {@code probe} runs.
     */
    private <T> T onRestoredNode(Path dataDir, long index, Probe<T> probe) throws Exception {
        SqlStateMachine sm = new SqlStateMachine();
        RaftConfig config = RaftConfig.builder(1).electionTicks(10).heartbeatTicks(2).randomSeed(31).build();
        try (LocalNetwork net = new LocalNetwork();
             RaftServer s = RaftServer.builder(config)
                     .logStorage(SegmentedLogStorage.open(dataDir.resolve(BackupRestore.LOG_DIR)))
                     .snapshotStore(FileSnapshotStore.open(dataDir.resolve(BackupRestore.SNAPSHOT_DIR)))
                     .stateMachine(sm).transport(net.transport(1)).tickMillis(20).start()) {
            await().atMost(WAIT).until(() -> s.status().applied() == index);
            // Its apply thread is idle from here on (a lone node of three never commits anything
            // new, and nobody else reads it), so the probe may use the machine from this thread.
            return probe.on(sm);
        } finally {
            sm.close();
        }
    }
}
