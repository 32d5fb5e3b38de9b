package dev.raftkit.storage;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The next segment file, zero-filled to the segment size and forced ahead of need, so rolling to a
 * new segment costs a header write and a rename instead of writing and syncing a whole segment of
 * zeros on the append path (64 MiB by default: up to seconds on a busy disk, during which no entry
 * could be made durable). etcd's WAL does the same with its file pipeline.
 *
 * <p>The spare lives under a {@code .tmp} name, so a crash leaves nothing recovery would read:
 * start-up deletes it like any other interrupted write. Zero-filling (not a sparse file) is what
 * makes the later fdatasyncs cheap: the blocks are already allocated, so syncing an append need not
 * also write file-system metadata.
 *
 * <p><b>Threads:</b> {@link #take} and {@link #close} are called by the log's writer thread; the
 * filling runs on {@code executor} (the log's preallocation thread, or the caller itself in tests
 * whose simulated file system is single-threaded).
 */
final class SpareSegment implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(SpareSegment.class);
    static final String NAME = "log_spare" + ChecksummedFile.TMP_SUFFIX;

    private final FileIo io;
    private final Path path;
    private final long bytes;
    private final Executor executor;
    private volatile boolean closed;
    private CompletableFuture<FileIo.Handle> next;

    SpareSegment(FileIo io, Path dir, long bytes, Executor executor) {
        this.io = io;
        this.path = dir.resolve(NAME);
        this.bytes = bytes;
        this.executor = executor;
    }

    /**
     * Starts preparing the next spare unless one is being prepared or ready. Called on the first
     * append and after each roll, not at open: a log opened only to be read (a restore, a recovery
     * check) never writes one.
     */
    void prepare() {
        if (next != null) {
            return;
        }
        next = CompletableFuture.supplyAsync(() -> {
            try {
                return fill();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, executor);
    }

    private FileIo.Handle fill() throws IOException {
        io.delete(path);
        SegmentFile.checkSpace(io, path.getParent(), bytes);
        FileIo.Handle h = io.open(path);
        try {
            h.tryLock(); // it becomes an open segment, which another process must find locked
            h.truncate(0);
            SegmentFile.zeroFill(h, 0, bytes, () -> closed);
            if (!closed) {
                h.force();
            }
        } catch (IOException e) {
            h.close();
            throw SegmentFile.explainNoSpace(e, io, path.getParent(), bytes);
        } catch (RuntimeException e) {
            h.close();
            throw e;
        }
        return h;
    }

    /**
     * Hands over the prepared file, waiting for it if it is still being filled, and starts
     * preparing the next. The caller must move it away from {@link #path()} before the next take.
     *
     * @return the open, zero-filled, forced file, or null if preparing it failed (logged; the
     *     caller creates the segment itself, and reports any error that persists)
     */
    FileIo.Handle take() {
        FileIo.Handle h = null;
        if (next != null) {
            try {
                h = next.join();
            } catch (CompletionException e) {
                LOG.warn("could not prepare the next log segment {} ahead of time ({}); creating it on the append path",
                        path, e.getCause().toString());
            }
            next = null; // handed over: the caller owns it now
        }
        return h;
    }

    /** Where the spare is while prepared. */
    Path path() {
        return path;
    }

    /** Stops any filling in progress and removes the spare. */
    @Override
    public void close() throws IOException {
        closed = true;
        if (next == null) {
            return;
        }
        FileIo.Handle h = next.exceptionally(e -> null).join();
        if (h != null) {
            h.close();
        }
        io.delete(path);
    }
}
