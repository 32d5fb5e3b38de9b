package dev.raftkit.jepsen.real;

import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.ForwardingFileIo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * TESTING ONLY: the real file system, with a stall and a fill the harness injects at run time.
 * A real disk cannot be made to hang or fill on demand without root, so a node process started
 * with the hidden {@code --testing-disk-control FILE} option opens its log over this
 * {@link FileIo}, and the harness writes one word into {@code FILE}:
 *
 * <ul>
 *   <li>{@code stall}: every fsync (file or directory) blocks until the word changes, as a device
 *       that stopped answering; writes before it go to the page cache as usual;
 *   <li>{@code fill BYTES}: {@link #usableSpace} reports {@code BYTES} free (below the node's
 *       {@code minFreeDiskBytes}), while writes still succeed;
 *   <li>anything else, or no file: the real disk, unchanged.
 * </ul>
 *
 * <p>What is real: the files, the writes and the fsyncs (when not stalled). What is injected:
 * the hang (a real fsync is not slowed, the caller waits before it) and the free space (the
 * real free space is not reported under a fill). The file is re-read at most every 20 ms, on the
 * caller's thread (the log writer), so the check costs nothing measurable per fsync.
 */
public final class DiskControl extends ForwardingFileIo {

    private static final long REREAD_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final Path control;
    private long readAt;
    private String word = "";

    /** A file system controlled by the contents of {@code control} (which need not exist yet). */
    public DiskControl(Path control) {
        super(FileIo.real());
        this.control = control;
    }

    /** The control file of the node whose data directory is {@code dataDir}: beside it, outside the data. */
    public static Path controlFile(Path dataDir) {
        Path abs = dataDir.toAbsolutePath();
        return abs.resolveSibling(abs.getFileName() + ".disk-control");
    }

    /** Writes {@code word} into {@code control} for the node that polls it (the harness's side). */
    public static void set(Path control, String word) throws IOException {
        Path tmp = control.resolveSibling(control.getFileName() + ".tmp");
        Files.writeString(tmp, word, StandardCharsets.UTF_8);
        Files.move(tmp, control, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private synchronized String word() {
        long now = System.nanoTime();
        if (now - readAt >= REREAD_NANOS || readAt == 0) {
            readAt = now;
            try {
                word = Files.readString(control, StandardCharsets.UTF_8).trim();
            } catch (NoSuchFileException e) {
                word = "";
            } catch (IOException e) {
                // A control file half-replaced: keep the last word until the next read.
            }
        }
        return word;
    }

    /** Blocks while the control word is {@code stall}: the injected hang. */
    private void awaitNoStall() {
        while (word().equals("stall")) {
            LockSupport.parkNanos(REREAD_NANOS);
        }
    }

    @Override
    public long usableSpace(Path dir) throws IOException {
        String w = word();
        if (w.startsWith("fill ")) {
            return Long.parseLong(w.substring(5).trim());
        }
        return delegate.usableSpace(dir);
    }

    @Override
    public Handle open(Path file) throws IOException {
        return new ForwardingHandle(delegate.open(file)) {
            @Override
            public void force() throws IOException {
                awaitNoStall();
                delegate.force();
            }
        };
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        awaitNoStall();
        delegate.syncDirectory(dir);
    }
}
