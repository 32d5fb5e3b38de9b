package dev.raftkit.storage.backup;

import dev.raftkit.core.log.Entry;
import dev.raftkit.runtime.StateReplay;
import dev.raftkit.storage.FileIo;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.OptionalLong;

/**
 * Restore by wall-clock time: finds the log index of a chain that a restore "as of time T" ends
 * at. Every command entry carries the time its leader stamped when it accepted it; the log time
 * at an index is the highest stamp up to it (leaders' clocks may disagree a little, so the
 * running maximum keeps it monotone, as the apply thread does). The target is the last index
 * whose log time is at or before T: everything the cluster had accepted by T, nothing after.
 *
 * <p>The manifests record their first and last times (docs/storage-format.md), so only the one
 * increment that holds T is read. A time before the chain's full backup or after its last entry
 * is refused with the range the chain covers.
 */
public final class PointInTime {

    /**
     * Where a restore to a time ends.
     *
     * @param time    the time asked for
     * @param index   the last index whose log time is at or before {@code time}
     * @param logTime the log time at {@code index} (the latest leader stamp it includes)
     * @param backup  the backup that holds {@code index}
     */
    public record Target(Instant time, long index, Instant logTime, Path backup) {
    }

    private PointInTime() {
    }

    /**
     * The index a restore of {@code chain} to {@code time} ends at.
     *
     * @throws BackupException if a manifest records no times (written before version 2), or
     *                         {@code time} is outside the range the chain covers (saying the range)
     */
    public static Target indexAt(BackupChain chain, Instant time, BackupKey key) throws IOException {
        return indexAt(FileIo.real(), chain, time, key);
    }

    /** {@link #indexAt(BackupChain, Instant, BackupKey)} over the file system {@code io}. */
    public static Target indexAt(FileIo io, BackupChain chain, Instant time, BackupKey key) throws IOException {
        for (BackupChain.Backup b : chain.backups()) {
            if (b.manifest().lastTime() == null) {
                throw new BackupException(b.dir().resolve(BackupManifest.FILE_NAME), "backup " + b.dir().getFileName()
                        + " records no entry times (taken before manifest version 2, or before any command was"
                        + " written), so this chain cannot be restored by time; restore it by index (--index)");
            }
        }
        BackupManifest full = chain.full().manifest();
        Instant from = full.lastTime();
        Instant to = chain.last().manifest().lastTime();
        if (time.isBefore(from) || time.isAfter(to)) {
            throw new BackupException(chain.full().dir(), "cannot restore to " + time + ": this chain covers " + from
                    + " (its full backup, index " + full.lastIndex() + ") to " + to + " (index "
                    + chain.last().manifest().lastIndex() + "); pick a time in that range, or a chain whose full"
                    + " backup is older");
        }
        BackupChain.Backup previous = chain.full();
        for (BackupChain.Backup b : chain.backups().subList(1, chain.backups().size())) {
            if (b.manifest().lastTime().isAfter(time)) {
                return within(io, b, previous, time, key);
            }
            previous = b;
        }
        BackupManifest last = chain.last().manifest();
        return new Target(time, last.lastIndex(), last.lastTime(), chain.last().dir());
    }

    /** The target inside increment {@code b}, whose log time passes {@code time}. */
    private static Target within(FileIo io, BackupChain.Backup b, BackupChain.Backup previous, Instant time,
                                 BackupKey key) throws IOException {
        long limit = time.toEpochMilli();
        long[] found = {b.manifest().prevIndex(), previous.manifest().lastTime().toEpochMilli()};
        boolean[] passed = {false};
        EntryFile.scan(io, b.dir().resolve(EntryFile.NAME), Long.MAX_VALUE, (Entry e) -> {
            if (passed[0]) {
                return;
            }
            OptionalLong stamp = StateReplay.leaderTimeMillis(e);
            long logTime = Math.max(found[1], stamp.orElse(Long.MIN_VALUE));
            if (logTime > limit) {
                passed[0] = true; // the first entry accepted after the time: stop before it
                return;
            }
            found[0] = e.index();
            found[1] = logTime;
        }, key, b.manifest().id());
        Path holder = found[0] == b.manifest().prevIndex() ? previous.dir() : b.dir();
        return new Target(time, found[0], Instant.ofEpochMilli(found[1]), holder);
    }
}
