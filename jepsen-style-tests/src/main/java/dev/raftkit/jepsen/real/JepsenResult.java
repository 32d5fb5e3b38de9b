package dev.raftkit.jepsen.real;

import java.nio.file.Path;
import java.util.List;

/**
 * What a run found.
 *
 * @param valid            linearizable, nothing lost, a leader after healing, converged, no harness failure
 * @param ops              operations in the history (final reads included)
 * @param ok               completed OK
 * @param failed           definitely did not happen
 * @param indeterminate    timed out writes/CAS (may or may not have happened)
 * @param anomalies        keys not linearizable, or whose check ran out of budget
 * @param lostWrites       acknowledged writes definitely overwritten by an older value at the end
 * @param faults           faults injected
 * @param replacements     nodes replaced by new ones: after refusing their data, or by the membership nemesis
 * @param checkerMillis    time the linearizability checker took
 * @param leaderMillis     time from healing to an agreed leader (-1: none)
 * @param problems         human-readable reasons for INVALID (empty when valid)
 * @param reportDir        where the report is
 */
public record JepsenResult(boolean valid, int ops, int ok, int failed, int indeterminate, int anomalies, int lostWrites,
                           int faults, int replacements, long checkerMillis, long leaderMillis, List<String> problems,
                           Path reportDir) {

    public JepsenResult {
        problems = List.copyOf(problems);
    }

    /** The last line the runner prints. */
    public String summaryLine() {
        return (valid ? "valid" : "INVALID") + ": ops=" + ops + " ok=" + ok + " failed=" + failed + " indeterminate="
                + indeterminate + " anomalies=" + anomalies + " lost-writes=" + lostWrites + " (faults=" + faults
                + ", replaced=" + replacements + ", checker " + checkerMillis + " ms)";
    }
}
