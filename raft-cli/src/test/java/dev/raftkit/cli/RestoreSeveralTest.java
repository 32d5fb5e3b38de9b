package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code raftkit restore --data a,b,c --parallelism N}: one chain of a one-node cluster restored
 * into three new data directories at once, each holding what a single restore writes.
 */
class RestoreSeveralTest {

    @TempDir
    Path dir;

    private CliServers servers;

    @AfterEach
    void stopAll() {
        if (servers != null) {
            servers.close();
        }
    }

    private CliRun cli(String... args) {
        return CliServers.cliAt(servers.cluster(1), args);
    }

    private static CliRun ok(CliRun r) {
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    @Test
    void severalDataDirectoriesAreRestoredFromOneVerificationAndBadListsAreRefused() throws Exception {
        servers = new CliServers(1);
        servers.start(1, dir.resolve("n1"), "1", List.of());
        await().atMost(CliServers.WAIT).until(() -> cli("kv", "put", "k", "v").exit() == 0);
        ok(cli("backup", "full", "--dir", "b"));
        for (int i = 0; i < 20; i++) {
            ok(cli("kv", "put", "k" + i, "v" + i));
        }
        ok(cli("backup", "incremental", "--dir", "b"));
        Path root = dir.resolve("backups").resolve("b");

        Path single = dir.resolve("single");
        ok(CliRun.of("restore", "--from", root.toString(), "--data", single.toString(), "--parallelism", "1"));
        List<Path> nodes = List.of(dir.resolve("r/n1"), dir.resolve("r/n2"), dir.resolve("r/n3"));
        String out = ok(CliRun.of("restore", "--from", root.toString(), "--data",
                String.join(",", nodes.stream().map(Path::toString).toList()), "--parallelism", "2")).out();
        assertTrue(out.contains("with 2 thread(s)"), out);
        assertTrue(out.contains("into 3 data directories in "), out);
        for (Path n : nodes) {
            for (String sub : List.of("snapshots", "log")) {
                assertTrue(Files.isDirectory(n.resolve(sub)), n + "/" + sub);
            }
            // The same log bytes as the one restored alone (the lock file records only its holder).
            try (var files = Files.list(single.resolve("log"))) {
                for (Path f : files.filter(p -> !p.getFileName().toString().equals("LOCK")).toList()) {
                    assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(n.resolve("log").resolve(f.getFileName())),
                            n + ": " + f.getFileName());
                }
            }
        }

        Path twice = dir.resolve("t/n1");
        CliRun dup = CliRun.of("restore", "--from", root.toString(), "--data", twice + "," + twice);
        assertEquals(2, dup.exit(), dup.all());
        assertTrue(dup.err().contains("is given twice"), dup.all());
        CliRun zero = CliRun.of("restore", "--from", root.toString(), "--data", twice.toString(), "--parallelism", "0");
        assertEquals(2, zero.exit(), zero.all());
        assertTrue(zero.err().contains("--parallelism must be at least 1, got 0"), zero.all());
        assertFalse(Files.exists(twice));
    }
}
