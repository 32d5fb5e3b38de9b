package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad arguments are refused before anything starts: exit code 2 and a message naming the option. */
class CliArgumentsTest {

    @TempDir
    Path dir;

    private CliRun server(String... extra) {
        String[] base = {"server", "--id", "1", "--listen", "127.0.0.1:0", "--client-listen", "127.0.0.1:0",
                "--data", dir.resolve("n1").toString(), "--cluster-id", "t"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRun.of(args);
    }

    private static void refused(CliRun r, String expected) {
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in\n" + r.all());
    }

    @Test
    void serverRefusesAMalformedPeerListABootstrapWithoutAddressesAndPartialTls() {
        refused(server("--peers", "2=127.0.0.1:7002"), "'2=127.0.0.1:7002' is not ID=HOST:PORT/CLIENT_PORT");
        refused(server("--peers", "x=127.0.0.1:7002/8002"), "node id 'x' is not a number");
        refused(server("--peers", "2=127.0.0.1:7002/99999"), "port 99999 is outside 0..65535");
        refused(server("--bootstrap", "1,2"), "--bootstrap names node 2 but --peers does not say where it listens");
        refused(server("--bootstrap", "2,3", "--peers", "2=127.0.0.1:7002/8002,3=127.0.0.1:7003/8003"),
                "does not include this node");
        refused(server("--tls-cert", "cert.pem"), "TLS needs all three of --tls-cert, --tls-key and --tls-ca");
        refused(server("--sm", "mongo"), "--sm: unknown state machine 'mongo'; use kv or sql");
        refused(server("--disk-stall-ticks", "0"), "--disk-stall-ticks must be at least 1, got 0");
        refused(server("--disk-stall-ticks", "40", "--disk-stuck-ticks", "40"),
                "--disk-stuck-ticks (40) must exceed --disk-stall-ticks (40)");
        refused(server("--min-free-disk", "lots"), "--min-free-disk: 'lots' is not a byte count");
        refused(server("--min-free-disk", "-1"), "--min-free-disk: '-1' is not a byte count");
        refused(server("--disk-slow", "0"), "--disk-slow must be at least 1ms, got 0ms");
        refused(server("--snapshot-source", "followers"), "--snapshot-source must be leader or peers, got 'followers'");
        refused(CliRun.of("sim", "--seed", "1", "--snapshot-source", "any"),
                "--snapshot-source must be leader or peers, got 'any'");
        refused(CliRun.of("server", "--id", "0", "--listen", "127.0.0.1:0", "--client-listen", "127.0.0.1:0", "--data",
                dir.toString(), "--cluster-id", "t"), "--id must be a positive number");
        refused(CliRun.of("server", "--id", "1", "--listen", "localhost", "--client-listen", "127.0.0.1:0", "--data",
                dir.toString(), "--cluster-id", "t"), "--listen 'localhost' is not host:port");
    }

    @Test
    void aBadArgumentPrintsTheErrorAndWhereToReadMoreNotTheWholeUsage() {
        CliRun r = CliRun.of("sim", "--nodes", "x");
        refused(r, "Invalid value for option '--nodes': 'x' is not an int");
        assertTrue(r.err().contains("See 'raftkit sim --help' for its options."), r.all());
        assertEquals(2, r.err().strip().lines().count(), r.all());
        refused(CliRun.of("statsu"), "Did you mean: raftkit status");
    }

    @Test
    void everyDurationOptionSpeaksOneSyntax() {
        assertEquals(java.time.Duration.ofSeconds(90), DurationConverter.parse("1.5m"));
        assertEquals(java.time.Duration.ofMinutes(90), DurationConverter.parse("1h30m"));
        assertEquals(java.time.Duration.ofMillis(1500), DurationConverter.parse("1.5s"));
        assertEquals(java.time.Duration.ofMillis(250), DurationConverter.parse("250ms"));
        assertEquals(java.time.Duration.ofSeconds(10), DurationConverter.parse("10"));
        for (String bad : new String[] {"soon", "-5s", "5x", "1h-", "", "s"}) {
            org.junit.jupiter.api.Assertions.assertThrows(picocli.CommandLine.TypeConversionException.class,
                    () -> DurationConverter.parse(bad), bad);
        }
        refused(CliRun.of("jepsen", "--time", "soon"), "'soon' is not a duration; write e.g. 500ms");
        refused(CliRun.of("bench", "--duration", "2 days"), "'2 days' is not a duration");
        refused(CliRun.of("kv", "get", "-c", "127.0.0.1:1", "--cluster-id", "t", "--timeout", "0s", "k"),
                "--timeout must be more than 0");
    }

    @Test
    void serverRefusesABackupRootInsideItsDataDirectoryAndAKeyWithoutARoot() throws IOException {
        refused(server("--backup-root", dir.resolve("n1").resolve("backups").toString()),
                "overlaps the data directory");
        refused(server("--backup-root", dir.toString()), "overlaps the data directory");
        refused(server("--backup-key", dir.resolve("k").toString()), "--backup-key is given without --backup-root");
        Path badKey = Files.writeString(dir.resolve("bad.key"), "not a key");
        refused(server("--backup-root", dir.resolve("b").toString(), "--backup-key", badKey.toString()),
                "is not a backup key file");
        refused(CliRun.of("backup", "verify", "--dir", dir.toString(), "--key", dir.resolve("missing.key").toString()),
                "the backup key file does not exist");
    }

    @Test
    void clientCommandsRefuseBadAddressesModesAndConditions() {
        refused(CliRun.of("kv", "get", "-c", "nonsense", "--cluster-id", "t", "k"), "'nonsense' is not host:port");
        refused(CliRun.of("kv", "get", "-c", "x=127.0.0.1:1", "--cluster-id", "t", "k"), "node id before '=' must be");
        refused(CliRun.of("kv", "get", "-c", "127.0.0.1:1", "--cluster-id", "t", "--read", "fast", "k"),
                "unknown read mode 'fast'");
        refused(CliRun.of("kv", "cas", "-c", "127.0.0.1:1", "--cluster-id", "t", "k", "v"),
                "Missing required argument");
        refused(CliRun.of("kv", "put", "-c", "127.0.0.1:1", "--cluster-id", "t", "k".repeat(5000), "v"),
                "must be 1 to 4096 bytes, got 5000");
        refused(CliRun.of("transfer", "-c", "127.0.0.1:1", "--cluster-id", "t", "--to", "0"), "--to must be a positive");
        refused(CliRun.of("member", "add", "4", "--address", "127.0.0.1:7004", "-c", "127.0.0.1:1", "--cluster-id", "t"),
                "is not HOST:PORT/CLIENT_PORT");
        refused(CliRun.of("kv"), "say what to do: raftkit kv put|get|del|cas|scan");
    }

    @Test
    void theSqlShellRefusesAMissingClusterABadReadModeAndAMissingScript() {
        refused(CliRun.of("sql", "-e", "SELECT 1;"), "no cluster to talk to: give --cluster HOST:PORT,… (the nodes' client"
                + " addresses) or set RAFTKIT_ENDPOINTS");
        refused(CliRun.of("sql", "-c", "127.0.0.1:1", "-e", "SELECT 1;"), "no cluster id: give --cluster-id NAME");
        refused(CliRun.of("sql", "-c", "127.0.0.1:1", "--cluster-id", "t", "--read", "eventually", "-e", "SELECT 1;"),
                "unknown read mode 'eventually'");
        refused(CliRun.of("sql", "-c", "127.0.0.1:1", "--cluster-id", "t", dir.resolve("none.sql").toString()),
                "none.sql is not a readable file");
        refused(CliRun.of("sql", "-c", "127.0.0.1:1", "--cluster-id", "t", "a.sql", "b.sql"), "Unmatched argument");
        refused(CliRun.of("sql", "-c", "127.0.0.1:1", "--cluster-id", "t", "-e"), "Missing required parameter for option");
        refused(CliRun.of("sql", "-c", "127.0.0.1:1", "--cluster-id", "t", "--history", "h", "--no-history"),
                "--history and --no-history contradict each other");
        refused(CliRun.of("sql", "-c", "127.0.0.1:1", "--cluster-id", "t", "--history", dir.toString()),
                "is a directory; name the file to keep the history in");
    }

    @Test
    void backupAndRestoreRefuseMissingAndNonEmptyDirectories() throws IOException {
        refused(CliRun.of("backup", "verify", "--dir", dir.resolve("none").toString()), "is not a directory");
        refused(CliRun.of("restore", "--from", dir.resolve("none").toString(), "--data", dir.resolve("d").toString()),
                "--from");
        Files.createDirectories(dir.resolve("full/x"));
        refused(CliRun.of("restore", "--from", dir.toString(), "--data", dir.resolve("full").toString()),
                "exists and is not an empty directory");
    }

    @Test
    void anEmptyBackupRootFailsVerificationWithExitOne() throws IOException {
        Path root = Files.createDirectories(dir.resolve("backups"));
        CliRun r = CliRun.of("backup", "verify", "--dir", root.toString());
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().contains("holds no backups; take a full backup first"), r.all());
        CliRun j = CliRun.of("backup", "verify", "--dir", root.toString(), "--json");
        assertEquals(1, j.exit(), j.all());
        assertTrue(j.out().startsWith("{\"ok\":false,\"error\":\"") && j.out().contains("holds no backups"), j.all());
    }

