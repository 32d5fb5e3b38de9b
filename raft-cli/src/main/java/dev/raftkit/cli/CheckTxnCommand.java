package dev.raftkit.cli;

import dev.raftkit.jepsen.txn.Anomaly;
import dev.raftkit.jepsen.txn.AnomalyType;
import dev.raftkit.jepsen.txn.Consistency;
import dev.raftkit.jepsen.txn.CycleStep;
import dev.raftkit.jepsen.txn.TxnChecker;
import dev.raftkit.jepsen.txn.TxnHistory;
import dev.raftkit.jepsen.txn.TxnJsonLines;
import dev.raftkit.jepsen.txn.TxnResult;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code raftkit check-txn FILE}: judges a JSON-lines transaction history (any system's) with the
 * Elle-style checker and prints the verdict, each anomaly and its cycle.
 */
@Command(name = "check-txn", mixinStandardHelpOptions = true,
        description = "Check a transaction history (JSON lines: list-append and register transactions; the format is"
                + " in docs/jepsen.md) for isolation anomalies, Elle's way: infer ww, wr, rw, process and real-time"
                + " dependencies, find cycles, and name them (G0, G1a, G1b, G1c, G-single, G2-item, their -process"
                + " and -realtime variants, internal, incompatible-order, duplicate-elements, garbage-read,"
                + " lost-append).",
        footer = {"", "Exit codes: 0 valid under the model, 1 anomalies the model forbids, 2 bad arguments or a"
                + " malformed file (the line and what is wrong are printed).",
                "", "Examples:", "  raftkit check-txn history.jsonl",
                "  raftkit check-txn history.jsonl --model serializable --html anomalies.html",
                "  raftkit check-txn history.jsonl --json > result.json"})
final class CheckTxnCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The history, one transaction per line ('-' for stdin).")
    String file;

    @Option(names = "--model", paramLabel = "MODEL", defaultValue = "strict-serializable",
            description = "serializable or strict-serializable (default): which anomalies make the history invalid."
                    + " All are reported either way.")
    String model;

    @Option(names = "--json", description = "Print the result as one JSON object instead of text.")
    boolean json;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write the result as an HTML fragment"
            + " (verdict, counts, each cycle drawn) to FILE.")
    Path html;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Consistency consistency;
        if (model.equals("serializable")) {
            consistency = Consistency.SERIALIZABLE;
        } else if (model.equals("strict-serializable")) {
            consistency = Consistency.STRICT_SERIALIZABLE;
        } else {
            err.println("--model " + model + ": use serializable or strict-serializable");
            return 2;
        }
        TxnHistory history;
        try (Reader in = file.equals("-") ? new InputStreamReader(System.in, StandardCharsets.UTF_8)
                : Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
            history = TxnJsonLines.read(in);
        } catch (NoSuchFileException e) {
            err.println(file + ": no such file");
            return 2;
        } catch (IOException e) {
            err.println(file + ": cannot read it: " + e.getMessage());
            return 2;
        } catch (IllegalArgumentException e) {
            err.println(file + ": " + e.getMessage());
            return 2;
        }
        TxnResult r = TxnChecker.check(history, consistency);
        if (json) {
            out.println(r.toJson());
        } else {
            for (Anomaly a : r.anomalies()) {
                out.println(a.explanation());
                for (CycleStep s : a.cycle()) {
                    out.println("  T" + s.from() + " -" + s.type().label() + "-> T" + s.to() + ": " + s.why());
                }
                out.println();
            }
            for (AnomalyType t : r.types()) {
                int shown = (int) r.anomalies().stream().filter(a -> a.type() == t).count();
                if (r.counts().get(t) > shown) {
                    out.println("(" + t.label() + ": " + shown + " of " + r.counts().get(t) + " shown)");
                }
                if (!consistency.forbids(t)) {
                    out.println("(" + t.label() + " is allowed by " + TxnResult.modelName(consistency) + ")");
                }
            }
            out.println(r.summary());
        }
        out.flush();
        if (html != null) {
            try {
                Files.writeString(html, r.toHtml(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                err.println("--html " + html + ": cannot write it: " + e.getMessage());
                return 2;
            }
        }
        return r.valid() ? 0 : 1;
    }
}
