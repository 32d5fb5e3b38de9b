package dev.raftkit.storage;

import dev.raftkit.core.HardState;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.spi.StorageException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up of a {@link SegmentedLogStorage}: reads the meta and hard-state files, verifies every
 * segment, repairs only what a crash can explain (leftover temporary files, segments of an
 * interrupted snapshot install, a torn tail of the open segment) and refuses to start on anything
 * else. The rules are listed in {@code docs/storage-format.md}, "Recovery".
 */
final class LogRecovery {

    private static final Logger LOG = LoggerFactory.getLogger(LogRecovery.class);
    private static final Pattern OPEN = Pattern.compile("log_inprogress_(\\d{20})");
    private static final Pattern CLOSED = Pattern.compile("log_(\\d{20})-(\\d{20})");

    record Recovered(List<SegmentFile> segments, TermRuns terms, LogMeta meta, HardState hardState) {
    }

    private final FileIo io;
    private final Path dir;
    private final SegmentedLogStorage.Options options;
    private final StorageTestingHooks hooks;

    LogRecovery(FileIo io, Path dir, SegmentedLogStorage.Options options, StorageTestingHooks hooks) {
        this.io = io;
        this.dir = dir;
        this.options = options;
        this.hooks = hooks;
    }

    Recovered recover() throws IOException {
        List<SegmentFile> segments = new ArrayList<>();
        Map<Path, FileIo.Handle> locked = new HashMap<>();
        try {
            return recover(segments, locked);
        } catch (IOException | RuntimeException e) {
            for (SegmentFile s : segments) {
                locked.remove(s.path);
                s.handle.close();
            }
            for (FileIo.Handle h : locked.values()) {
                h.close();
            }
            throw e;
        }
    }

    /**
     * Opens and locks every segment before anything in the directory is touched. The directory's
     * LOCK file can be deleted while its server runs, and then a second process's lock on a new
     * LOCK file succeeds; but the running server holds a lock on each segment it has open, which
     * is the same file whatever happened to LOCK, so the second process stops here, having
     * changed nothing (it must not delete the running server's spare segment, say).
     */
    private void lockSegments(List<String> names, Map<Path, FileIo.Handle> locked) throws IOException {
        for (String name : names) {
            if (!OPEN.matcher(name).matches() && !CLOSED.matcher(name).matches()) {
                continue;
            }
            Path path = dir.resolve(name);
            FileIo.Handle h = io.open(path);
            locked.put(path, h);
            if (!h.tryLock()) {
                throw new StorageException("data directory " + dir + " is in use: the log segment " + name
                        + " is locked by another process (or another log in this process), although the directory's"
                        + " lock file let this one in (was " + SegmentedLogStorage.LOCK_FILE + " deleted?); stop the"
                        + " other server first, or give this node its own data directory");
            }
        }
    }