    @Test
    void theClusterComesFromTheEnvironmentAndAnUnreachableNodeReadsCleanly() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Raftkit.class.getName(), "status", "--timeout", "1s")
                .redirectErrorStream(true);
        pb.environment().put("RAFTKIT_ENDPOINTS", "127.0.0.1:" + port);
        pb.environment().put("RAFTKIT_CLUSTER_ID", "t");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), out);
        assertEquals(1, p.exitValue(), out); // the cluster did not answer: not a usage error
        String address = "127.0.0.1:" + port;
        assertTrue(out.lines().anyMatch(l -> l.matches("\\?\\s+UNREACHABLE(\\s+-){5}\\s+" + java.util.regex.Pattern.quote(address))), out);
        String why = out.lines().filter(l -> l.startsWith(address + ": ")).findFirst().orElseThrow(() -> new AssertionError(out));
        // The address came without an id: the message names the address, never an invented id.
        assertTrue(why.contains("could not read the status of the node at " + address + " in cluster 't' within 1000 ms"),
                why);
        assertTrue(why.contains("at " + address + ")") && why.endsWith("Is a node of this cluster up and reachable there?"),
                why);
        assertFalse(why.contains("node 1"), why);
    }

    @Test
    void anUnreachableClusterIsAFailureNotAUsageError() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        CliRun r = CliRun.of("kv", "get", "-c", "127.0.0.1:" + port, "--cluster-id", "t", "--timeout", "1", "k");
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().contains("no node of cluster 't' answered"), r.all());
    }
}
