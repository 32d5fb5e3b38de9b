package dev.raftkit.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.grpc.AdminClient;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupKind;
import dev.raftkit.storage.backup.BackupSchedule;
import dev.raftkit.storage.backup.BackupScheduler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real node runs its backup schedule on its scheduler thread, in virtual time (a clock the test
 * moves): each kind when it is due, retention after each backup, what it did over the admin RPC,
 * and what a backup killed half-way left removed at start.
 */
class BackupScheduleNodeTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /** Virtual time: moves only when the test says. */
    static final class MovableClock extends Clock {
        volatile Instant now = Instant.parse("2026-12-01T00:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    @Test
    void aNodeTakesEachKindWhenDueKeepsTheNewestChainAndSaysWhatItDid() throws Exception {
        Path data = dir.resolve("n1");
        Path root = dir.resolve("backups");
        Path partial = Files.createDirectories(root.resolve(".partial-killed"));
        Files.writeString(partial.resolve("snapshot"), "half a snapshot");
        Files.createDirectories(data);
        MovableClock clock = new MovableClock();
        try (RaftNode node = RaftNode.builder("c", 1).dataDir(data).bootstrap(Set.of(1L)).insecureAdmin(true)
                .stateMachine(new CounterStateMachine())
                .backups(BackupPolicy.open(root, null, data))
                .backupSchedule(BackupSchedule.parse("full=7d,differential=1d,incremental=1h"), 1)
                .backupClock(clock).backupCheckEvery(Duration.ofMillis(20)).start()) {
            assertFalse(Files.exists(partial), "removed at start");
            await().atMost(WAIT).until(() -> node.server().status().isLeader());
            await().atMost(WAIT).until(() -> kinds(node).size() == 1);
            assertEquals(List.of(BackupKind.FULL), kinds(node), "the first backup is a full one");
            long[] expect = {1};
            for (BackupKind next : List.of(BackupKind.INCREMENTAL, BackupKind.INCREMENTAL, BackupKind.DIFFERENTIAL,
                    BackupKind.FULL)) {
                node.server().submit(CounterStateMachine.add(1)).get(10, TimeUnit.SECONDS);
                clock.now = clock.now.plus(next == BackupKind.FULL ? Duration.ofDays(7)
                        : next == BackupKind.DIFFERENTIAL ? Duration.ofDays(1) : Duration.ofHours(1));
                expect[0]++;
                await().atMost(WAIT).until(() -> kinds(node).size() == expect[0]);
                assertEquals(next, kinds(node).get(kinds(node).size() - 1), kinds(node).toString());
            }
            // Nothing more is due until the clock moves.
            assertEquals(5, kinds(node).size());
            BackupScheduler.Status st = node.backupScheduleStatus();
            assertEquals(4, st.pruned().size(), "the first chain (full, two incrementals, a differential) went: "
                    + st.pruned());
            assertEquals(List.of(st.ran().get(4).directory()), BackupChain.discover(root).backups().stream()
                    .map(BackupChain.Backup::dir).toList(), "what is left is the newest chain");
            assertEquals(List.of(), st.failed());

            String hostPort = node.clientHostPort();
            try (AdminClient admin = new AdminClient(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1))), null)) {
                AdminClient.BackupPolicyStatus rpc = admin.backupPolicy("c", Duration.ofSeconds(10))
                        .get(20, TimeUnit.SECONDS);
                assertTrue(rpc.scheduled());
                assertEquals("full=7d,differential=1d,incremental=1h", rpc.schedule());
                assertEquals(1, rpc.keepChains());
                assertEquals(List.of("full", "incremental", "incremental", "differential", "full"),
                        rpc.ran().stream().map(AdminClient.PolicyRun::taken).toList());
                assertEquals(3, rpc.due().size());
                assertEquals(clock.now.plus(Duration.ofHours(1)), rpc.due().stream()
                        .filter(d -> d.kind().equals("incremental")).findFirst().orElseThrow().at());
                assertEquals(4, rpc.pruned().size());
            }
        }
    }

    /** Counts, but its snapshot images are written only once {@link #release} opens. */
    static final class StuckSnapshots implements dev.raftkit.spi.StateMachine {
        final CounterStateMachine inner = new CounterStateMachine();
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

        @Override
        public List<byte[]> apply(List<Command> commands) {
            return inner.apply(commands);
        }

        @Override
        public long lastApplied() {
            return inner.lastApplied();
        }

        @Override
        public Snapshot snapshot() {
            Snapshot s = inner.snapshot();
            return new Snapshot() {
                @Override
                public long index() {
                    return s.index();
                }

                @Override
                public void writeTo(java.io.OutputStream out) throws java.io.IOException {
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    s.writeTo(out);
                }

                @Override
                public void close() {
                    s.close();
                }
            };
        }

        @Override
        public void restore(long index, java.io.InputStream in) throws java.io.IOException {
            inner.restore(index, in);
        }

        @Override
        public byte[] query(byte[] query) {
            return inner.query(query);
        }
    }

    @Test
    void aBackupThatStopsMakingProgressFailsAsStalledWithoutAnOverallDeadline() throws Exception {
        Path data = Files.createDirectories(dir.resolve("n1"));
        StuckSnapshots machine = new StuckSnapshots();
        try (RaftNode node = RaftNode.builder("c", 1).dataDir(data).bootstrap(Set.of(1L)).stateMachine(machine)
                .backups(BackupPolicy.open(dir.resolve("backups"), null, data)).backupStall(Duration.ofMillis(300))
                .start()) {
            await().atMost(WAIT).until(() -> node.server().status().isLeader());
            node.server().submit(CounterStateMachine.add(1)).get(10, TimeUnit.SECONDS);
            java.io.IOException stalled = assertThrows(java.io.IOException.class,
                    () -> node.backup(dir.resolve("backups")));
            assertTrue(stalled.getMessage().contains("stalled: no progress for PT0.3S"), stalled.getMessage());
            machine.release.countDown();
            // The node answers late: nothing of the abandoned backup is published or left behind.
            await().atMost(WAIT).until(() -> node.server().status().snapshotIndex() >= 1);
            try (var left = Files.list(dir.resolve("backups"))) {
                assertEquals(List.of(), left.toList());
            }
        }
    }

    @Test
    void aScheduleWithoutABackupRootIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RaftNode.builder("c", 1)
                .dataDir(dir.resolve("n")).stateMachine(new CounterStateMachine())
                .backupSchedule(BackupSchedule.parse("full=1d"), 0).start());
        assertTrue(e.getMessage().contains("needs a backup root"), e.getMessage());
    }

    private static List<BackupKind> kinds(RaftNode node) {
        return node.backupScheduleStatus().ran().stream().map(BackupScheduler.Run::taken).toList();
    }
}
