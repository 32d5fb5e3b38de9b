package dev.raftkit.storage.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retention ({@link BackupRetention}), targets ({@link DirectoryTarget}) and the schedule ({@link BackupScheduler}) in virtual time. */
class BackupRetentionTest {

    @TempDir
    Path tmp;

    private List<String> names(Path root) throws IOException {
        return BackupChain.backupDirs(FileIo(), root).stream().map(p -> p.getFileName().toString()).toList();
    }

    private static dev.raftkit.storage.FileIo FileIo() {
        return dev.raftkit.storage.FileIo.real();
    }

    /** Three chains: F1 I1 D1 | F2 I2 | F3 D3 I3. */
    private BackupPathTest.Root threeChains() throws IOException {
        BackupPathTest.Root r = new BackupPathTest.Root(tmp.resolve("root"));
        r.full("F1", 10);
        r.incr("I1", "F1", 20);
        r.diff("D1", "F1", 30);
        r.full("F2", 30);
        r.incr("I2", "F2", 40);
        r.full("F3", 40);
        r.diff("D3", "F3", 50);
        r.incr("I3", "D3", 60);
        return r;
    }

    @Test
    void keepsTheNewestChainsWholeAndDeletesOlderWholeChainsFullBackupFirst() throws Exception {
        BackupPathTest.Root r = threeChains();
        DirectoryTarget target = DirectoryTarget.open(r.dir, tmp.resolve("data"));
        BackupRetention.Pruned p = BackupRetention.prune(target, null, 2);
        assertEquals(List.of(r.dirOf("F1"), r.dirOf("I1"), r.dirOf("D1")), p.removed());
        assertEquals(List.of(r.dirOf("F3"), r.dirOf("F2")), p.kept());
        assertEquals(List.of("000004-full", "000005-incr", "000006-full", "000007-diff", "000008-incr"), names(r.dir));
        assertEquals(List.of("F2", "I2"), BackupChain.plan(r.dir, null, 35).backups().stream()
                .map(x -> x.manifest().id()).toList(), "the kept older chain still restores");
        assertEquals(List.of(), BackupRetention.prune(target, null, 2).removed(), "nothing more to do");
        BackupRetention.prune(target, null, 1);
        assertEquals(List.of("000006-full", "000007-diff", "000008-incr"), names(r.dir));
        assertThrows(IllegalArgumentException.class, () -> BackupRetention.prune(target, null, 0));
    }

    @Test
    void aPruneCutByACrashLeavesNoChainThatLooksValidAndTheNextPruneFinishesIt() throws Exception {
        BackupPathTest.Root r = threeChains();
        DirectoryTarget target = DirectoryTarget.open(r.dir, tmp.resolve("data"));
        // The crash comes right after the first step: chain 1's full backup is gone, its dependents not yet.
        assertThrows(IOException.class, () -> BackupRetention.prune(target, null, 2, step -> {
            throw new IOException("power cut after: " + step);
        }));
        assertEquals(List.of("000002-incr", "000003-diff", "000004-full", "000005-incr", "000006-full", "000007-diff",
                "000008-incr"), names(r.dir));
        // What is left of chain 1 restores nothing: no path reaches its indexes.
        BackupException refused = assertThrows(BackupException.class, () -> BackupChain.plan(r.dir, null, 20));
        assertTrue(refused.getMessage().contains("restores index 20"), refused.getMessage());
        // A crash in the middle of a delete leaves a .pruning- directory, never a half-deleted backup.
        Files.createDirectories(r.dir.resolve(DirectoryTarget.PRUNING_PREFIX + "000002-incr-cut"));
        BackupRetention.Pruned p = BackupRetention.prune(target, null, 2);
        assertEquals(List.of(r.dirOf("I1"), r.dirOf("D1")), p.removed(), "the remnants go");
        assertEquals(List.of("000004-full", "000005-incr", "000006-full", "000007-diff", "000008-incr"), names(r.dir));
        try (var s = Files.list(r.dir)) {
            assertTrue(s.noneMatch(f -> f.getFileName().toString().startsWith(".")), "no leftovers");
        }
    }

    @Test
    void whatRetentionCannotReadOrPlaceIsLeftAlone() throws Exception {
        BackupPathTest.Root r = new BackupPathTest.Root(tmp.resolve("root"));
        r.full("F1", 10);
        r.incr("I1", "F1", 20);
        r.full("F2", 20);
        r.incr("I2", "F2", 30);
        r.incr("P", "I2", 40);
        r.incr("X", "P", 50);
        FileIo().deleteRecursively(r.dirOf("P")); // X now has a gap an operator must repair
        Files.writeString(r.dirOf("I1").resolve(BackupManifest.FILE_NAME), "damaged");
        DirectoryTarget target = DirectoryTarget.open(r.dir, tmp.resolve("data"));
        BackupRetention.Pruned p = BackupRetention.prune(target, null, 1);
        assertEquals(List.of(r.dirOf("F1")), p.removed());
        assertEquals(List.of("000002-incr", "000003-full", "000004-incr", "000006-incr"), names(r.dir),
                "the unreadable I1 and the gapped X (newer than the kept chain) stay");
    }

