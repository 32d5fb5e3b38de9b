package dev.raftkit.storage.backup;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link BackupSchedule} into one {@link DirectoryTarget}, with retention: each
 * {@link #runDue()} takes the one backup that is due now, if any (a full backup before a
 * differential before an incremental), then prunes the target to the newest {@code keepChains}
 * chains ({@link BackupRetention}), and records what ran and what failed for {@link #status()}.
 *
 * <p>It owns no thread and reads time only from its {@link Clock}: a node calls {@link #runDue()}
 * from its scheduler thread every few seconds; a test calls it with a clock it moves, in virtual
 * time. When each kind is next due is worked out from the backups the target already holds (their
 * manifests' creation times), so a restarted node neither repeats nor skips a backup. A failed
 * backup is retried after {@code retry}, not at once. <b>Threads:</b> any thread;
 * {@link #runDue()} blocks for as long as the backup takes and runs one at a time;
 * {@link #status()} never waits for a running backup.
 */
public final class BackupScheduler {

    private static final Logger LOG = LoggerFactory.getLogger(BackupScheduler.class);
    /** How many runs and failures {@link #status()} remembers. */
    static final int HISTORY = 100;

    /** Takes one backup of a kind (a node's {@link BackupService#take}). */
    public interface Taker {
        /**
         * Takes a backup of {@code kind}, blocking until it is durable. Called on the thread that
         * called {@link #runDue()}; may block for as long as the backup takes. An exception means
         * no backup was published; it is recorded as a failure and the kind retried later.
         */
        BackupService.Result take(BackupKind kind) throws IOException;
    }

    /**
     * A backup the schedule took.
     *
     * @param at             when it started
     * @param asked          the kind that was due
     * @param taken          the kind taken (FULL when it fell back)
     * @param lastIndex      the last index it covers
     * @param bytes          its data files' size
     * @param directory      where it is
     * @param fallbackReason why a full backup was taken instead, or null
     * @param took           how long it took
     */
    public record Run(Instant at, BackupKind asked, BackupKind taken, long lastIndex, long bytes, Path directory,
                      String fallbackReason, Duration took) {
    }

    /** A scheduled backup of {@code kind} that failed at {@code at}, and why. */
    public record Failure(Instant at, BackupKind kind, String reason) {
    }

    /** When {@code kind} is next due (past: it is due now), taken every {@code every}. */
    public record Due(BackupKind kind, Instant at, Duration every) {
    }

    /**
     * What the schedule did and will do.
     *
     * @param schedule   the schedule
     * @param keepChains how many chains retention keeps (0: all)
     * @param root       the target's directory
     * @param ran        the backups it took, oldest first (the last {@value #HISTORY})
     * @param failed     the backups that failed, oldest first (the last {@value #HISTORY})
     * @param due        when each scheduled kind is next due
     * @param pruned     the backups retention deleted, oldest first (the last {@value #HISTORY})
     * @param running    the kind being taken now, or null
     */
    public record Status(BackupSchedule schedule, int keepChains, Path root, List<Run> ran, List<Failure> failed,
                         List<Due> due, List<Path> pruned, BackupKind running) {
    }

    private final BackupSchedule schedule;
    private final int keepChains;
    private final DirectoryTarget target;
    private final BackupKey key;
    private final Clock clock;
    private final Duration retry;
    private final Taker taker;
    /** The newest backup of each kind, or counting for it (a full counts for all). Guarded by this. */
    private final Map<BackupKind, Instant> last = new EnumMap<>(BackupKind.class);
    private final Map<BackupKind, Instant> notBefore = new EnumMap<>(BackupKind.class);
    private final Deque<Run> ran = new ArrayDeque<>();
    private final Deque<Failure> failed = new ArrayDeque<>();
    private final Deque<Path> pruned = new ArrayDeque<>();
    private volatile BackupKind running;
    private final Object runLock = new Object();

    /**
     * @param schedule   what to take how often
     * @param keepChains keep this many newest chains, deleting older ones after each backup; 0 keeps all
     * @param target     where the backups go
     * @param key        the key the target's backups are encrypted with (null: plaintext)
     * @param clock      the only source of time
     * @param retry      how long after a failure the kind is tried again
     * @param taker      takes one backup into {@code target}
     */
    public BackupScheduler(BackupSchedule schedule, int keepChains, DirectoryTarget target, BackupKey key, Clock clock,
                           Duration retry, Taker taker) throws IOException {
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        if (keepChains < 0) {
            throw new IllegalArgumentException("keepChains must not be negative, got " + keepChains);
        }
        this.keepChains = keepChains;
        this.target = Objects.requireNonNull(target, "target");
        this.key = key;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.retry = Objects.requireNonNull(retry, "retry");
        this.taker = Objects.requireNonNull(taker, "taker");
        for (String name : target.list()) {
            try {
                BackupManifest m = BackupManifest.read(target.io(), target.read(name), key);
                record(m.kind(), m.createdAt());
            } catch (BackupException unreadable) {
                LOG.warn("backup schedule: {} is not counted ({})", name, unreadable.getMessage());
            }
        }
    }

    private synchronized void record(BackupKind kind, Instant at) {
        for (BackupKind k : BackupKind.values()) {
            boolean counts = kind == BackupKind.FULL || k == kind || (kind == BackupKind.DIFFERENTIAL
                    && k == BackupKind.INCREMENTAL);
            if (counts && (last.get(k) == null || at.isAfter(last.get(k)))) {
                last.put(k, at);
            }
        }
    }

    /** When {@code kind} is next due; null if the schedule does not take it. */
    private synchronized Instant dueAt(BackupKind kind) {
        Duration every = schedule.of(kind);
        if (every == null) {
            return null;
        }
        Instant prev = last.get(kind);
        Instant at = prev == null ? Instant.EPOCH : prev.plus(every);
        Instant wait = notBefore.get(kind);
        return wait != null && wait.isAfter(at) ? wait : at;
    }

    /** The kind due at {@code now} (the biggest, if several), or null. */
    public BackupKind dueNow(Instant now) {
        for (BackupKind k : new BackupKind[] {BackupKind.FULL, BackupKind.DIFFERENTIAL, BackupKind.INCREMENTAL}) {
            Instant at = dueAt(k);
            if (at != null && !at.isAfter(now)) {
                return k;
            }
        }
        return null;
    }

    /**
     * Takes the backup that is due now, if any, then applies retention. Returns what ran, or null
     * if nothing was due or the backup failed (the failure is in {@link #status()} and the log).
     */
    public Run runDue() {
        synchronized (runLock) {
            Instant now = clock.instant();
            BackupKind kind = dueNow(now);
            if (kind == null) {
                return null;
            }
            running = kind;
            try {
                BackupService.Result r = taker.take(kind);
                BackupManifest m = r.manifest();
                Run run = new Run(now, kind, m.kind(), m.lastIndex(),
                        m.files().stream().mapToLong(BackupFile::sizeBytes).sum(), r.backup().dir(), r.fallbackReason(),
                        Duration.between(now, clock.instant()));
                record(m.kind(), now);
                LOG.info("scheduled {} backup into {}: {} at index {}", kind.word(), r.backup().dir(), m.kind().word(),
                        m.lastIndex());
                prune();
                // Listed once its retention is done too: a reader who sees the run sees what it pruned.
                synchronized (this) {
                    notBefore.remove(kind);
                    push(ran, run);
                }
                return run;
            } catch (IOException | RuntimeException e) {
                synchronized (this) {
                    notBefore.put(kind, now.plus(retry));
                    push(failed, new Failure(now, kind, String.valueOf(e.getMessage())));
                }
                LOG.warn("scheduled {} backup into {} failed (retried in {}): {}", kind.word(), target.root(),
                        BackupSchedule.show(retry), e.toString());
                return null;
            } finally {
                running = null;
            }
        }
    }

    private void prune() {
        if (keepChains == 0) {
            return;
        }
        try {
            BackupRetention.Pruned p = BackupRetention.prune(target, key, keepChains);
            synchronized (this) {
                p.removed().forEach(d -> push(pruned, d));
            }
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                push(failed, new Failure(clock.instant(), BackupKind.FULL, "retention (keep " + keepChains
                        + " chains) failed: " + e.getMessage()));
            }
            LOG.warn("backup retention in {} failed: {}", target.root(), e.toString());
        }
    }

    private static <T> void push(Deque<T> d, T t) {
        d.addLast(t);
        while (d.size() > HISTORY) {
            d.removeFirst();
        }
    }

    /** What ran, what failed, what is due. Any thread; never waits for a running backup. */
    public synchronized Status status() {
        List<Due> due = new ArrayList<>();
        for (BackupKind k : new BackupKind[] {BackupKind.FULL, BackupKind.DIFFERENTIAL, BackupKind.INCREMENTAL}) {
            Instant at = dueAt(k);
            if (at != null) {
                due.add(new Due(k, at, schedule.of(k)));
            }
        }
        return new Status(schedule, keepChains, target.root(), List.copyOf(ran), List.copyOf(failed), due,
                List.copyOf(pruned), running);
    }
}