    private Recovered recover(List<SegmentFile> segments, Map<Path, FileIo.Handle> locked) throws IOException {
        boolean dirChanged = false;
        List<String> names = io.list(dir);
        lockSegments(names, locked);
        for (String name : names) {
            if (name.endsWith(ChecksummedFile.TMP_SUFFIX)) {
                // A crash before the rename that would have published it: never part of the state.
                // A spare segment is expected after a crash: it is always there while the log is open.
                if (name.equals(SpareSegment.NAME)) {
                    LOG.debug("removing the spare segment left in {} by a crash", dir);
                } else {
                    LOG.warn("removing {} left by an interrupted write in {}", name, dir);
                }
                io.delete(dir.resolve(name));
                dirChanged = true;
            }
        }
        LogMeta meta = LogMeta.read(io, dir);
        HardStateFile hardStateFile = new HardStateFile(io, dir);
        HardState hs = hardStateFile.read();
        HardState hardState = hs == null ? HardState.EMPTY : hs;

        record Found(Path path, long first, long last, boolean open) {
        }
        List<Found> found = new ArrayList<>();
        for (String name : names) {
            Matcher o = OPEN.matcher(name);
            Matcher c = CLOSED.matcher(name);
            if (o.matches()) {
                found.add(new Found(dir.resolve(name), Long.parseLong(o.group(1)), -1, true));
            } else if (c.matches()) {
                found.add(new Found(dir.resolve(name), Long.parseLong(c.group(1)), Long.parseLong(c.group(2)), false));
            }
        }
        found.sort(Comparator.comparingLong(Found::first));

        TermRuns terms = new TermRuns();
        SegmentScanner.Tail tail = null;
        for (Found f : found) {
            FileIo.Handle h = locked.remove(f.path());
            SegmentScanner scanner;
            SegmentHeader header;
            try {
                scanner = new SegmentScanner(h, f.path(), hooks.cutAtFirstInvalidRecord());
                header = scanner.header();
            } catch (IOException | RuntimeException e) {
                h.close();
                throw e;
            }
            if (header.generation() < meta.generation()) {
                // installSnapshot made the new generation durable, then crashed before deleting this.
                LOG.warn("removing {}: a leftover of an interrupted snapshot install (generation {} < {})",
                        f.path().getFileName(), header.generation(), meta.generation());
                h.close();
                io.delete(f.path());
                dirChanged = true;
                continue;
            }
            SegmentFile seg = new SegmentFile(f.path(), h, header.firstIndex(), header.prevTerm(), f.open());
            segments.add(seg);
            if (header.generation() > meta.generation()) {
                throw SegmentScanner.corrupt(f.path(), 8, "generation " + header.generation()
                        + " is newer than the log meta's " + meta.generation());
            }
            if (header.firstIndex() != f.first()) {
                throw SegmentScanner.corrupt(f.path(), 16, "header says first index " + header.firstIndex()
                        + " but the file name says " + f.first());
            }
            if (tail != null) {
                throw SegmentScanner.corrupt(f.path(), 0, "a segment follows the open segment "
                        + segments.get(segments.size() - 2).path.getFileName());
            }
            long prevTerm = header.prevTerm();
            if (segments.size() == 1) {
                terms.reset(header.firstIndex() - 1, header.prevTerm());
            } else {
                SegmentFile prev = segments.get(segments.size() - 2);
                if (prev.lastIndex() + 1 != header.firstIndex()) {
                    throw SegmentScanner.corrupt(f.path(), 16, "the log has a gap: the previous segment ends at "
                            + prev.lastIndex() + " but this one starts at " + header.firstIndex());
                }
                long before = terms.termAt(prev.lastIndex());
                if (before != header.prevTerm()) {
                    throw SegmentScanner.corrupt(f.path(), 24, "header says entry " + prev.lastIndex()
                            + " has term " + header.prevTerm() + " but the log holds term " + before);
                }
            }
            tail = scanner.scan(seg, terms, prevTerm, f.open());
            if (!f.open() && seg.lastIndex() != f.last()) {
                throw SegmentScanner.corrupt(f.path(), seg.dataEnd, "the file name says it ends at index " + f.last()
                        + " but it holds records up to " + seg.lastIndex());
            }
        }

        long base = meta.base().index();
        if (!segments.isEmpty()) {
            SegmentFile first = segments.get(0);
            SegmentFile last = segments.get(segments.size() - 1);
            if (first.firstIndex > base + 1) {
                throw SegmentScanner.corrupt(first.path, 16, "the log starts at " + first.firstIndex
                        + " but the snapshot it follows ends at " + base + " (missing segments)");
            }
            if (base > last.lastIndex()) {
                throw SegmentScanner.corrupt(last.path, last.dataEnd, "the log ends at " + last.lastIndex()
                        + " before the snapshot index " + base + " recorded in " + LogMeta.FILE);
            }
            if (base >= first.firstIndex - 1 && terms.termAt(base) != meta.base().term()) {
                throw SegmentScanner.corrupt(first.path, 0, LogMeta.FILE + " says entry " + base + " has term "
                        + meta.base().term() + " but the log holds term " + terms.termAt(base));
            }
        } else {
            terms.reset(base, meta.base().term());
        }

        long lastIndex = segments.isEmpty() ? base : segments.get(segments.size() - 1).lastIndex();
        if (hs == null && lastIndex > 0) {
            // A crash never explains it (see HardStateFile.missing): refuse rather than forget a vote.
            throw hardStateFile.missing(dir, new EntryId(terms.termAt(lastIndex), lastIndex));
        }
        // Acknowledged-data guard: a commit index is persisted only after the entries it covers.
        if (hardState.commit() > lastIndex) {
            Path where = segments.isEmpty() ? dir : segments.get(segments.size() - 1).path;
            throw new StorageException("the durable commit index " + hardState.commit() + " is beyond the last "
                    + "entry " + lastIndex + " found in " + where + (tail != null && tail.tornAt() >= 0
                    ? " (the open segment ends in an invalid record at offset " + tail.tornAt() + ")" : "")
                    + ": committed entries are missing; the node will not start; restore this node from a peer "
                    + "or a backup");
        }
        if (tail != null && tail.tornAt() >= 0) {
            SegmentFile open = segments.get(segments.size() - 1);
            if (tail.damaged()) {
                // Unlike a torn write, this may have been synced and acknowledged: the node may have
                // promised a leader entries it is about to lose. It starts recovering (persisted
                // before the cut, so a crash in between cuts again and stays recovering): no vote
                // and no counted acknowledgement until it has caught up from a leader (§3.8).
                LOG.warn("cutting the damaged tail of {} at offset {} ({} bytes up to offset {}: not a torn write, and"
                        + " no valid record follows it); the log ends at index {}. The node may have acknowledged"
                        + " entries in it, so it starts recovering: it will not vote until it has caught up from a"
                        + " leader (thesis §3.8)", open.path, tail.tornAt(), tail.lastNonZero() - tail.tornAt() + 1,
                        tail.lastNonZero(), open.lastIndex());
                hardState = new HardState(hardState.term(), hardState.vote(), hardState.commit(), true);
                hardStateFile.write(hardState);
            } else {
                LOG.warn("truncating torn tail of {} at offset {} ({} bytes up to offset {} were never synced); "
                        + "the log ends at index {}", open.path, tail.tornAt(), tail.lastNonZero() - tail.tornAt() + 1,
                        tail.lastNonZero(), open.lastIndex());
            }
            open.cutAt(tail.tornAt(), options);
        }
        if (segments.isEmpty() || !segments.get(segments.size() - 1).open) {
            long next = lastIndex + 1;
            segments.add(SegmentFile.create(io, dir, options, meta.generation(), next, terms.termAt(lastIndex)));
            dirChanged = false; // SegmentFile.create synced the directory
        }
        if (hs == null) {
            // A new (empty) log: from now on a missing hard state means it was deleted (see above).
            hardStateFile.write(hardState);
            dirChanged = false; // the write synced the directory
        }
        if (dirChanged) {
            io.syncDirectory(dir);
        }
        return new Recovered(segments, terms, meta, hardState);
    }
}
