package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.grpc.CertificateIdentity;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code raftkit certs} in one step, and servers run on its files: identity and role enforced. */
class CertsCommandTest {

    @TempDir
    Path dir;

    private CliServers servers;

    @AfterEach
    void stopAll() {
        if (servers != null) {
            servers.close();
        }
    }

    private static X509Certificate read(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private List<String> tls(Path certs, String name) {
        return List.of("--tls-cert", certs.resolve(name + ".pem").toString(), "--tls-key",
                certs.resolve(name + ".key").toString(), "--tls-ca", certs.resolve("ca.pem").toString());
    }

    private CliRun as(Path certs, String name, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(tls(certs, name));
        return CliServers.cliAt(servers.cluster(1, 2, 3), all.toArray(String[]::new));
    }

    private CliRun mint(Path certs) {
        return CliRun.of("certs", "--cluster-id", CliServers.CLUSTER, "--dir", certs.toString(), "--nodes", "1,2,3",
                "--hosts", "127.0.0.1,localhost", "--clients", "app", "--admins", "ops");
    }

    @Test
    void raftkitCertsWritesPrivateFilesThatRunAMutualTlsClusterWithRolesEnforced() throws Exception {
        Path certs = dir.resolve("certs");
        CliRun minted = mint(certs);
        assertEquals(0, minted.exit(), minted.all());
        assertTrue(minted.out().contains("created the CA of cluster 'cli-test'"), minted.all());
        assertTrue(minted.out().contains("raftkit server --id 2 ... --tls-cert " + certs.resolve("node-2.pem")), minted.all());
        assertTrue(minted.out().contains("raftkit://cli-test/admin/ops"), minted.all());
        try (Stream<Path> files = Files.list(certs)) {
            for (Path f : files.toList()) {
                assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                        Files.getPosixFilePermissions(f), f.toString());
            }
        }
        assertTrue(Files.readString(certs.resolve("node-1.key")).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertEquals(CertificateIdentity.node(CliServers.CLUSTER, 3), CertificateIdentity.of(read(certs.resolve("node-3.pem"))));
        assertEquals(CertificateIdentity.Role.CLIENT, CertificateIdentity.of(read(certs.resolve("client-app.pem"))).role());

        servers = new CliServers(1, 2, 3, 4).insecureAdmin(false);
        servers.start(1, dir.resolve("n1"), "1,2,3", tls(certs, "node-1"), 2, 3);
        servers.start(2, dir.resolve("n2"), "1,2,3", tls(certs, "node-2"), 1, 3);
        servers.start(3, dir.resolve("n3"), "1,2,3", tls(certs, "node-3"), 1, 2);
        await().atMost(CliServers.WAIT).until(() -> as(certs, "client-app", "status").exit() == 0);

        CliRun put = as(certs, "client-app", "kv", "put", "k", "v");
        assertEquals(0, put.exit(), put.all());
        CliRun get = as(certs, "client-app", "kv", "get", "k");
        assertEquals("v\n", get.out(), get.all());

        CliRun clientAdds = as(certs, "client-app", "member", "add", "4", "--address", servers.memberAddress(4));
        assertNotEquals(0, clientAdds.exit(), clientAdds.all());
        assertTrue(clientAdds.all().contains("PERMISSION_DENIED") && clientAdds.all().contains("admin"), clientAdds.all());

        CliRun status = as(certs, "admin-ops", "status");
        assertEquals(0, status.exit(), status.all());
        long leader = leaderOf(status.out());
        long next = leader == 1 ? 2 : 1;
        CliRun transfer = as(certs, "admin-ops", "transfer", "--to", String.valueOf(next));
        assertEquals(0, transfer.exit(), transfer.all());
        assertEquals("node " + next + " leads now\n", transfer.out());

        // Running it again reuses the CA: a certificate for a fifth node chains to the same CA.
        CliRun again = CliRun.of("certs", "--cluster-id", CliServers.CLUSTER, "--dir", certs.toString(), "--nodes", "5");
        assertEquals(0, again.exit(), again.all());
        assertTrue(again.out().contains("reused the CA"), again.all());
        read(certs.resolve("node-5.pem")).verify(read(certs.resolve("ca.pem")).getPublicKey());
    }

    private static long leaderOf(String statusOut) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^(\\d+)\\s+LEADER\\b").matcher(statusOut);
        assertTrue(m.find(), statusOut);
        return Long.parseLong(m.group(1));
    }

    @Test
    void aServerWhoseCertificateNamesAnotherNodeRefusesToStart() throws Exception {
        Path certs = dir.resolve("certs");
        assertEquals(0, mint(certs).exit());
        List<String> args = new ArrayList<>(List.of("server", "--id", "1", "--listen", "127.0.0.1:0", "--client-listen",
                "127.0.0.1:0", "--data", dir.resolve("n1").toString(), "--cluster-id", CliServers.CLUSTER));
        args.addAll(tls(certs, "node-2"));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("raftkit://cli-test/node/2, but this is node 1"), r.all());
    }

    @Test
    void aPlaintextServerRefusesAdminCallsUnlessStartedWithInsecureAdmin() throws Exception {
        servers = new CliServers(1, 2).insecureAdmin(false);
        servers.start(1, dir.resolve("n1"), "1", List.of());
        await().atMost(CliServers.WAIT).until(() -> CliServers.cliAt(servers.cluster(1), "status").exit() == 0);
        CliRun put = CliServers.cliAt(servers.cluster(1), "kv", "put", "k", "v");
        assertEquals(0, put.exit(), put.all());
        CliRun add = CliServers.cliAt(servers.cluster(1), "member", "add", "2", "--address", servers.memberAddress(2));
        assertNotEquals(0, add.exit(), add.all());
        assertTrue(add.all().contains("PERMISSION_DENIED") && add.all().contains("--insecure-admin"), add.all());
        servers.stop(1);

        servers.insecureAdmin(true);
        servers.start(1, dir.resolve("n1"), null, List.of());
        await().atMost(CliServers.WAIT).until(() -> CliServers.cliAt(servers.cluster(1), "status").exit() == 0);
        CliRun learner = CliServers.cliAt(servers.cluster(1), "member", "add", "2", "--address", servers.memberAddress(2));
        assertEquals(0, learner.exit(), learner.all());
    }
}
