package dev.raftkit.jepsen.sim;

import dev.raftkit.core.message.Message;
import dev.raftkit.runtime.TestingHooks;

/**
 * Deliberate departures from the Ready contract or the client path, for proving that the
 * simulator catches them. The default hooks do nothing wrong; tests override one at a time.
 * Those that break the runtime itself are the runtime's testing-only hook point ({@link
 * TestingHooks}, inherited), handed to the real {@code RaftServer}; the others act in the storage
 * ({@link #cutLogAtFirstInvalidRecord}), the simulated network ({@link #rewrite}) or the simulated
 * clients.
 */
public interface Hooks extends TestingHooks {

    Hooks NONE = new Hooks() {
        @Override
        public String name() {
            return "none";
        }
    };

    /** The planted bugs {@link #named} knows, by name. */
    java.util.List<String> PLANTED = java.util.List.of("send-before-persist", "ack-before-commit",
            "read-from-believed-leader", "apply-before-commit", "trust-lost-state", "cut-log-at-first-invalid-record",
            "answer-for-any-term", "forget-session-responses-on-restore", "restore-unverified-snapshot",
            "nondeterministic-apply", "keep-entries-past-any-snapshot", "ignore-disk-stall",
            "ignore-disk-full", "trust-named-match", "accept-gapped-backup-chain", "skip-unheld-state-switch",
            "publish-restored-directories-early", "split-sql-transactions");

    /**
     * The hooks named {@code name}: {@code none}, or one planted bug of {@link #PLANTED} (for
     * {@code raftkit sim --plant NAME} and schedule files, which name their hooks).
     *
     * @throws IllegalArgumentException for a name it does not know, listing those it does
     */
    static Hooks named(String name) {
        if (name.equals("none")) {
            return NONE;
        }
        if (!PLANTED.contains(name)) {
            throw new IllegalArgumentException("unknown planted bug '" + name + "'; known: none, " + String.join(", ", PLANTED));
        }
        return new Hooks() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean sendBeforePersist() {
                return name.equals("send-before-persist");
            }

            @Override
            public boolean ackBeforeCommit() {
                return name.equals("ack-before-commit");
            }

            @Override
            public boolean readFromBelievedLeader() {
                return name.equals("read-from-believed-leader");
            }

            @Override
            public boolean applyBeforeCommit() {
                return name.equals("apply-before-commit");
            }

            @Override
            public boolean trustLostState() {
                return name.equals("trust-lost-state");
            }

            @Override
            public boolean cutLogAtFirstInvalidRecord() {
                return name.equals("cut-log-at-first-invalid-record");
            }

            @Override
            public boolean answerForAnyTerm() {
                return name.equals("answer-for-any-term");
            }

            @Override
            public boolean forgetSessionResponsesOnRestore() {
                return name.equals("forget-session-responses-on-restore");
            }

            @Override
            public boolean restoreUnverifiedSnapshot() {
                return name.equals("restore-unverified-snapshot");
            }

            @Override
            public boolean keepEntriesPastAnySnapshot() {
                return name.equals("keep-entries-past-any-snapshot");
            }

            @Override
            public boolean trustNamedMatch() {
                return name.equals("trust-named-match");
            }

            @Override
            public boolean ignoreDiskStall() {
                return name.equals("ignore-disk-stall");
            }

            @Override
            public boolean ignoreDiskFull() {
                return name.equals("ignore-disk-full");
            }

            @Override
            public boolean nondeterministicApply() {
                return name.equals("nondeterministic-apply");
            }

            @Override
            public boolean acceptGappedBackupChain() {
                return name.equals("accept-gapped-backup-chain");
            }

            @Override
            public boolean skipUnheldStateSwitch() {
                return name.equals("skip-unheld-state-switch");
            }

            @Override
            public boolean publishRestoredDirectoriesEarly() {
                return name.equals("publish-restored-directories-early");
            }

            @Override
            public boolean splitSqlTransactions() {
                return name.equals("split-sql-transactions");
            }
        };
    }

    /**
     * The name {@link #named} knows these hooks by, or null for hooks written in code (a run
     * with them cannot be replayed from a schedule file).
     */
    default String name() {
        return null;
    }


    /** Acknowledge a client write as soon as the leader proposes it, before it commits. */
    default boolean ackBeforeCommit() {
        return false;
    }

    /** Read the local state of any node that believes it leads, without ReadIndex (the clients' bug). */
    default boolean readFromBelievedLeader() {
        return false;
    }



    /**
     * Recovery cuts the log at the first invalid record as if torn, without recovering
     * (the storage's {@link dev.raftkit.storage.StorageTestingHooks#cutAtFirstInvalidRecord}).
     */
    default boolean cutLogAtFirstInvalidRecord() {
        return false;
    }




    /**
     * Backup chain verification bridges a missing increment (the storage's {@link
     * dev.raftkit.storage.StorageTestingHooks#acceptGappedBackupChain}).
     */
    default boolean acceptGappedBackupChain() {
        return false;
    }

    /**
     * A restore into several directories publishes each as soon as it is written, before the
     * others (the storage's {@link
     * dev.raftkit.storage.StorageTestingHooks#publishRestoredDirectoriesEarly}).
     */
    default boolean publishRestoredDirectoriesEarly() {
        return false;
    }

    /**
     * The SQL state machine splits transactions: a request's last write runs after the next
     * request ({@code dev.raftkit.sql.SqlStateMachine#testingOnlySplitTransactions}), so other
     * transactions see it half done. Replicas stay identical; only the {@link SqlAppendWorkload}'s
     * transactional checker can see it (other workloads run the correct state machine).
     */
    default boolean splitSqlTransactions() {
        return false;
    }

    /**
     * The workload's state machine is not deterministic: on each node, now and then, two commands
     * of a batch are applied in each other's place (as a state machine applying on several
     * threads would). Replicas part although every one applied the same log.
     */
    default boolean nondeterministicApply() {
        return false;
    }

    /** Rewrite a message as it leaves {@code node} (e.g. forge a vote); return it unchanged by default. */
    default Message rewrite(long node, Message m) {
        return m;
    }
}
