package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.real.NodeSpec;
import dev.raftkit.jepsen.txn.AnomalyType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code raftkit jepsen --sm sql} on real node processes: list-append transactions over the SQL
 * state machine judged by the transactional checker. A healthy cluster under kills and partitions
 * is valid with transactions committed and no anomaly; the same harness on nodes with the planted
 * isolation bug ({@code --testing-split-sql-transactions}) is INVALID and names the anomaly. Short
 * runs: each is seconds of workload plus the nodes' start.
 */
class JepsenSqlTest {

    private static final Pattern COMMITTED = Pattern.compile(" committed=(\\d+) ");
    private static final Pattern CLASSES = Pattern.compile(" txn-anomalies=(\\S+) ");

    private static String[] run(Path report, String... args) {
        StringWriter out = new StringWriter();
        CommandLine cl = Raftkit.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(out));
        String[] all = new String[args.length + 6];
        all[0] = "jepsen";
        System.arraycopy(args, 0, all, 1, args.length);
        System.arraycopy(new String[] {"--sm", "sql", "--quiet", "--report", report.toString()}, 0, all,
                args.length + 1, 5);
        int exit = assertTimeoutPreemptively(Duration.ofMinutes(4), () -> cl.execute(all));
        String text = out.toString().strip();
        String[] lines = text.split("\n");
        return new String[] {Integer.toString(exit), lines[lines.length - 1], text};
    }

    private static int committed(String summary) {
        Matcher m = COMMITTED.matcher(summary);
        assertTrue(m.find(), "no committed count in: " + summary);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void sqlTransactionsUnderKillsAndPartitionsAreStrictlySerializable(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report");
        String[] r = run(report, "--nodes", "3", "--time", "12s", "--nemesis", "kill,partition", "--seed", "17",
                "--clients", "10");
        assertTrue(r[1].startsWith("valid: txns="), r[2]);
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains(" anomalies=0 txn-anomalies=none "), r[1]);
        assertTrue(committed(r[1]) > 0, "transactions committed: " + r[1]);
        assertTrue(r[2].contains("converged: every node applied index"), r[2]);
        String check = Files.readString(report.resolve("txn-check.json"));
        assertTrue(check.contains("\"valid\":true") && check.contains("\"strictSerializable\":true"), check);
        assertTrue(Files.size(report.resolve("txn-history.jsonl")) > 0, "the transaction history is kept");
        String html = Files.readString(report.resolve("report.html"));
        assertTrue(html.contains("class=\"txn-check\""), "the report carries the transactional check");
    }

    @Test
    void thePlantedSplitOfTransactionsIsFoundAndNamed(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report");
        String[] r = run(report, "--nodes", "3", "--time", "6s", "--nemesis", "none", "--seed", "5", "--clients", "10",
                "--testing-split-sql-transactions");
        assertTrue(r[1].startsWith("INVALID: txns="), r[2]);
        assertEquals("1", r[0], r[2]);
        assertTrue(r[2].contains("TESTING ONLY"), "the run says the bug is planted");
        assertTrue(r[2].contains("transactional isolation violated"), r[2]);
        assertTrue(committed(r[1]) > 0, r[1]);
        Matcher m = CLASSES.matcher(r[1]);
        assertTrue(m.find(), r[1]);
        assertFalse(m.group(1).equals("none"), r[1]);
        // Every class the summary names is one the checker knows, with a positive count.
        for (String part : m.group(1).split(",")) {
            String label = part.substring(0, part.lastIndexOf(':'));
            assertTrue(Arrays.stream(AnomalyType.values()).anyMatch(t -> t.label().equals(label)), "unknown " + label);
            assertTrue(Integer.parseInt(part.substring(part.lastIndexOf(':') + 1)) > 0, part);
        }
        String check = Files.readString(report.resolve("txn-check.json"));
        assertTrue(check.contains("\"valid\":false") && check.contains("\"cycle\""), check);
    }

    @Test
    void thePlantedBugNeedsTheSqlStateMachineAndTheHarnessNode() {
        StringWriter out = new StringWriter();
        CommandLine cl = Raftkit.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(out));
        int exit = cl.execute("jepsen", "--testing-split-sql-transactions", "--time", "1s");
        assertEquals(2, exit, out.toString());
        assertTrue(out.toString().contains("add --sm sql"), out.toString());
        exit = cl.execute("jepsen", "--sm", "sql", "--node", "server", "--testing-split-sql-transactions", "--time", "1s");
        assertEquals(2, exit, out.toString());
        assertTrue(out.toString().contains("use --node jepsen"), out.toString());
        exit = cl.execute("jepsen", "--sm", "mongo", "--time", "1s");
        assertEquals(2, exit, out.toString());
        assertTrue(out.toString().contains("--sm must be kv or sql, got 'mongo'"), out.toString());
    }

    @Test
    void bothNodeKindsAreStartedWithTheStateMachine() {
        NodeSpec spec = new NodeSpec(1, "c", Path.of("d"), "127.0.0.1:1", "127.0.0.1:2", Map.of(2L, "127.0.0.1:3"),
                Map.of(1L, "127.0.0.1:2", 2L, "127.0.0.1:4"), Set.of(1L, 2L));
        List<String> server = JepsenCommand.withStateMachine(JepsenCommand.serverCommand("64m"), "sql", false)
                .command(spec);
        assertEquals(List.of("--sm", "sql"), server.subList(server.size() - 2, server.size()), server.toString());
        List<String> node = JepsenCommand.withStateMachine(JepsenCommand.nodeCommand("64m"), "sql", true).command(spec);
        assertEquals(List.of("--sm", "sql", "--testing-split-sql-transactions", "true"),
                node.subList(node.size() - 4, node.size()), node.toString());
        List<String> kv = JepsenCommand.withStateMachine(JepsenCommand.nodeCommand("64m"), "kv", false).command(spec);
        assertFalse(kv.contains("--sm") || kv.contains("--testing-split-sql-transactions"), kv.toString());
    }
}
