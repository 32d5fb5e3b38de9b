package dev.raftkit.storage.backup;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.testkit.runtime.MapStateMachine;
import dev.raftkit.testkit.runtime.MutableClock;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * State digests in manifests, deep verification, the restore's own check and restore by time,
 * on backups of a live cluster whose leader stamps entries from a test clock moved by hand.
 */
class StateVerificationTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Instant START = Instant.parse("2026-12-07T09:00:00Z");

    @TempDir
    static Path tmp;

    private static RecordingMachine machine;
    /** Full (after 10 writes), incremental (10 more), incremental (10 more), taken from node 1. */
    private static final List<BackupService.Result> results = new ArrayList<>();
    private static final List<Path> chain = new ArrayList<>();

    @BeforeAll
    static void takeBackups() throws Exception {
        MutableClock clock = new MutableClock(START.toEpochMilli());
        try (RuntimeCluster cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), (id, b) -> {
            b.clock(clock).snapshotThresholds(1_000_000, 1L << 40);
            if (id == 1) {
                machine = new RecordingMachine();
                b.stateMachine(machine);
            }
        })) {
            cluster.startAll();
            cluster.awaitLeader();
            ClientSession session = cluster.openSession();
            RaftServer node1 = cluster.server(1);
            BackupService service = new BackupService(node1, cluster.snapshots(1), "times", tmp.resolve("backups"));
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 10; i++) {
                    clock.advance(Duration.ofMinutes(1)); // command n is stamped START + n minutes (about)
                    cluster.submit(session, put("k" + (i % 4), "r" + round + "-" + i));
                }
                int expected = 10 * (round + 1);
                await().atMost(WAIT).until(() -> machine.stamps().size() >= expected);
                results.add(round == 0 ? service.full() : service.incremental());
            }
            results.forEach(r -> chain.add(r.backup().dir()));
        }
    }

    @Test
    void eachManifestRecordsTheLiveStatesDigestAndLogTimeAtItsIndex() throws IOException {
        assertEquals(List.of(BackupKind.FULL, BackupKind.INCREMENTAL, BackupKind.INCREMENTAL),
                results.stream().map(r -> r.manifest().kind()).toList());
        Instant previousLast = null;
        for (Path dir : chain) {
            BackupManifest m = BackupManifest.read(dir); // as read back from disk
            assertNotNull(m.stateDigest(), dir.toString());
            assertEquals(machine.stateDigestAt(m.lastIndex()), m.stateDigest(), "the live state at " + m.lastIndex());
            Map.Entry<Long, Long> lastCommand = machine.stamps().floorEntry(m.lastIndex());
            assertEquals(Instant.ofEpochMilli(lastCommand.getValue()), m.lastTime(), "log time at " + m.lastIndex());
            if (m.kind() == BackupKind.FULL) {
                assertEquals(m.lastTime(), m.firstTime());
            } else {
                long firstCommand = machine.stamps().ceilingKey(m.prevIndex() + 1);
                assertEquals(Instant.ofEpochMilli(machine.stamps().get(firstCommand)), m.firstTime());
                assertTrue(m.firstTime().isAfter(previousLast), m + " starts after " + previousLast);
            }
            previousLast = m.lastTime();
        }
        assertNotEquals(results.get(0).manifest().stateDigest(), results.get(2).manifest().stateDigest());
    }

    @Test
    void deepVerifyRebuildsEachBackupsStateAndFindsItsDigest() throws IOException {
        Path scratch = tmp.resolve("scratch-good");
        List<StateVerification.Check> checks = StateVerification.deepVerify(chain, null, MapStateMachine::new,
                scratch);
        assertEquals(3, checks.size());
        for (int i = 0; i < 3; i++) {
            assertTrue(checks.get(i).compared());
            assertEquals(results.get(i).manifest().stateDigest(), checks.get(i).rebuilt());
            assertEquals(results.get(i).manifest().lastIndex(), checks.get(i).index());
        }
        try (Stream<Path> left = Files.list(scratch)) {
            assertEquals(List.of(), left.toList(), "the scratch restore is deleted");
        }
    }

    @Test
    void aBackupWhoseStateIsNotWhatItsManifestSaysIsNamedByDeepVerifyAndRefusedByRestore() throws IOException {
        // The second backup claims the first one's state: checksums and continuity still pass,
        // because the manifest is re-signed; only rebuilding the state shows it.
        List<Path> bad = copyChain("planted");
        BackupManifest m = BackupManifest.read(bad.get(1));
        String wrong = results.get(0).manifest().stateDigest();
        Files.write(bad.get(1).resolve(BackupManifest.FILE_NAME),
                m.withState(wrong, m.firstTime(), m.lastTime()).encode());
        BackupChain.verify(bad); // what checksums see: nothing wrong

        BackupException e = assertThrows(BackupException.class,
                () -> StateVerification.deepVerify(bad, null, MapStateMachine::new, tmp.resolve("scratch-bad")));
        String name = bad.get(1).getFileName().toString();
        assertTrue(e.getMessage().contains("backup " + name + " records state digest " + wrong), e.getMessage());
        assertTrue(e.getMessage().contains(results.get(1).manifest().stateDigest()), e.getMessage());

        Path data = tmp.resolve("restores").resolve("refused");
        Files.createDirectories(data.getParent());
        BackupException refused = assertThrows(BackupException.class,
                () -> BackupRestore.restore(bad, data, BackupRestore.LATEST, null, n -> { }, MapStateMachine::new));
        assertTrue(refused.getMessage().contains(name), refused.getMessage());
        assertFalse(Files.exists(data), "nothing restored");
        try (Stream<Path> s = Files.list(data.getParent())) {
            assertEquals(List.of(), s.toList(), "and no partial directory left");
        }

        // Restored only to the first backup, the bad one is never reached: the restore succeeds.
        BackupRestore.Result early = BackupRestore.restore(bad, tmp.resolve("restores").resolve("early"),
                results.get(0).manifest().lastIndex(), null, n -> { }, MapStateMachine::new);
        assertEquals(1, early.checks().size());
    }

    @Test
    void aRestoreWithAStateMachineComparesEveryDigestUpToItsTarget() throws IOException {
        BackupRestore.Result r = BackupRestore.restore(chain, tmp.resolve("restores-ok").resolve("all"),
                BackupRestore.LATEST, null, n -> { }, MapStateMachine::new);
        assertEquals(3, r.checks().size());
        assertTrue(r.checks().stream().allMatch(StateVerification.Check::compared));
        assertEquals(List.of(), BackupRestore.restore(chain, tmp.resolve("restores-ok").resolve("unchecked"),
                BackupRestore.LATEST).checks(), "without a state machine nothing is compared");
    }

    @Test
    void restoreByTimeEndsAtTheLastEntryStampedAtOrBeforeIt() throws IOException {
        BackupChain c = BackupChain.verify(chain);
        // Every command's stamp, and half a minute after it: both end at that command.
        long fullIndex = results.get(0).manifest().lastIndex();
        for (Map.Entry<Long, Long> cmd : machine.stamps().tailMap(fullIndex, true).entrySet()) {
            Instant at = Instant.ofEpochMilli(cmd.getValue());
            PointInTime.Target exact = PointInTime.indexAt(c, at, null);
            assertEquals(cmd.getKey(), exact.index(), "at " + at);
            assertEquals(at, exact.logTime());
            if (!at.equals(results.get(2).manifest().lastTime())) {
                Long next = machine.stamps().higherKey(cmd.getKey());
                PointInTime.Target between = PointInTime.indexAt(c, at.plusSeconds(30), null);
                assertEquals(cmd.getKey(), between.index(), "30 s after " + at + ", before " + next);
                assertTrue(between.index() < next);
            }
        }
        Instant before = results.get(0).manifest().lastTime().minusMillis(1);
        BackupException early = assertThrows(BackupException.class, () -> PointInTime.indexAt(c, before, null));
        assertTrue(early.getMessage().contains("this chain covers " + results.get(0).manifest().lastTime()),
                early.getMessage());
        Instant after = results.get(2).manifest().lastTime().plusMillis(1);
        BackupException late = assertThrows(BackupException.class, () -> PointInTime.indexAt(c, after, null));
        assertTrue(late.getMessage().contains("to " + results.get(2).manifest().lastTime()), late.getMessage());

        // And the restore to that index holds the live state there (checked against the manifests on the way).
        Long mid = machine.stamps().higherKey(results.get(1).manifest().lastIndex() + 3);
        PointInTime.Target t = PointInTime.indexAt(c, Instant.ofEpochMilli(machine.stamps().get(mid)), null);
        BackupRestore.Result r = BackupRestore.restore(chain, tmp.resolve("restore-at-time"), t.index(), null,
                n -> { }, MapStateMachine::new);
        assertEquals(mid.longValue(), r.lastIndex());
        assertEquals(2, r.checks().size(), "the full backup and the first increment lie before the target");
    }

    @Test
    void aVersionOneChainStillVerifiesAndRestoresUncheckedButNotByTime() throws IOException {
        List<Path> old = copyChain("version-1");
        for (Path dir : old) {
            Path file = dir.resolve(BackupManifest.FILE_NAME);
            String text = Files.readString(file);
            String body = text.substring(0, text.lastIndexOf("crc32c="))
                    .replace("raftkit-backup-manifest 2\n", "raftkit-backup-manifest 1\n")
                    .replaceAll("(?m)^(state-digest|first-time|last-time)=.*\n", "");
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            Files.writeString(file, body + "crc32c=" + BackupFile.hex((int) crc.getValue()) + "\n");
            BackupManifest m = BackupManifest.read(dir);
            assertEquals(null, m.stateDigest());
            assertEquals(null, m.lastTime());
        }
        List<StateVerification.Check> checks = StateVerification.deepVerify(old, null, MapStateMachine::new,
                tmp.resolve("scratch-v1"));
        assertEquals(3, checks.size());
        assertTrue(checks.stream().noneMatch(StateVerification.Check::compared), "nothing recorded, nothing compared");
        BackupException byTime = assertThrows(BackupException.class,
                () -> PointInTime.indexAt(BackupChain.verify(old), results.get(1).manifest().lastTime(), null));
        assertTrue(byTime.getMessage().contains("records no entry times"), byTime.getMessage());
        // A version 2 manifest written as-is round-trips its new fields.
        BackupManifest v2 = results.get(1).manifest();
        assertEquals(v2, BackupManifest.parse(Path.of("manifest"), v2.encode()));
    }

    private static List<Path> copyChain(String name) throws IOException {
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
}
