package dev.raftkit.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.raftkit.core.log.Entry;

/**
 * The most recently appended entries, bounded by bytes, so a leader replicating to followers that
 * are a little behind reads them from memory instead of decoding and re-checking records on disk.
 *
 * <p><b>Why blocks:</b> entries are cached in aligned blocks of {@value #BLOCK} consecutive
 * indexes. The block being filled (the tail) is a plain array; when the log moves past it, the
 * block goes into a Caffeine cache weighed by its entries' bytes, which evicts old blocks. One
 * cache insertion per {@value #BLOCK} entries keeps the append path at the speed of the disk: an
 * insertion per entry cost more CPU than the encoding, checksum and write together (measured with
 * {@code LogBench}: 0.6 µs per 100 B entry, a 256-entry batch spent longer in the cache than in its
 * fdatasync). Entries larger than 1/256 of the bound are not cached, so the tail holds at most a
 * quarter of the bound.
 *
 * <p><b>Threads:</b> {@link #put}, {@link #truncateFrom} and {@link #clear} are called by the log's
 * writer thread; {@code put} before the log publishes the entry under its write lock, the other two
 * under that lock. {@link #get} is called by readers under the log's read lock, and only for
 * indexes the log has published, so it sees every slot written before the publication. A miss (an
 * evicted block, a large entry, an entry from before the last restart) returns null and the caller
 * reads the disk.
 */
final class EntryCache {

    static final int BLOCK = 64;

    /** An aligned run of {@link #BLOCK} indexes starting at {@code number * BLOCK}. */
    private record Block(long number, Entry[] slots) {
        Block(long number) {
            this(number, new Entry[BLOCK]);
        }

        long weight() {
            long bytes = 16L * BLOCK;
            for (Entry e : slots) {
                if (e != null) {
                    bytes += e.sizeBytes();
                }
            }
            return bytes;
        }
    }

    private final Cache<Long, Block> sealed;
    private final long largest;
    /** The block being filled; read by readers without the lock, hence volatile. */
    private volatile Block tail = new Block(-1);

    EntryCache(long maxBytes) {
        this.largest = Math.max(1, maxBytes / 256);
        this.sealed = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((Long k, Block b) -> (int) Math.min(Integer.MAX_VALUE, b.weight()))
                // Maintenance on the calling thread: no hidden work on the common pool.
                .executor(Runnable::run)
                .build();
    }

    /** Caches {@code e}; indexes arrive in increasing order except after {@link #truncateFrom}. */
    void put(Entry e) {
        long number = Math.floorDiv(e.index(), BLOCK);
        Block t = tail;
        if (t.number != number) {
            if (t.number >= 0) {
                // Into the cache before the tail moves on, so a reader that misses the new tail
                // finds the block there.
                sealed.put(t.number, t);
            }
            t = new Block(number);
            tail = t;
        }
        if (e.sizeBytes() <= largest) {
            t.slots[(int) Math.floorMod(e.index(), BLOCK)] = e;
        }
    }

    /** The cached entry at {@code index}, or null. */
    Entry get(long index) {
        long number = Math.floorDiv(index, BLOCK);
        Block t = tail;
        Block b = t.number == number ? t : sealed.getIfPresent(number);
        return b == null ? null : b.slots[(int) Math.floorMod(index, BLOCK)];
    }

    /** Forgets the entries from {@code index} on (the log's suffix was cut). */
    void truncateFrom(long index) {
        long number = Math.floorDiv(index, BLOCK);
        Block t = tail;
        if (t.number < number) {
            return;
        }
        // The block holding index becomes the tail again, keeping its entries below index; changing
        // it in place is safe because readers wait for the log's write lock, held here.
        Block keep = t.number == number ? t : sealed.getIfPresent(number);
        for (long n = number; n < t.number; n++) {
            sealed.invalidate(n);
        }
        if (keep == null) {
            keep = new Block(number);
        }
        for (int k = (int) Math.floorMod(index, BLOCK); k < BLOCK; k++) {
            keep.slots[k] = null;
        }
        tail = keep;
    }

    /** Forgets everything (the log was replaced by a snapshot). */
    void clear() {
        sealed.invalidateAll();
        tail = new Block(-1);
    }
}
