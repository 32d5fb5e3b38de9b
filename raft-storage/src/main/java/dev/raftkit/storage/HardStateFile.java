package dev.raftkit.storage;

import dev.raftkit.core.HardState;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.spi.StorageException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The log's {@code hardstate} file: term, vote, commit index and the recovering flag, as a
 * {@link ChecksummedFile} with magic {@code RKHS} and the payload of {@link Codecs#hardState(HardState)}
 * (format in {@code docs/storage-format.md}). Replaced atomically, so a crash leaves the old or the
 * new hard state, never a mix; a file that fails its length, checksum, magic, version or decoding
 * was damaged after it was written, and reading it fails naming the file.
 *
 * <p>Threads: the log's writer thread (and the thread that opens the log, during recovery); not
 * thread-safe. Every method blocks on the disk.
 */
final class HardStateFile {

    static final String NAME = "hardstate";
    static final int MAGIC = 0x524B4853; // "RKHS"
    private static final String WHAT = "hard state";

    private final FileIo io;
    private final Path path;

    HardStateFile(FileIo io, Path dir) {
        this.io = io;
        this.path = dir.resolve(NAME);
    }

    Path path() {
        return path;
    }

    /**
     * The hard state on disk, or {@code null} if the file does not exist.
     *
     * @throws StorageException if the file is damaged (the message names it and says the node must
     *     be restored from a peer or a backup)
     */
    HardState read() throws IOException {
        byte[] payload = ChecksummedFile.read(io, path, MAGIC, WHAT);
        if (payload == null) {
            return null;
        }
        try {
            return Codecs.hardState(payload);
        } catch (RuntimeException e) {
            // The checksum held, so this is a file of another build or one forged to match: refuse it too.
            throw ChecksummedFile.corrupt(path, 12, WHAT, "undecodable contents: " + e.getMessage());
        }
    }

    /**
     * Replaces the file with {@code hs}: durable when this returns (tmp file forced, renamed over
     * the old one, directory forced). On an exception the file holds the old or the new state.
     */
    void write(HardState hs) throws IOException {
        ChecksummedFile.write(io, path, MAGIC, Codecs.hardState(hs));
    }

    /**
     * The refusal for a log that holds entries up to {@code last} but no hard-state file. Every
     * log writes the file when it is created and replaces it only by an atomic rename, so the file
     * was lost to a person or a tool, never to a crash; starting at term 0 with no vote could cast
     * a second vote in a term this node already voted in (thesis §3.8).
     */
    StorageException missing(Path dir, EntryId last) {
        return new StorageException("the hard-state file " + path + " is missing, but the log in " + dir
                + " holds entries up to index " + last.index() + " (term " + last.term() + "): this node's"
                + " current term and vote are lost, and a node that forgot its vote could vote twice in one term."
                + " The node will not start. Restore the file from a copy of this node's data taken while it was"
                + " stopped, or replace the node: remove it from the cluster, wipe its data directory, and add it"
                + " back as a learner, then promote it");
    }
}
