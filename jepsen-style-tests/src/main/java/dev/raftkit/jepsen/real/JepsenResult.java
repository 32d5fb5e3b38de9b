package dev.raftkit.jepsen.real;

import dev.raftkit.jepsen.txn.TxnResult;
import java.nio.file.Path;
import java.util.List;

/**
 * What a run found.
 *
 * @param valid            linearizable, nothing lost, a leader after healing, converged, no harness failure
 * @param ops              operations in the history (final reads and backups' reads included)
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
 * @param txn              a {@code --sm sql} run's transactional check ({@link dev.raftkit.jepsen.txn.TxnChecker});
 *                         null for a key-value run. In a SQL run {@code ops}, {@code ok}, {@code failed} and
 *                         {@code indeterminate} count transactions, {@code anomalies} is the total of
 *                         {@link TxnResult#counts()} and {@code checkerMillis} the transactional checker's time
 * @param backups          what the {@code backup} nemesis did and its audit found; null when it did not run
 */
public record JepsenResult(boolean valid, int ops, int ok, int failed, int indeterminate, int anomalies, int lostWrites,
                           int faults, int replacements, long checkerMillis, long leaderMillis, List<String> problems,
                           Path reportDir, TxnResult txn, Backups backups) {

    /**
     * The {@code backup} nemesis's figures: backups taken, verified (checksums and state digests),
     * restored, and checked against the history as reads ({@link BackupReads}); crashes timed
     * into a backup, a snapshot, a snapshot install or a restore; nodes replaced by a node restored
     * from a backup chain.
     */
    public record Backups(int taken, int verified, int restored, int readsChecked, int crashes, int restoredMembers) {

        /** One line: {@code backups taken=6 verified=6 restored=6 read-checked=6 crashes=3 restored-members=1}. */
        @Override
        public String toString() {
            return "backups taken=" + taken + " verified=" + verified + " restored=" + restored + " read-checked="
                    + readsChecked + " crashes=" + crashes + " restored-members=" + restoredMembers;
        }
    }

    public JepsenResult {
        problems = List.copyOf(problems);
    }

    /** A run's result without the backup nemesis. */
    public JepsenResult(boolean valid, int ops, int ok, int failed, int indeterminate, int anomalies, int lostWrites,
                        int faults, int replacements, long checkerMillis, long leaderMillis, List<String> problems,
                        Path reportDir, TxnResult txn) {
        this(valid, ops, ok, failed, indeterminate, anomalies, lostWrites, faults, replacements, checkerMillis,
                leaderMillis, problems, reportDir, txn, null);
    }

    /** This result with the backup nemesis's figures. */
    public JepsenResult withBackups(Backups b) {
        return new JepsenResult(valid, ops, ok, failed, indeterminate, anomalies, lostWrites, faults, replacements,
                checkerMillis, leaderMillis, problems, reportDir, txn, b);
    }

    /** A key-value run's result (no transactional check). */
    public JepsenResult(boolean valid, int ops, int ok, int failed, int indeterminate, int anomalies, int lostWrites,
                        int faults, int replacements, long checkerMillis, long leaderMillis, List<String> problems,
                        Path reportDir) {
        this(valid, ops, ok, failed, indeterminate, anomalies, lostWrites, faults, replacements, checkerMillis,
                leaderMillis, problems, reportDir, null, null);
    }

    /** Committed transactions of a SQL run (ok, plus indeterminate ones a read shows took effect); 0 for key-value. */
    public int committedTxns() {
        return txn == null ? 0 : txn.committed();
    }

    /**
     * The last line the runner prints; a SQL run's adds the committed transactions and the
     * anomalies by class ({@code txn-anomalies=none} or, say, {@code txn-anomalies=G0:2,G-single:5}).
     */
    public String summaryLine() {
        if (txn != null) {
            StringBuilder classes = new StringBuilder();
            txn.counts().forEach((t, c) -> classes.append(classes.isEmpty() ? "" : ",").append(t.label()).append(':')
                    .append(c));
            return (valid ? "valid" : "INVALID") + ": txns=" + ops + " ok=" + ok + " failed=" + failed
                    + " indeterminate=" + indeterminate + " committed=" + txn.committed() + " anomalies=" + anomalies
                    + " txn-anomalies=" + (classes.isEmpty() ? "none" : classes) + " (faults=" + faults + ", replaced="
                    + replacements + ", checker " + checkerMillis + " ms" + backupPart() + ")";
        }
        return (valid ? "valid" : "INVALID") + ": ops=" + ops + " ok=" + ok + " failed=" + failed + " indeterminate="
                + indeterminate + " anomalies=" + anomalies + " lost-writes=" + lostWrites + " (faults=" + faults
                + ", replaced=" + replacements + ", checker " + checkerMillis + " ms" + backupPart() + ")";
    }

    private String backupPart() {
        return backups == null ? "" : ", " + backups;
    }
}
