package dev.raftkit.storage.backup;

import dev.raftkit.core.log.Entry;
import dev.raftkit.runtime.StateDigestAt;
import dev.raftkit.runtime.StateReplay;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that a backup chain holds the state it was taken from, which checksums cannot: each
 * manifest records the state machine's digest at its last index (docs/storage-format.md, "State
 * digests"); this rebuilds the state from a restored directory — the full backup's snapshot, then
 * the entries — in a scratch state machine of the cluster's kind, with the apply thread's own
 * session decisions ({@link StateReplay}), and compares the digest at each backup's index.
 *
 * <p>{@link BackupRestore} runs it before it reports success when given a state machine factory;
 * {@link #deepVerify} restores a whole chain into a scratch directory to run it
 * ({@code raftkit backup verify --deep}).
 *
 * <p><b>Threads:</b> the caller's; blocking (it runs the state machine's work, and reads every
 * entry once). A mismatch is a {@link BackupException} naming the backup and both digests.
 */
public final class StateVerification {

    private static final Logger LOG = LoggerFactory.getLogger(StateVerification.class);
    /** Bytes of entries read from the restored log per batch applied. */
    private static final long BATCH_BYTES = 4L << 20;

    /**
     * One backup's check.
     *
     * @param backup   the backup's directory
     * @param index    its last index, where the state was compared
     * @param recorded the digest its manifest records, or null if it records none (nothing compared)
     * @param rebuilt  the digest of the state rebuilt from the chain at {@code index}, or null if
     *                 the state machine has none
     */
    public record Check(Path backup, long index, String recorded, String rebuilt) {

        /** Whether a recorded digest was compared (and, since no exception came, matched). */
        public boolean compared() {
            return recorded != null;
        }
    }

    private StateVerification() {
    }

    /**
     * Rebuilds the state restored into {@code dataDir} (as {@link BackupRestore} wrote it from
     * {@code chain}, up to {@code target}) and compares it with every manifest's digest at or below
     * {@code target}, in chain order.
     *
     * @throws BackupException at the first backup whose recorded digest differs from the state
     *                         rebuilt there
     */
    static List<Check> check(FileIo io, Path dataDir, BackupChain chain, long target,
                             Supplier<? extends StateMachine> machines, SegmentedLogStorage.Options logOptions)
            throws IOException {
        Objects.requireNonNull(machines, "machines");
        List<Check> checks = new ArrayList<>();
        try (StateMachine sm = Objects.requireNonNull(machines.get(), "the state machine factory returned null")) {
            StateReplay replay = new StateReplay(sm);
            try (FileSnapshotStore store = FileSnapshotStore.open(io, dataDir.resolve(BackupRestore.SNAPSHOT_DIR))) {
                SnapshotDescriptor d = store.latest().orElseThrow(() -> new BackupException(dataDir,
                        "holds no snapshot after the restore wrote one; the disk lost it: restore again"));
                try (SnapshotReader r = store.open(d)) {
                    replay.restore(d.meta(), r.input());
                }
            }
            compare(chain.full(), replay.state(), checks);
            try (SegmentedLogStorage log = SegmentedLogStorage.open(io, dataDir.resolve(BackupRestore.LOG_DIR),
                    logOptions)) {
                for (BackupChain.Backup b : chain.backups().subList(1, chain.backups().size())) {
                    long to = b.manifest().lastIndex();
                    if (to > target) {
                        break; // a point-in-time restore: no manifest records the state past here
                    }
                    for (long next = replay.appliedIndex() + 1; next <= to; next = replay.appliedIndex() + 1) {
                        List<Entry> batch = log.entries(next, to + 1, BATCH_BYTES);
                        if (batch.isEmpty()) {
                            throw new BackupException(dataDir.resolve(BackupRestore.LOG_DIR), "the restored log ends"
                                    + " before index " + next + " that backup " + b.dir().getFileName() + " covers");
                        }
                        replay.apply(batch);
                    }
                    compare(b, replay.state(), checks);
                }
            }
        }
        return checks;
    }

    private static void compare(BackupChain.Backup b, StateDigestAt rebuilt, List<Check> checks)
            throws BackupException {
        BackupManifest m = b.manifest();
        String recorded = m.stateDigest();
        if (recorded != null && rebuilt.index() != m.lastIndex()) {
            throw new IllegalStateException("rebuilt to " + rebuilt.index() + " to check backup " + b.dir()
                    + " at " + m.lastIndex());
        }
        if (recorded != null && !recorded.equals(rebuilt.digest())) {
            throw new BackupException(b.dir().resolve(BackupManifest.FILE_NAME), "backup " + b.dir().getFileName()
                    + " records state digest " + recorded + " at index " + m.lastIndex() + ", but the state rebuilt"
                    + " from the chain there has " + (rebuilt.digest() == null ? "no digest (the state machine given"
                    + " computes none: give the kind the cluster ran)" : "digest " + rebuilt.digest())
                    + ": the backup does not hold the state it was taken from (written from a wrong state, a"
                    + " state machine that is not deterministic, or another kind of state machine than the"
                    + " cluster's); do not restore from it: take a new full backup");
        }
        checks.add(new Check(b.dir(), m.lastIndex(), recorded, rebuilt.digest()));
    }

    /** {@link #deepVerify(FileIo, List, BackupKey, Supplier, Path)} of a chain on the real file system. */
    public static List<Check> deepVerify(List<Path> chain, BackupKey key, Supplier<? extends StateMachine> machines,
                                         Path scratch) throws IOException {
        return deepVerify(FileIo.real(), chain, key, machines, scratch);
    }

    /**
     * Verifies {@code chain} ({@link BackupChain#verify}), restores all of it into a new directory
     * under {@code scratch}, rebuilds the state in a state machine from {@code machines} and
     * compares its digest with each manifest's; deletes the scratch copy whatever happens.
     *
     * @return one check per backup, in chain order ({@link Check#compared()} false where a
     *         manifest records no digest)
     * @throws BackupException naming the bad file, or the backup whose state differs and both digests
     */
    public static List<Check> deepVerify(FileIo io, List<Path> chain, BackupKey key,
                                         Supplier<? extends StateMachine> machines, Path scratch) throws IOException {
        io.createDirectories(scratch);
        Path dir = scratch.resolve("deep-verify");
        for (int n = 1; io.exists(dir); n++) {
            dir = scratch.resolve("deep-verify-" + n);
        }
        try {
            BackupRestore.Result r = BackupRestore.restore(io, chain, dir, BackupRestore.LATEST, key,
                    SegmentedLogStorage.Options.defaults(), machines);
            LOG.info("deep verify of {}: {} backups rebuilt to index {}, {} digests compared", chain.get(0),
                    chain.size(), r.lastIndex(), r.checks().stream().filter(Check::compared).count());
            return r.checks();
        } finally {
            BackupLayout.deleteRecursively(io, dir);
        }
    }
}
