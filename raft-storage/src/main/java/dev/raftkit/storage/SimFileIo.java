package dev.raftkit.storage;

import dev.raftkit.spi.StorageException;
import java.io.Closeable;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * An in-memory file system that knows what a power cut would keep: the simulated disk under the
 * real {@link SegmentedLogStorage} and {@link FileSnapshotStore} in tests and in the simulator.
 * Each file has durable bytes (as of its last {@code force}) and the writes and truncations made
 * since, in order; each directory has durable entries (as of its last {@code syncDirectory}) and
 * current ones. {@link #crash} keeps only the durable state, optionally plus a prefix of each
 * file's unsynced operations with the last kept write torn at any byte. {@link #flip} damages
 * bytes anywhere. {@link #crashAtOp} makes the n-th mutating call fail, to crash in the middle of
 * a procedure.
 *
 * <p>Thread-safe (every call holds this object's monitor), but meant to be driven from one
 * thread: a run over it is deterministic when its caller is. A {@code force} costs time in
 * proportion to the bytes written since the last one, not to the file's size.
 */
public final class SimFileIo implements FileIo {

    /** Thrown by every call on a handle opened before a crash, and by every call once {@link #crashAtOp} fired. */
    public static final class Crashed extends IOException {
        Crashed() {
            super("simulated crash");
        }
    }

    private static final class Inode {
        /** Durable bytes: the first {@code durableLength} of this buffer. */
        byte[] durable = new byte[0];
        int durableLength;
        byte[] current = new byte[0];
        int currentLength;
        final List<Object[]> pending = new ArrayList<>(); // {Long pos, byte[] data} or {Long size}
        /** Offsets {@link SimFileIo#flip} damaged that no write or truncation has replaced since. */
        java.util.TreeSet<Long> damage = new java.util.TreeSet<>();

        void repaired(long from, long to) {
            damage.subSet(from, to).clear();
        }

        Inode copy() {
            Inode c = new Inode();
            c.durable = durable.clone();
            c.durableLength = durableLength;
            c.current = current.clone();
            c.currentLength = currentLength;
            c.damage = new java.util.TreeSet<>(damage);
            for (Object[] op : pending) {
                c.pending.add(op.clone());
            }
            return c;
        }
    }

    private static final class Dir {
        Map<String, Object> current = new LinkedHashMap<>();
        Map<String, Object> durable = new LinkedHashMap<>();
    }

    private Dir root = new Dir();
    private final Set<String> locks = new HashSet<>();
    private int epoch;
    private long ops;
    private long crashAt = Long.MAX_VALUE;
    private boolean crashed;
    private java.util.function.BiPredicate<String, String> crashPoint;
    private Runnable onCrashPoint;
    private long usableSpace = Long.MAX_VALUE;
    private String ioError;
    private Runnable onSync = () -> { };

    // ------------------------------------------------------------ fault control

    /** An empty file system: no directories at all (see {@link #mkdirsDurable}). */
    public SimFileIo() {
    }

    /**
     * Calls {@code listener} after every {@code force} and {@code syncDirectory}, on the calling
     * thread (the simulator charges the device's latency there).
     */
    public synchronized void onSync(Runnable listener) {
        onSync = listener == null ? () -> { } : listener;
    }

    /** What {@link #usableSpace} reports from now on: a disk with that much room left. */
    public synchronized void usableSpace(long bytes) {
        usableSpace = bytes;
    }

    @Override
    public synchronized long usableSpace(Path dir) {
        return usableSpace;
    }

    /**
     * From now on every write, truncation and {@code force} fails with an {@link IOException}
     * saying {@code message} (a dying device: EIO), until {@code null} is passed or a crash.
     */
    public synchronized void failWrites(String message) {
        ioError = message;
    }

    /** True while some file still reachable holds damage made by {@link #flip}. */
    public synchronized boolean damaged() {
        return damaged(root, new java.util.IdentityHashMap<>());
    }

    private static boolean damaged(Dir d, Map<Object, Boolean> seen) {
        for (Object n : d.current.values()) {
            if (seen.put(n, Boolean.TRUE) == null
                    && (n instanceof Dir sub ? damaged(sub, seen) : !((Inode) n).damage.isEmpty())) {
                return true;
            }
        }
        return false;
    }

    /** The files under {@code dir} (recursively) with at least one durable byte, in a stable order. */
    public synchronized List<Path> durableFiles(Path dir) {
        List<Path> out = new ArrayList<>();
        try {
            collect(dirOf(dir), dir.toAbsolutePath(), out);
        } catch (IOException missing) {
            // No such directory: no files.
        }
        return out;
    }

    /** The files under {@code dir} (recursively) that hold damage made by {@link #flip}, in a stable order. */
    public synchronized List<Path> damagedFiles(Path dir) {
        List<Path> out = new ArrayList<>();
        for (Path p : durableFiles(dir)) {
            try {
                if (!inode(p).damage.isEmpty()) {
                    out.add(p);
                }
            } catch (IOException gone) {
                // listed a moment ago under the same lock: cannot happen
            }
        }
        return out;
    }

    private static void collect(Dir d, Path at, List<Path> out) {
        for (Map.Entry<String, Object> e : new java.util.TreeMap<>(d.current).entrySet()) {
            if (e.getValue() instanceof Dir sub) {
                collect(sub, at.resolve(e.getKey()), out);
            } else if (((Inode) e.getValue()).durableLength > 0) {
                out.add(at.resolve(e.getKey()));
            }
        }
    }

    /** Makes the {@code n}-th mutating call from now on (0-based) fail as a crash. */
    public synchronized void crashAtOp(long n) {
        crashAt = ops + n;
    }

    public synchronized long opCount() {
        return ops;
    }

    /**
     * The process exits (or is killed) while the machine stays up: its handles stop working and
     * its locks are released, as the kernel does; what it wrote but did not sync stays in the page
     * cache, readable by the next process.
     */
    public synchronized void processExit() {
        locks.clear();
        epoch++;
    }

    /** Power cut: everything unsynced is lost. Handles from before stop working; locks are released. */
    public synchronized void crash() {
        crash(null);
    }

    /**
     * Power cut keeping, per file, a random prefix of its unsynced operations, the last kept write
     * torn at a random byte; {@code null} keeps nothing unsynced.
     */
    public synchronized void crash(Random rnd) {
        revert(root, rnd, new java.util.IdentityHashMap<>());
        locks.clear();
        epoch++;
        crashed = false;
        crashAt = Long.MAX_VALUE;
        ioError = null;
    }

    /** Power cut that keeps all of {@code file}'s unsynced operations but tears its last write after {@code keep} bytes. */
    public synchronized void crashTearingLastWrite(Path file, int keep) throws IOException {
        Inode f = inode(file);
        int last = f.pending.size() - 1;
        while (last >= 0 && f.pending.get(last).length != 2) {
            last--;
        }
        if (last < 0) {
            throw new IllegalStateException("no unsynced write to " + file);
        }
        for (int i = 0; i < last; i++) {
            apply(f, f.pending.get(i));
        }
        byte[] data = (byte[]) f.pending.get(last)[1];
        apply(f, new Object[] {f.pending.get(last)[0], Arrays.copyOf(data, Math.min(keep, data.length))});
        f.pending.clear();
        crash();
    }

    /** Flips bit {@code bit} of byte {@code offset} of {@code file}, durably. */
    public synchronized void flip(Path file, long offset, int bit) throws IOException {
        Inode f = inode(file);
        if (offset < Math.max(f.durableLength, f.currentLength)) {
            f.damage.add(offset);
        }
        if (offset < f.durableLength) {
            f.durable[(int) offset] ^= (byte) (1 << bit);
        }
        if (offset < f.currentLength) {
            f.current[(int) offset] ^= (byte) (1 << bit);
        }
    }

    /** The bytes of {@code file} a crash now would keep at least. */
    public synchronized long durableSize(Path file) throws IOException {
        return inode(file).durableLength;
    }

    public synchronized byte[] durableBytes(Path file) throws IOException {
        Inode f = inode(file);
        return Arrays.copyOf(f.durable, f.durableLength);
    }

    /** A deep copy (as of now, including unsynced state), for running many faults from one start. */
    public synchronized SimFileIo copy() {
        SimFileIo c = new SimFileIo();
        c.root = copyDir(root, new java.util.IdentityHashMap<>());
        return c;
    }

    private static Dir copyDir(Dir d, Map<Object, Object> seen) {
        Dir c = new Dir();
        for (Map.Entry<String, Object> e : d.current.entrySet()) {
            c.current.put(e.getKey(), copyNode(e.getValue(), seen));
        }
        for (Map.Entry<String, Object> e : d.durable.entrySet()) {
            c.durable.put(e.getKey(), copyNode(e.getValue(), seen));
        }
        return c;
    }

    private static Object copyNode(Object n, Map<Object, Object> seen) {
        Object c = seen.get(n);
        if (c == null) {
            c = n instanceof Inode f ? f.copy() : copyDir((Dir) n, seen);
            seen.put(n, c);
        }
        return c;
    }

    private static void revert(Dir d, Random rnd, Map<Object, Boolean> seen) {
        d.current = new LinkedHashMap<>(d.durable);
        for (Object n : d.current.values()) {
            if (seen.put(n, Boolean.TRUE) != null) {
                continue;
            }
            if (n instanceof Dir sub) {
                revert(sub, rnd, seen);
            } else {
                Inode f = (Inode) n;
                if (rnd != null && !f.pending.isEmpty()) {
                    int keep = rnd.nextInt(f.pending.size() + 1);
                    for (int i = 0; i < keep; i++) {
                        Object[] op = f.pending.get(i);
                        boolean last = i == keep - 1;
                        if (last && op.length == 2 && rnd.nextBoolean()) {
                            byte[] data = (byte[]) op[1];
                            op = new Object[] {op[0], Arrays.copyOf(data, rnd.nextInt(data.length + 1))};
                        }
                        apply(f, op);
                    }
                }
                f.pending.clear();
                f.current = f.durable.clone();
                f.currentLength = f.durableLength;
            }
        }
    }

    /** Applies one unsynced operation to the durable bytes of {@code f}. */
    private static void apply(Inode f, Object[] op) {
        if (op.length == 1) {
            f.durableLength = Math.min(f.durableLength, (int) (long) (Long) op[0]);
            return;
        }
        int pos = (int) (long) (Long) op[0];
        byte[] data = (byte[]) op[1];
        int end = pos + data.length;
        if (end > f.durable.length) {
            f.durable = Arrays.copyOf(f.durable, Math.max(end, f.durable.length * 2));
        }
        if (pos > f.durableLength) {
            // A hole reads as zeros, whatever an earlier, truncated write left in the buffer.
            Arrays.fill(f.durable, f.durableLength, pos, (byte) 0);
        }
        System.arraycopy(data, 0, f.durable, pos, data.length);
        f.durableLength = Math.max(f.durableLength, end);
    }

    // ------------------------------------------------------------ FileIo

    private void mutate(String op, Path path) throws IOException {
        if (crashed) {
            throw new Crashed();
        }
        if (crashPoint != null && crashPoint.test(op, path.toAbsolutePath().toString())) {
            // The power goes at this call, before it takes effect: what the listener does (the
            // simulator cuts the machine's power, reverting every unsynced write) and then this
            // call failing is all the process sees.
            Runnable then = onCrashPoint;
            crashPoint = null;
            onCrashPoint = null;
            then.run();
            throw new Crashed();
        }
        if (ioError != null) {
            throw new IOException(ioError);
        }
        if (ops++ >= crashAt) {
            crashed = true;
            throw new Crashed();
        }
    }

    /**
     * Arms a crash point: the next mutating call for which {@code where} holds (given the call,
     * one of {@code open write truncate force createDirectory move delete syncDirectory}, and its
     * absolute path; for {@code move}, the source) runs {@code crash} and then fails as a crash,
     * without taking effect. {@code crash} is expected to call {@link #crash}. {@code null}
     * disarms.
     */
    public synchronized void crashAt(java.util.function.BiPredicate<String, String> where, Runnable crash) {
        crashPoint = where;
        onCrashPoint = crash;
    }

    private Dir dirOf(Path p) throws IOException {
        Dir d = root;
        Path abs = p.toAbsolutePath();
        for (Path part : abs) {
            Object n = d.current.get(part.toString());
            if (!(n instanceof Dir sub)) {
                throw new FileNotFoundException("no directory " + abs);
            }
            d = sub;
        }
        return d;
    }

    private Object node(Path p) {
        try {
            Path abs = p.toAbsolutePath();
            return abs.getParent() == null ? root : dirOf(abs.getParent()).current.get(abs.getFileName().toString());
        } catch (IOException e) {
            return null;
        }
    }

    private Inode inode(Path p) throws IOException {
        if (node(p) instanceof Inode f) {
            return f;
        }
        throw new FileNotFoundException("no file " + p);
    }

    @Override
    public synchronized Handle open(Path file) throws IOException {
        Object n = node(file);
        if (n == null) {
            mutate("open", file);
            n = new Inode();
            dirOf(file.toAbsolutePath().getParent()).current.put(file.getFileName().toString(), n);
        } else if (!(n instanceof Inode)) {
            throw new IOException(file + " is a directory");
        }
        return new SimHandle((Inode) n, epoch, file);
    }

    private final class SimHandle implements Handle {
        private final Inode f;
        private final int openedIn;
        private final Path path;

        SimHandle(Inode f, int openedIn, Path path) {
            this.f = f;
            this.openedIn = openedIn;
            this.path = path;
        }

        private void live() throws IOException {
            if (openedIn != epoch || crashed) {
                throw new Crashed();
            }
        }

        @Override
        public long size() throws IOException {
            synchronized (SimFileIo.this) {
                live();
                return f.currentLength;
            }
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            synchronized (SimFileIo.this) {
                live();
                if (position >= f.currentLength) {
                    return -1;
                }
                int n = (int) Math.min(dst.remaining(), f.currentLength - position);
                dst.put(f.current, (int) position, n);
                return n;
            }
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            synchronized (SimFileIo.this) {
                live();
                mutate("write", path);
                byte[] data = new byte[src.remaining()];
                src.get(data);
                long end = position + data.length;
                if (end > f.current.length) {
                    f.current = Arrays.copyOf(f.current, (int) Math.max(end, f.current.length * 2L));
                }
                if (position > f.currentLength) {
                    Arrays.fill(f.current, f.currentLength, (int) position, (byte) 0);
                }
                System.arraycopy(data, 0, f.current, (int) position, data.length);
                f.currentLength = (int) Math.max(f.currentLength, end);
                f.repaired(position, end);
                f.pending.add(new Object[] {position, data});
            }
        }

        @Override
        public void truncate(long size) throws IOException {
            synchronized (SimFileIo.this) {
                live();
                mutate("truncate", path);
                f.repaired(size, Long.MAX_VALUE);
                if (size < f.currentLength) {
                    Arrays.fill(f.current, (int) size, f.currentLength, (byte) 0);
                    f.currentLength = (int) size;
                    f.pending.add(new Object[] {size});
                }
            }
        }

        @Override
        public void force() throws IOException {
            synchronized (SimFileIo.this) {
                live();
                mutate("force", path);
                // The unsynced operations, replayed: cost in proportion to what changed.
                for (Object[] op : f.pending) {
                    apply(f, op);
                }
                f.pending.clear();
                onSync.run();
            }
        }

        @Override
        public void close() {
        }
    }

    @Override
    public synchronized boolean exists(Path path) {
        return node(path) != null;
    }

    @Override
    public synchronized boolean isDirectory(Path path) {
        return node(path) instanceof Dir;
    }

    @Override
    public synchronized List<String> list(Path dir) throws IOException {
        return new ArrayList<>(dirOf(dir).current.keySet());
    }

    @Override
    public synchronized void createDirectory(Path dir) throws IOException {
        mutate("createDirectory", dir);
        Dir parent = dirOf(dir.toAbsolutePath().getParent());
        if (parent.current.containsKey(dir.getFileName().toString())) {
            throw new IOException(dir + " exists");
        }
        parent.current.put(dir.getFileName().toString(), new Dir());
    }

    @Override
    public synchronized void move(Path from, Path to) throws IOException {
        mutate("move", from);
        Dir src = dirOf(from.toAbsolutePath().getParent());
        Object n = src.current.remove(from.getFileName().toString());
        if (n == null) {
            throw new FileNotFoundException("no " + from);
        }
        dirOf(to.toAbsolutePath().getParent()).current.put(to.getFileName().toString(), n);
    }

    @Override
    public synchronized void delete(Path path) throws IOException {
        mutate("delete", path);
        Object n = node(path);
        if (n instanceof Dir d && !d.current.isEmpty()) {
            throw new IOException("directory not empty: " + path);
        }
        if (n != null) {
            dirOf(path.toAbsolutePath().getParent()).current.remove(path.getFileName().toString());
        }
    }

    @Override
    public synchronized void syncDirectory(Path dir) throws IOException {
        mutate("syncDirectory", dir);
        Dir d = dirOf(dir);
        d.durable = new LinkedHashMap<>(d.current);
        onSync.run();
    }

    @Override
    public synchronized Closeable lock(Path lockFile) throws IOException {
        String key = lockFile.toAbsolutePath().toString();
        if (!locks.add(key)) {
            throw new StorageException("data directory " + lockFile.getParent() + " is in use (simulated lock "
                    + lockFile + " is held)");
        }
        int lockedIn = epoch;
        return () -> {
            synchronized (SimFileIo.this) {
                if (lockedIn == epoch) {
                    locks.remove(key);
                }
            }
        };
    }

    /** Makes {@code dir} and its ancestors exist durably, as a machine's existing disk would. */
    public synchronized SimFileIo mkdirsDurable(Path dir) {
        Dir d = root;
        for (Path part : dir.toAbsolutePath()) {
            Object n = d.current.get(part.toString());
            if (n == null) {
                n = new Dir();
                d.current.put(part.toString(), n);
                d.durable.put(part.toString(), n);
            }
            d = (Dir) n;
        }
        return this;
    }
}
