package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code raftkit check-txn}: verdicts, anomalies with their cycles, exit codes, bad input. */
class CheckTxnCommandTest {

    @TempDir
    Path dir;

    private Path file(String text) throws Exception {
        Path p = dir.resolve("h.jsonl");
        Files.writeString(p, text);
        return p;
    }

    private static final String STALE_READ = """
            {"format":"raftkit-txn-history","version":1}
            {"process":0,"type":"ok","invoke":0,"complete":10,"txn":[["append","x",1]]}
            {"process":1,"type":"ok","invoke":20,"complete":30,"txn":[["r","x",[]]]}
            {"process":2,"type":"ok","invoke":0,"complete":100,"txn":[["r","x",[1]]]}
            """;

    @Test
    void validHistoryExitsZero() throws Exception {
        CliRun r = CliRun.of("check-txn", file("""
                {"process":0,"type":"ok","invoke":0,"complete":10,"txn":[["append","x",1],["r","x",[1]]]}
                {"process":1,"type":"info","invoke":5,"txn":[["append","x",2]]}
                {"process":2,"type":"ok","invoke":20,"complete":30,"txn":[["r","x",[1,2]],["w","k",1]]}
                """).toString());
        assertEquals(0, r.exit(), r::all);
        assertTrue(r.out().strip().startsWith("valid (strict-serializable): 3 transactions, 3 committed"), r::all);
    }

    @Test
    void staleReadIsAStrictSerializabilityViolation() throws Exception {
        Path h = file(STALE_READ);
        Path html = dir.resolve("a.html");
        CliRun strict = CliRun.of("check-txn", h.toString(), "--html", html.toString());
        assertEquals(1, strict.exit(), strict::all);
        assertTrue(strict.out().contains("G-single-realtime: a cycle of 2 transactions, T1 -> T0 -> T1"), strict::all);
        assertTrue(strict.out().contains("  T1 -rw-> T0: T0 appended 1 to x after T1 read x without it"), strict::all);
        assertTrue(strict.out().contains("  T0 -realtime-> T1: T0 completed (at 10) before T1 was invoked (at 20)"),
                strict::all);
        String last = strict.out().strip().substring(strict.out().strip().lastIndexOf('\n') + 1);
        assertTrue(last.startsWith("INVALID (strict-serializable): 3 transactions") && last.contains(
                "anomalies: G-single-realtime=1; serializable yes, strict-serializable no (checker "), strict::all);
        assertTrue(Files.readString(html).contains("<svg"));

        CliRun serializable = CliRun.of("check-txn", h.toString(), "--model", "serializable");
        assertEquals(0, serializable.exit(), serializable::all);
        assertTrue(serializable.out().contains("(G-single-realtime is allowed by serializable)"), serializable::all);

        CliRun json = CliRun.of("check-txn", h.toString(), "--json");
        assertEquals(1, json.exit(), json::all);
        assertTrue(json.out().startsWith("{\"valid\":false,\"model\":\"strict-serializable\",\"serializable\":true,"
                + "\"strictSerializable\":false"), json::all);
    }

    @Test
    void badInputExitsTwoNamingTheLine() throws Exception {
        CliRun r = CliRun.of("check-txn", file("""
                {"process":0,"type":"ok","invoke":0,"complete":10,"txn":[["append","x",1]]}
                {"process":1,"type":"ok","invoke":20,"complete":30,"txn":[["r","x"]]}
                """).toString());
        assertEquals(2, r.exit(), r::all);
        assertTrue(r.err().contains("h.jsonl: line 2: micro-op 1 ([\"r\",\"x\"]) must be [f, key, value]"), r::all);

        CliRun missing = CliRun.of("check-txn", dir.resolve("nope.jsonl").toString());
        assertEquals(2, missing.exit(), missing::all);
        assertTrue(missing.err().contains("nope.jsonl: no such file"), missing::all);

        CliRun model = CliRun.of("check-txn", file(STALE_READ).toString(), "--model", "snapshot");
        assertEquals(2, model.exit(), model::all);
        assertTrue(model.err().contains("--model snapshot: use serializable or strict-serializable"), model::all);
    }
}