    @Test
    void aDirectoryTargetRefusesTheDataDirectoryAndAnythingInsideOrAroundIt() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data"));
        for (Path bad : List.of(data, data.resolve("backups"), tmp)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DirectoryTarget.open(bad, data));
            assertTrue(e.getMessage().contains("the node's data directory " + data.toRealPath()), e.getMessage());
        }
        Path link = Files.createSymbolicLink(tmp.resolve("sneaky"), data);
        assertThrows(IllegalArgumentException.class, () -> DirectoryTarget.open(link.resolve("b"), data));
        DirectoryTarget ok = DirectoryTarget.open(tmp.resolve("elsewhere/backups"), data);
        Path staged = ok.begin("x");
        Files.writeString(staged.resolve("f"), "y");
        assertEquals(List.of(), ok.list(), "a staged backup is not listed");
        ok.publish(staged, "000001-full");
        assertEquals(List.of("000001-full"), ok.list());
        assertEquals("y", Files.readString(ok.read("000001-full").resolve("f")));
        ok.delete("000001-full");
        assertEquals(List.of(), ok.list());
    }

    /** A clock a test moves by hand. */
    static final class VirtualClock extends Clock {
        Instant now = Instant.parse("2026-12-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @Test
    void theScheduleTakesEachKindWhenDueInVirtualTimeAndKeepsTheNewestChains() throws Exception {
        VirtualClock clock = new VirtualClock();
        BackupPathTest.Root r = new BackupPathTest.Root(tmp.resolve("root"));
        DirectoryTarget target = DirectoryTarget.open(r.dir, tmp.resolve("data"));
        long[] index = {10};
        int[] n = {0};
        List<String> taken = new ArrayList<>();
        boolean[] failNext = {false};
        BackupScheduler.Taker taker = kind -> {
            if (failNext[0]) {
                failNext[0] = false;
                throw new IOException("disk full");
            }
            String id = "b" + (++n[0]);
            r.createdAt = clock.instant();
            index[0] += 10;
            List<BackupChain.Backup> chain = BackupChain.backupDirs(FileIo(), r.dir).isEmpty() ? List.of()
                    : BackupChain.resolve(FileIo(), r.dir, null);
            if (kind == BackupKind.FULL || chain.isEmpty()) {
                r.full(id, index[0]);
            } else if (kind == BackupKind.DIFFERENTIAL) {
                r.diff(id, chain.get(0).manifest().id(), index[0]);
            } else {
                r.incr(id, chain.get(chain.size() - 1).manifest().id(), index[0]);
            }
            taken.add(kind.word().substring(0, 1));
            BackupChain.Backup b = BackupChain.resolve(FileIo(), r.dir, null).get(
                    BackupChain.resolve(FileIo(), r.dir, null).size() - 1);
            return new BackupService.Result(b, null);
        };
        BackupSchedule schedule = BackupSchedule.parse("full=7d,differential=1d,incremental=6h");
        assertEquals("full=7d,differential=1d,incremental=6h", schedule.toString());
        BackupScheduler s = new BackupScheduler(schedule, 1, target, null, clock, Duration.ofMinutes(10), taker);
        // Two weeks, checked every hour.
        for (int h = 0; h < 14 * 24; h++) {
            s.runDue();
            clock.advance(Duration.ofHours(1));
        }
        String pattern = String.join("", taken);
        // Each week: one full, then each day a differential, and between them three incrementals.
        assertTrue(pattern.startsWith("fiiidiiidiiid"), pattern);
        assertEquals(2, pattern.chars().filter(c -> c == 'f').count(), pattern);
        assertEquals(2 * 6, pattern.chars().filter(c -> c == 'd').count(), pattern);
        assertEquals(2 * 7 * 3, pattern.chars().filter(c -> c == 'i').count(), pattern);
        BackupScheduler.Status st = s.status();
        assertEquals(1, names(r.dir).stream().filter(d -> d.endsWith("-full")).count(), "one chain kept");
        assertTrue(st.pruned().size() > 0, "the first week's chain was pruned");
        assertEquals(pattern.length() - names(r.dir).size(), st.pruned().size(), "only by retention");
        assertEquals(List.of(), st.failed());
        BackupScheduler.Due nextIncr = st.due().stream().filter(d -> d.kind() == BackupKind.INCREMENTAL).findFirst()
                .orElseThrow();
        assertTrue(nextIncr.at().isAfter(clock.instant().minus(Duration.ofHours(1))), nextIncr.toString());

        // A failure is recorded and retried after the retry delay, not at once.
        clock.advance(Duration.ofHours(6));
        failNext[0] = true;
        assertEquals(null, s.runDue());
        BackupScheduler.Failure failure = s.status().failed().get(0);
        assertEquals("disk full", failure.reason());
        BackupScheduler.Run meanwhile = s.runDue();
        assertTrue(meanwhile == null || meanwhile.asked() != failure.kind(), "not retried at once: " + meanwhile);
        clock.advance(Duration.ofMinutes(10));
        assertEquals(failure.kind(), s.runDue().asked(), "retried after the retry delay");

        // A restarted node works out what is due from the backups themselves: nothing now.
        BackupScheduler again = new BackupScheduler(schedule, 2, target, null, clock, Duration.ofMinutes(10), taker);
        assertEquals(null, again.dueNow(clock.instant()));
    }

    @Test
    void aBadScheduleIsRefusedSayingWhichPart() {
        for (Map.Entry<String, String> bad : Map.of("full", "not kind=duration", "weekly=7d", "not a backup kind",
                "full=7x", "not a duration", "full=1d,full=2d", "twice", "incremental=0s", "not positive").entrySet()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BackupSchedule.parse(bad.getKey()));
            assertTrue(e.getMessage().contains(bad.getValue()), bad.getKey() + ": " + e.getMessage());
        }
        assertEquals(Duration.ofMinutes(90), BackupSchedule.parse("incr=1h30m").of(BackupKind.INCREMENTAL));
    }
}
