package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.testkit.http.JsonReader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every client command's {@code --json}, against three {@code raftkit server} commands in this
 * JVM: each prints one line that parses as a JSON object and carries the fields its help names,
 * with the same exit code as the text form.
 */
class CliJsonTest {

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
        return CliServers.cliAt(servers.cluster(1, 2, 3), args);
    }

    /** Runs a command with --json, expects {@code exit}, and parses its one line of output. */
    private Map<String, Object> json(int exit, String... args) {
        String[] all = Arrays.copyOf(args, args.length + 1);
        all[args.length] = "--json";
        CliRun r = cli(all);
        assertEquals(exit, r.exit(), r.all());
        assertTrue(r.out().endsWith("\n") && r.out().indexOf('\n') == r.out().length() - 1, "one line: " + r.all());
        return JsonReader.object(r.out());
    }

    @Test
    void everyClientCommandPrintsOneJsonObject() throws Exception {
        servers = new CliServers(1, 2, 3, 4);
        servers.start(1, dir.resolve("n1"), "1,2,3", List.of(), 2, 3);
        servers.start(2, dir.resolve("n2"), "1,2,3", List.of(), 1, 3);
        servers.start(3, dir.resolve("n3"), "1,2,3", List.of(), 1, 2);
        await().atMost(CliServers.WAIT).until(() -> cli("status").exit() == 0);

        // kv
        Map<String, Object> put = json(0, "kv", "put", "user/1", "ada \"the first\"");
        assertEquals("user/1", put.get("key"));
        long version = (Long) put.get("version");
        assertTrue(version > 0, put.toString());
        assertEquals(Map.of("key", "user/1", "found", true, "value", "ada \"the first\"", "version", version),
                json(0, "kv", "get", "user/1"));
        assertEquals(Map.of("key", "nobody", "found", false), json(3, "kv", "get", "nobody"));

        Map<String, Object> casFailed = json(3, "kv", "cas", "user/1", "bob", "--if-value", "eve");
        assertEquals(false, casFailed.get("ok"));
        assertEquals(Map.of("key", "user/1", "value", "ada \"the first\"", "version", version), casFailed.get("current"));
        Map<String, Object> casAbsent = json(3, "kv", "cas", "lock", "me", "--if-version", "1");
        assertEquals(false, casAbsent.get("ok"));
        assertTrue(casAbsent.containsKey("current") && casAbsent.get("current") == null, casAbsent.toString());
        Map<String, Object> cas = json(0, "kv", "cas", "user/1", "bob", "--if-value", "ada \"the first\"");
        assertEquals(true, cas.get("ok"));
        assertTrue((Long) cas.get("version") > version, cas.toString());
        json(0, "kv", "put", "user/2", "cy");

        Map<String, Object> scan = json(0, "kv", "scan", "user/");
        assertEquals("user/", scan.get("prefix"));
        assertEquals(false, scan.get("more"));
        List<?> entries = (List<?>) scan.get("entries");
        assertEquals(2, entries.size(), scan.toString());
        assertEquals("user/1", ((Map<?, ?>) entries.get(0)).get("key"));
        assertEquals("bob", ((Map<?, ?>) entries.get(0)).get("value"));
        assertEquals("cy", ((Map<?, ?>) entries.get(1)).get("value"));
        Map<String, Object> limited = json(0, "kv", "scan", "user/", "--limit", "1");
        assertEquals(1, ((List<?>) limited.get("entries")).size());
        assertEquals(true, limited.get("more"));

        assertEquals(Map.of("key", "user/2", "existed", true), json(0, "kv", "del", "user/2"));
        assertEquals(Map.of("key", "user/2", "existed", false), json(0, "kv", "del", "user/2"));

        // member list, add, promote, remove; transfer
        Map<String, Object> members = json(0, "member", "list");
        assertEquals(List.of(1L, 2L, 3L), ((List<?>) members.get("voters")).stream().map(Long.class::cast).sorted()
                .toList());
        assertEquals(List.of(), members.get("learners"));
        assertEquals(members.get("leader"), members.get("node"), "the leader's view: " + members);

        servers.start(4, dir.resolve("n4"), null, List.of(), 1, 2, 3);
        Map<String, Object> added = json(0, "member", "add", "4", "--address", servers.memberAddress(4));
        assertEquals(4L, added.get("node"));
        assertEquals("added", added.get("change"));
        assertEquals(false, added.get("promoted"));
        assertEquals(3, ((List<?>) added.get("voters")).size(), added.toString());
        assertEquals(List.of(4L), json(0, "member", "list").get("learners"));
        Map<String, Object> promoted = json(0, "member", "promote", "4");
        assertEquals("promoted", promoted.get("change"));
        assertTrue(((List<?>) promoted.get("voters")).contains(4L), promoted.toString());
        assertEquals(Map.of("leader", 4L), json(0, "transfer", "--to", "4"));
        assertEquals(Map.of("leader", 1L), json(0, "transfer", "--to", "1"));
        Map<String, Object> removed = json(0, "member", "remove", "4");
        assertEquals("removed", removed.get("change"));
        assertTrue(!((List<?>) removed.get("voters")).contains(4L), removed.toString());
        servers.stop(4);

        // status, snapshot: the JSON they printed before, now through the same writer
        Map<String, Object> status = json(0, "status");
        assertEquals(true, status.get("healthy"));
        assertEquals(3, ((List<?>) status.get("nodes")).size());
        assertNull(((Map<?, ?>) ((List<?>) status.get("nodes")).get(0)).get("error"));
        Map<String, Object> snap = json(0, "snapshot", "--node", "2");
        assertEquals(2L, snap.get("node"));
        assertTrue((Long) snap.get("index") > 0, snap.toString());

        // A failure is text on stderr, exit 1, nothing on stdout.
        CliRun unreachable = CliRun.of("kv", "get", "user/1", "--json", "-c", "1=127.0.0.1:1", "--cluster-id",
                CliServers.CLUSTER, "--timeout", "1s");
        assertEquals(1, unreachable.exit(), unreachable.all());
        assertEquals("", unreachable.out(), unreachable.all());
    }
}
