package dev.raftkit.storage.backup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the newest N chains of a {@link DirectoryTarget} and deletes older whole chains (a chain:
 * a full backup and every backup that descends from it through parent links).
 *
 * <p><b>Never a backup a kept one needs:</b> every ancestor of a kept backup is kept, whatever its
 * chain. <b>Crash-safe:</b> a chain is deleted full backup first, renamed out of the listing in one
 * step: from then on what is left of it has no full backup to start from, so no restore or verify
 * can take it for a valid chain. A crash between the steps leaves such remnants (backups older than
 * every kept full backup, whose full backup is gone) and {@code .pruning-} directories; the next
 * prune removes both. Backups whose manifest cannot be read are never deleted (they might be a link
 * a kept chain needs), nor are remnants newer than the oldest kept full backup (an operator's copy
 * with a gap to repair). Blocking; call it where backups are taken (one at a time per target).
 */
public final class BackupRetention {

    private static final Logger LOG = LoggerFactory.getLogger(BackupRetention.class);

    /** Called after each step of a prune (testing: a thrown exception is a crash at that point). */
    interface Steps {
        Steps NONE = step -> { };

        void after(String step) throws IOException;
    }

    /**
     * What a prune did.
     *
     * @param removed the backup directories deleted, in the order they went (each chain's full backup first)
     * @param kept    the full backups of the chains kept, newest first
     */
    public record Pruned(List<Path> removed, List<Path> kept) {
        public Pruned {
            removed = List.copyOf(removed);
            kept = List.copyOf(kept);
        }
    }

    private BackupRetention() {
    }

    /** Keeps the {@code keepChains} newest chains of {@code target} (read with {@code key}), deleting the rest. */
    public static Pruned prune(DirectoryTarget target, BackupKey key, int keepChains) throws IOException {
        return prune(target, key, keepChains, Steps.NONE);
    }

    static Pruned prune(DirectoryTarget target, BackupKey key, int keepChains, Steps steps) throws IOException {
        if (keepChains < 1) {
            throw new IllegalArgumentException("keep at least one chain, got " + keepChains);
        }
        for (Path p : target.finishDeletes()) {
            LOG.warn("removed {}: a prune was cut off while it deleted this backup", p);
        }
        Map<String, BackupChain.Backup> byId = new HashMap<>();
        List<BackupChain.Backup> all = new ArrayList<>();
        for (String name : target.list()) {
            Path dir = target.read(name);
            try {
                BackupChain.Backup b = new BackupChain.Backup(dir, BackupManifest.read(target.io(), dir, key));
                byId.put(b.manifest().id(), b);
                all.add(b);
            } catch (BackupException unreadable) {
                LOG.warn("retention leaves {} alone: its manifest cannot be read ({})", dir, unreadable.getMessage());
            }
        }
        // Each backup's full backup, through its parents; null if a link is missing.
        Map<String, String> fullOf = new HashMap<>();
        for (BackupChain.Backup b : all) {
            BackupChain.Backup x = b;
            Set<String> seen = new HashSet<>();
            while (x != null && x.manifest().kind() != BackupKind.FULL && seen.add(x.manifest().id())) {
                x = byId.get(x.manifest().parentId());
            }
            fullOf.put(b.manifest().id(), x != null && x.manifest().kind() == BackupKind.FULL ? x.manifest().id() : null);
        }
        List<BackupChain.Backup> fulls = all.stream().filter(b -> b.manifest().kind() == BackupKind.FULL)
                .sorted(Comparator.comparingLong((BackupChain.Backup b) -> b.manifest().sequence()).reversed()).toList();
        List<BackupChain.Backup> keptFulls = fulls.subList(0, Math.min(keepChains, fulls.size()));
        Set<String> keptChains = new HashSet<>();
        keptFulls.forEach(f -> keptChains.add(f.manifest().id()));
        long oldestKept = keptFulls.isEmpty() ? Long.MIN_VALUE : keptFulls.get(keptFulls.size() - 1).manifest().sequence();
        // Every ancestor of a kept backup stays, whatever chain it is in.
        Set<String> needed = new HashSet<>();
        for (BackupChain.Backup b : all) {
            String full = fullOf.get(b.manifest().id());
            boolean kept = full != null ? keptChains.contains(full) : b.manifest().sequence() > oldestKept;
            for (BackupChain.Backup x = b; kept && x != null && needed.add(x.manifest().id()); ) {
                x = x.manifest().parentId() == null ? null : byId.get(x.manifest().parentId());
            }
        }
        // Doomed, chain by chain, oldest chain first, each full backup before its dependents.
        List<BackupChain.Backup> doomed = new ArrayList<>();
        List<BackupChain.Backup> byAge = all.stream()
                .sorted(Comparator.comparingLong((BackupChain.Backup b) -> b.manifest().sequence())).toList();
        for (BackupChain.Backup f : byAge) {
            if (f.manifest().kind() == BackupKind.FULL && !needed.contains(f.manifest().id())) {
                doomed.add(f);
                for (BackupChain.Backup b : byAge) {
                    if (b != f && f.manifest().id().equals(fullOf.get(b.manifest().id()))
                            && !needed.contains(b.manifest().id())) {
                        doomed.add(b);
                    }
                }
            }
        }
        for (BackupChain.Backup b : byAge) {
            // Remnants of a cut prune: their full backup is gone, and they are older than every kept chain.
            if (fullOf.get(b.manifest().id()) == null && b.manifest().sequence() < oldestKept
                    && !needed.contains(b.manifest().id())) {
                doomed.add(b);
            }
        }
        List<Path> removed = new ArrayList<>();
        for (BackupChain.Backup b : doomed) {
            String name = b.dir().getFileName().toString();
            target.delete(name);
            removed.add(b.dir());
            LOG.info("retention (keep {} chains) deleted backup {}", keepChains, b.dir());
            steps.after("deleted " + name);
        }
        return new Pruned(removed, keptFulls.stream().map(BackupChain.Backup::dir).toList());
    }
}
