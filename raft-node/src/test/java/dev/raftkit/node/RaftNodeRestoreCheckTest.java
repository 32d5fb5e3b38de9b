package dev.raftkit.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.storage.backup.BackupException;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.spi.ForwardingStateMachine;
import dev.raftkit.testkit.runtime.MapStateMachine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RaftNode.restore with a state machine factory compares the rebuilt state with the manifests' digests. */
class RaftNodeRestoreCheckTest {

    @TempDir
    Path dir;

    @Test
    void aRestoreChecksTheStateAndRefusesOneThatDiffers() throws Exception {
        Path backups = dir.resolve("backups");
        try (RaftNode node = RaftNode.builder("c", 1).dataDir(dir.resolve("n1")).bootstrap(Set.of(1L))
                .stateMachine(new MapStateMachine()).start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> node.server().status().isLeader());
            for (int i = 0; i < 5; i++) {
                node.server().submit(MapStateMachine.put("k" + i, "v" + i)).get(10, TimeUnit.SECONDS);
            }
            node.backup(backups);
            node.server().submit(MapStateMachine.put("k9", "later")).get(10, TimeUnit.SECONDS);
            node.incrementalBackup(backups);
        }
        BackupRestore.Result r = RaftNode.restore(backups, dir.resolve("restored"), MapStateMachine::new);
        assertEquals(2, r.checks().size());
        assertTrue(r.checks().stream().allMatch(c -> c.compared() && c.recorded().equals(c.rebuilt())), r.toString());

        // A state machine that rebuilds another state (here: reports another digest) is refused.
        BackupException e = assertThrows(BackupException.class, () -> RaftNode.restore(backups,
                dir.resolve("refused"), () -> new ForwardingStateMachine(new MapStateMachine()) {
                    @Override
                    public Optional<String> stateDigest() {
                        return Optional.of("sha256:00");
                    }
                }));
        assertTrue(e.getMessage().contains("000001-full records state digest "), e.getMessage());
        assertFalse(Files.exists(dir.resolve("refused")));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith(".partial-")).toList());
        }
    }
}
