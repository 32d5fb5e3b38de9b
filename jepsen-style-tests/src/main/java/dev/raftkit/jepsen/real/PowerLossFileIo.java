package dev.raftkit.jepsen.real;

import dev.raftkit.storage.FileIo;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * TESTING ONLY: a file layer that makes a SIGKILL lose what a power cut would, as Jepsen's lazyfs
 * does. A killed process's writes stay in the kernel's page cache, so a plain kill never loses an
 * acknowledged write that was sent before its fsync; a node process started with the hidden
 * {@code --testing-lose-unsynced} option opens its log and snapshots over this layer, and the
 * next start of the node over the same data directory first takes back everything that was not
 * made durable, before the node opens anything:
 *
 * <ul>
 *   <li>bytes written or truncated but not forced ({@link Handle#force}) go back to what they were
 *       at the file's last force;
 *   <li>creations, renames and deletions inside a directory not made durable by {@link
 *       #syncDirectory} of that directory are undone (a rename between two directories counts as
 *       durable once both were synced after it; before that it is undone whole). This is the model
 *       of the simulator's {@code SimFileIo.crash()}, which keeps only the durable state.
 * </ul>
 *
 * <p><b>Design: write through with an undo journal,</b> not a cache of unsynced writes held in
 * memory. Reads then need nothing (they go to the real file, which holds what was written), the
 * memory used does not grow with the bytes in flight (a snapshot of many megabytes waits for one
 * force at its end), and the real files stay ordinary files for the harness's other faults (the
 * disk nemesis tears and flips them while the node is down). Before every mutation the layer
 * appends to the journal (beside the data directory, {@link #journalDir}) what undoes it: the
 * file's size at its last force and the durable bytes it is about to overwrite; the name it is
 * about to create; a hard link to a file it is about to replace or delete. After a force or a
 * directory sync it appends that this much is now durable. The journal itself is never fsync'd:
 * a SIGKILL keeps it in the page cache, and the journal record always reaches the kernel before
 * the mutation it undoes, so under SIGKILL at any instant the journal covers every mutation that
 * happened (an undo of a mutation that never happened is harmless: each one restores a state, it
 * does not invert a change). Records carry a CRC; a record torn by the kill ends the journal,
 * and its mutation had not begun. {@link #open(Path, Path, FileIo)} replays it backwards
 * (names first, then each file's bytes, found by its inode), syncs what it restored, and only
 * then deletes it: a kill during the roll-back repeats it on the next start. When nothing is
 * left to undo (every written file forced, every name synced) the journal is emptied, so it
 * stays small while the log writer forces after every batch.
 *
 * <p>What this cannot model: a real power cut may also keep any part of the unsynced data, or
 * tear it; this layer always loses all of it (the harshest outcome, and the one that finds
 * acknowledgements sent before their fsync). Lock files ({@link #lock}) are not journaled: the
 * kernel releases the lock with the process, and a leftover lock file is what a power cut leaves
 * too. Only files under the root given to {@link #open} are rolled back; any other path is
 * refused.
 *
 * <ul>
 *   <li><b>Thread:</b> any thread, as {@link FileIo}: the journal is appended under one lock, and
 *       a file's mutation and its journal record are made under that file's lock.
 *   <li><b>Blocking:</b> as the file system below, plus a small write to the journal per mutation.
 *   <li><b>Durability:</b> what {@link FileIo} promises, exactly: a file's bytes are durable after
 *       {@code force} returns, a name after {@code syncDirectory} of its parent returns.
 *   <li><b>Exceptions:</b> as the file system below; an {@link IOException} writing the journal
 *       fails the mutation before it is made.
 * </ul>
 */
public final class PowerLossFileIo implements FileIo, Closeable {

    private static final String JOURNAL = "journal";
    private static final byte SIZE = 'S';
    private static final byte BYTES = 'W';
    private static final byte FORCED = 'F';
    private static final byte FORGET = 'G';
    private static final byte CREATE = 'C';
    private static final byte MKDIR = 'M';
    private static final byte MOVE = 'R';
    private static final byte DELETE = 'D';
    private static final byte RMDIR = 'E';
    private static final byte SYNCED = 'Y';

    private final Path root;
    private final Path journalDir;
    private final FileIo delegate;
    private final FileChannel journal;
    private long journalEnd;
    private long linkSeq;
    private volatile boolean halted;
    /** Files (by inode key) written since their last force. */
    private final Set<String> dirty = new HashSet<>();
    /** Name changes not yet durable: the directories still to be synced, and the link to drop then. */
    private final List<PendingName> pendingNames = new ArrayList<>();
    /** One lock per file (by inode key) so a write, a truncation and a force never interleave. */
    private final Map<String, Object> fileLocks = new HashMap<>();

    private record PendingName(Set<Path> unsyncedDirs, Path link, String linkedKey) {
    }

    private PowerLossFileIo(Path root, Path journalDir, FileIo delegate) throws IOException {
        this.root = root;
        this.journalDir = journalDir;
        this.delegate = delegate;
        Files.createDirectories(journalDir);
        this.journal = FileChannel.open(journalDir.resolve(JOURNAL), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** The journal directory of the data directory {@code dataDir}: beside it, outside the data. */
    public static Path journalDir(Path dataDir) {
        Path abs = dataDir.toAbsolutePath();
        return abs.resolveSibling(abs.getFileName() + ".unsynced-journal");
    }

    /**
     * First rolls back, under {@code root}, everything a previous process over this layer had not
     * made durable (as a power cut at its death would have); then returns the layer over {@code
     * delegate}, journaling into {@code journalDir} (which must be on the file system of {@code
     * root}, for hard links, and outside it).
     */
    public static PowerLossFileIo open(Path root, Path journalDir, FileIo delegate) throws IOException {
        Path r = root.toAbsolutePath().normalize();
        Path j = journalDir.toAbsolutePath().normalize();
        if (j.startsWith(r)) {
            throw new IllegalArgumentException("the unsynced-writes journal " + j + " must be outside the data it"
                    + " rolls back, " + r + ": pass a directory beside it (PowerLossFileIo.journalDir)");
        }
        rollBack(r, j);
        return new PowerLossFileIo(r, j, delegate);
    }

    /**
     * The harness's side, for a node over this layer that was killed while its machine stayed up
     * (a plain SIGKILL, not a power cut): forgets the dead process's journal, so the next start
     * rolls nothing back and the node finds what the page cache kept, as without the layer. Call
     * only once the process is dead; nothing if there is no journal.
     */
    public static void keepPageCache(Path dataDir) throws IOException {
        Path j = journalDir(dataDir);
        if (!Files.isDirectory(j)) {
            return;
        }
        try (Stream<Path> all = Files.list(j)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Where this layer journals; deleted after a roll-back. */
    public Path journalDir() {
        return journalDir;
    }

    @Override
    public void close() throws IOException {
        journal.close();
    }

    // ------------------------------------------------------------ journal

    private Path checked(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        if (!abs.startsWith(root)) {
            throw new IllegalArgumentException(abs + " is outside " + root + ", the data directory whose unsynced"
                    + " writes this layer loses at a kill: open the layer over a root that holds it");
        }
        return abs;
    }

    /**
     * Tests in one JVM: from now on every mutation fails as if the process were gone, so closing
     * what was open over this layer (to release its locks, as the kernel does for a killed
     * process) cannot make anything more durable.
     */
    void halt() {
        halted = true;
    }

    private void alive() throws IOException {
        if (halted) {
            throw new IOException("the process is gone (PowerLossFileIo.halt)");
        }
    }

    private synchronized void append(byte type, Object... fields) throws IOException {
        alive();
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(payload);
        out.writeByte(type);
        for (Object f : fields) {
            if (f instanceof String s) {
                out.writeUTF(s);
            } else if (f instanceof Long l) {
                out.writeLong(l);
            } else {
                byte[] b = (byte[]) f;
                out.writeInt(b.length);
                out.write(b);
            }
        }
        byte[] body = payload.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(body);
        ByteBuffer rec = ByteBuffer.allocate(8 + body.length);
        rec.putInt(body.length).putInt((int) crc.getValue()).put(body).flip();
        while (rec.hasRemaining()) {
            journalEnd += journal.write(rec, journalEnd);
        }
    }

    /** Empties the journal once nothing in it would undo anything: every file forced, every name synced. */
    private synchronized void compactIfIdle() throws IOException {
        if (dirty.isEmpty() && pendingNames.isEmpty() && journalEnd > 0) {
            journal.truncate(0);
            journalEnd = 0;
        }
    }

    private static String key(Path file) throws IOException {
        Object k = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        if (k == null) {
            throw new IOException("the file system of " + file + " reports no inode key: the power-loss layer"
                    + " cannot tell its files apart (use a POSIX file system)");
        }
        return k.toString();
    }

    private synchronized Object fileLock(String key) {
        return fileLocks.computeIfAbsent(key, k -> new Object());
    }

    private synchronized boolean markDirty(String key) {
        return dirty.add(key);
    }

    private synchronized Path newLink(Path target) throws IOException {
        Path link = journalDir.resolve("link-" + (linkSeq++));
        Files.deleteIfExists(link);
        Files.createLink(link, target);
        return link;
    }

    private synchronized void pendingName(Set<Path> dirs, Path link, String linkedKey) {
        pendingNames.add(new PendingName(new HashSet<>(dirs), link, linkedKey));
    }

    // ------------------------------------------------------------ FileIo

    @Override
    public Handle open(Path file) throws IOException {
        Path f = checked(file);
        if (!delegate.exists(f)) {
            synchronized (this) {
                append(CREATE, f.toString());
                pendingName(Set.of(f.getParent()), null, null);
            }
        }
        Handle h = delegate.open(f);
        return new LosingHandle(h, key(f));
    }

    private final class LosingHandle implements Handle {
        private final Handle h;
        private final String key;
        private final Object lock;

        LosingHandle(Handle h, String key) {
            this.h = h;
            this.key = key;
            this.lock = fileLock(key);
        }

        /** Journals the file's size at its last force, once per force: its bytes beyond are new. */
        private long durableSizeRecorded() throws IOException {
            long size = h.size();
            if (markDirty(key)) {
                append(SIZE, key, size);
                durableSize.put(key, size);
                return size;
            }
            return durableSize.get(key);
        }

        /** Saves the bytes of [from, to) that are below the size at the last force, before they change. */
        private void saveOld(long from, long to, long durable) throws IOException {
            long end = Math.min(Math.min(to, durable), h.size());
            if (from >= end) {
                return;
            }
            ByteBuffer old = ByteBuffer.allocate((int) (end - from));
            h.readFully(old, from, Path.of(key));
            append(BYTES, key, from, old.array());
        }

        @Override
        public long size() throws IOException {
            return h.size();
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return h.read(dst, position);
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            synchronized (lock) {
                alive();
                long durable = durableSizeRecorded();
                saveOld(position, position + src.remaining(), durable);
                h.write(src, position);
            }
        }

        @Override
        public void truncate(long size) throws IOException {
            synchronized (lock) {
                alive();
                long durable = durableSizeRecorded();
                saveOld(size, Long.MAX_VALUE, durable);
                h.truncate(size);
            }
        }

        @Override
        public void force() throws IOException {
            synchronized (lock) {
                alive();
                h.force();
                // After the real force: a kill between the two undoes writes the disk already had,
                // which a power cut during the fsync may do too; the caller was not yet answered.
                forced(key);
            }
        }

        @Override
        public boolean tryLock() throws IOException {
            return h.tryLock();
        }

        @Override
        public void close() throws IOException {
            h.close();
        }
    }

    /** The size at the last force of each dirty file (by inode key). */
    private final Map<String, Long> durableSize = new java.util.concurrent.ConcurrentHashMap<>();

    private synchronized void forced(String key) throws IOException {
        if (dirty.remove(key)) {
            append(FORCED, key);
            durableSize.remove(key);
            compactIfIdle();
        }
    }

    @Override
    public boolean exists(Path path) {
        return delegate.exists(checked(path));
    }

    @Override
    public boolean isDirectory(Path path) {
        return delegate.isDirectory(checked(path));
    }

    @Override
    public List<String> list(Path dir) throws IOException {
        return delegate.list(checked(dir));
    }

    @Override
    public synchronized void createDirectory(Path dir) throws IOException {
        Path d = checked(dir);
        append(MKDIR, d.toString());
        pendingName(Set.of(d.getParent()), null, null);
        delegate.createDirectory(d);
    }

    @Override
    public synchronized void move(Path from, Path to) throws IOException {
        Path f = checked(from);
        Path t = checked(to);
        Path link = null;
        String replaced = null;
        if (Files.isRegularFile(t, LinkOption.NOFOLLOW_LINKS)) {
            replaced = key(t);
            link = newLink(t);
        }
        append(MOVE, f.toString(), t.toString(), link == null ? "" : link.toString());
        pendingName(new HashSet<>(List.of(f.getParent(), t.getParent())), link, replaced);
        delegate.move(f, t);
    }

    @Override
    public synchronized void delete(Path path) throws IOException {
        Path p = checked(path);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            delegate.delete(p);
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            append(RMDIR, p.toString());
            pendingName(Set.of(p.getParent()), null, null);
        } else {
            String k = key(p);
            Path link = newLink(p);
            append(DELETE, p.toString(), link.toString());
            pendingName(Set.of(p.getParent()), link, k);
        }
        delegate.delete(p);
    }

    @Override
    public void deleteRecursively(Path path) throws IOException {
        // One delete at a time, through this layer, so each one is journaled (the default does
        // this; a forwarding file system would hand the whole tree to the one below).
        if (isDirectory(path)) {
            for (String child : list(path)) {
                deleteRecursively(path.resolve(child));
            }
        }
        delete(path);
    }

    @Override
    public synchronized void syncDirectory(Path dir) throws IOException {
        Path d = checked(dir);
        alive();
        delegate.syncDirectory(d);
        append(SYNCED, d.toString());
        for (var it = pendingNames.iterator(); it.hasNext();) {
            PendingName n = it.next();
            n.unsyncedDirs().remove(d);
            if (n.unsyncedDirs().isEmpty()) {
                it.remove();
                if (n.link() != null) {
                    // The deletion (or replacement) is durable: the file is gone for good, and its
                    // inode may be reused, so its unforced bytes must never be rolled back again.
                    if (dirty.remove(n.linkedKey())) {
                        append(FORGET, n.linkedKey());
                        durableSize.remove(n.linkedKey());
                    }
                    Files.deleteIfExists(n.link());
                }
            }
        }
        compactIfIdle();
    }

    @Override
    public Closeable lock(Path lockFile) throws IOException {
        return delegate.lock(checked(lockFile));
    }

    @Override
    public long usableSpace(Path dir) throws IOException {
        return delegate.usableSpace(dir);
    }

    // ------------------------------------------------------------ roll-back

    private record Rec(byte type, List<Object> fields) {
        String s(int i) {
            return (String) fields.get(i);
        }

        long l(int i) {
            return (Long) fields.get(i);
        }
    }

    private static List<Rec> read(Path journalFile) throws IOException {
        List<Rec> out = new ArrayList<>();
        if (!Files.exists(journalFile)) {
            return out;
        }
        byte[] all = Files.readAllBytes(journalFile);
        ByteBuffer b = ByteBuffer.wrap(all);
        while (b.remaining() >= 8) {
            int len = b.getInt();
            int crc = b.getInt();
            if (len < 1 || len > b.remaining()) {
                break; // torn by the kill: its mutation had not begun
            }
            byte[] body = new byte[len];
            b.get(body);
            CRC32 c = new CRC32();
            c.update(body);
            if ((int) c.getValue() != crc) {
                break;
            }
            out.add(parse(body));
        }
        return out;
    }

    private static Rec parse(byte[] body) throws IOException {
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(body));
        byte type = in.readByte();
        List<Object> f = new ArrayList<>();
        switch (type) {
            case SIZE -> {
                f.add(in.readUTF());
                f.add(in.readLong());
            }
            case BYTES -> {
                f.add(in.readUTF());
                f.add(in.readLong());
                byte[] data = new byte[in.readInt()];
                in.readFully(data);
                f.add(data);
            }
            case FORCED, FORGET, CREATE, MKDIR, RMDIR, SYNCED -> f.add(in.readUTF());
            case DELETE -> {
                f.add(in.readUTF());
                f.add(in.readUTF());
            }
            case MOVE -> {
                f.add(in.readUTF());
                f.add(in.readUTF());
                f.add(in.readUTF());
            }
            default -> throw new EOFException("unknown journal record " + type);
        }
        return new Rec(type, f);
    }

    private static Path parent(String p) {
        return Path.of(p).getParent();
    }

    /** Takes back, under {@code root}, what the journal in {@code journalDir} says was never made durable. */
    static void rollBack(Path root, Path journalDir) throws IOException {
        List<Rec> recs = read(journalDir.resolve(JOURNAL));
        // Which name records are still undurable: those not followed by a sync of every
        // directory they changed.
        List<Rec> names = new ArrayList<>();
        List<Set<Path>> unsynced = new ArrayList<>();
        // Per file: its live records (after its last force), in order.
        Map<String, List<Rec>> live = new HashMap<>();
        for (Rec r : recs) {
            switch (r.type()) {
                case SIZE, BYTES -> live.computeIfAbsent(r.s(0), k -> new ArrayList<>()).add(r);
                case FORCED, FORGET -> live.remove(r.s(0));
                case CREATE, MKDIR, DELETE, RMDIR -> {
                    names.add(r);
                    unsynced.add(new HashSet<>(Set.of(parent(r.s(0)))));
                }
                case MOVE -> {
                    names.add(r);
                    unsynced.add(new HashSet<>(List.of(parent(r.s(0)), parent(r.s(1)))));
                }
                case SYNCED -> {
                    for (Set<Path> u : unsynced) {
                        u.remove(Path.of(r.s(0)));
                    }
                }
                default -> throw new IllegalStateException();
            }
        }
        Set<Path> touchedDirs = new HashSet<>();
        for (int i = names.size() - 1; i >= 0; i--) {
            if (unsynced.get(i).isEmpty()) {
                continue;
            }
            Rec r = names.get(i);
            Path p = Path.of(r.s(0));
            touchedDirs.add(p.getParent());
            switch (r.type()) {
                case CREATE -> Files.deleteIfExists(p);
                case MKDIR -> deleteTree(p);
                case RMDIR -> {
                    if (!Files.exists(p)) {
                        Files.createDirectory(p);
                    }
                }
                case DELETE -> {
                    Path link = Path.of(r.s(1));
                    if (Files.exists(link) && !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                        Files.move(link, p);
                    }
                }
                case MOVE -> {
                    Path to = Path.of(r.s(1));
                    touchedDirs.add(to.getParent());
                    if (Files.exists(to, LinkOption.NOFOLLOW_LINKS) && !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                        Files.move(to, p);
                    }
                    if (!r.s(2).isEmpty() && Files.exists(Path.of(r.s(2)))) {
                        Files.move(Path.of(r.s(2)), to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                default -> throw new IllegalStateException();
            }
        }
        if (!live.isEmpty() && Files.isDirectory(root)) {
            Map<String, Path> byKey = new HashMap<>();
            try (Stream<Path> all = Files.walk(root)) {
                for (Path p : (Iterable<Path>) all::iterator) {
                    if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        byKey.put(key(p), p);
                    }
                }
            }
            for (Map.Entry<String, List<Rec>> e : live.entrySet()) {
                Path p = byKey.get(e.getKey());
                if (p == null) {
                    continue; // not reachable any more: nothing to restore
                }
                undoBytes(p, e.getValue());
            }
        }
        for (Path d : touchedDirs) {
            if (d != null && Files.isDirectory(d)) {
                FileIo.real().syncDirectory(d);
            }
        }
        // Only now, with everything restored on its way to the disk: a kill before this line
        // replays the same roll-back on the next start.
        if (Files.isDirectory(journalDir)) {
            try (Stream<Path> all = Files.list(journalDir)) {
                for (Path p : (Iterable<Path>) all::iterator) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void undoBytes(Path p, List<Rec> recs) throws IOException {
        long size = -1;
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            for (int i = recs.size() - 1; i >= 0; i--) {
                Rec r = recs.get(i);
                if (r.type() == SIZE) {
                    size = r.l(1);
                } else {
                    ByteBuffer old = ByteBuffer.wrap((byte[]) r.fields().get(2));
                    long pos = r.l(1);
                    while (old.hasRemaining()) {
                        pos += ch.write(old, pos);
                    }
                }
            }
            if (size >= 0 && ch.size() > size) {
                ch.truncate(size);
            }
            ch.force(true);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> children = Files.list(p)) {
                for (Path c : (Iterable<Path>) children::iterator) {
                    deleteTree(c);
                }
            }
        }
        Files.delete(p);
    }
}
