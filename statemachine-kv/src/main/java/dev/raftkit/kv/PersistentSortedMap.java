package dev.raftkit.kv;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * An immutable sorted map from byte-array keys (unsigned lexicographic order) to values: a
 * persistent B+ tree. An update copies only the nodes on the path from the root to the leaf it
 * changes and shares every other node with the previous version, so keeping an old version costs
 * nothing until the new one diverges from it.
 *
 * <p>This is what makes {@link KvStateMachine#snapshot()} O(1): the snapshot holds the root of the
 * current version, and the snapshot pool walks that version while the apply thread builds newer
 * ones. Nothing is locked, because no node is ever changed after it is built; a version published
 * through a {@code volatile} field (or a final field) is safe to read from any thread.
 *
 * <p>Why a B+ tree and not a binary tree: on a large map a lookup's cost is the cache misses of
 * the nodes it visits. A binary tree of a million keys visits about 20 nodes and loads each
 * node's key array besides; this tree visits 4 to 5, and each node keeps the first 8 bytes of its
 * keys in one {@code long[]} ({@link #prefix}), so a binary search inside a node reads
 * consecutive memory and touches a key array only when two prefixes tie. Replacing a value (the
 * common update) copies each level's child or value array and nothing else.
 *
 * <p>Nodes hold at most {@link #MAX} keys (a leaf) or children (an inner node), and every leaf is
 * at the same depth. A removal drops a node that becomes empty and a root left with one child,
 * but does not merge half-empty siblings: the depth stays that of the largest size the map has
 * had, which is what bounds a lookup.
 *
 * <p>The map owns the key arrays it is given: callers must not change them afterwards.
 *
 * @param <V> the value type (immutable, or never changed once stored)
 */
final class PersistentSortedMap<V> implements Iterable<Map.Entry<byte[], V>> {

    /** Most keys in a leaf, and most children of an inner node. */
    static final int MAX = 32;

    private static final PersistentSortedMap<?> EMPTY = new PersistentSortedMap<>(null, 0);

    /** A node; never changed after construction. */
    private abstract static sealed class Node permits Leaf, Inner {
        /** {@link #prefix} of each key of a leaf, of each separator of an inner node. */
        final long[] prefixes;
        final byte[][] keys;

        Node(long[] prefixes, byte[][] keys) {
            this.prefixes = prefixes;
            this.keys = keys;
        }
    }

    /** Keys in ascending order with their values. */
    private static final class Leaf extends Node {
        final Object[] values;

        Leaf(long[] prefixes, byte[][] keys, Object[] values) {
            super(prefixes, keys);
            this.values = values;
        }
    }

    /**
     * {@code children.length == keys.length + 1}: every key under {@code children[i]} is at least
     * {@code keys[i - 1]} and below {@code keys[i]} (the separators).
     */
    private static final class Inner extends Node {
        final Node[] children;

        Inner(long[] prefixes, byte[][] keys, Node[] children) {
            super(prefixes, keys);
            this.children = children;
        }
    }

    private final Node root;
    private final int size;

    private PersistentSortedMap(Node root, int size) {
        this.root = root;
        this.size = size;
    }

    @SuppressWarnings("unchecked")
    static <V> PersistentSortedMap<V> empty() {
        return (PersistentSortedMap<V>) EMPTY;
    }

    /**
     * A map of {@code keys[i] → values[i]} in O(n), for restoring a snapshot: full leaves, evenly.
     *
     * @throws IllegalArgumentException if the keys are not strictly ascending (names the position)
     */
    static <V> PersistentSortedMap<V> fromSorted(List<byte[]> keys, List<V> values) {
        if (keys.size() != values.size()) {
            throw new IllegalArgumentException(keys.size() + " keys but " + values.size() + " values");
        }
        for (int i = 1; i < keys.size(); i++) {
            if (compare(keys.get(i - 1), keys.get(i)) >= 0) {
                throw new IllegalArgumentException("keys are not strictly ascending at position " + i);
            }
        }
        int n = keys.size();
        if (n == 0) {
            return empty();
        }
        int count = (n + MAX - 1) / MAX;
        Node[] level = new Node[count];
        byte[][] firsts = new byte[count][];
        for (int i = 0, from = 0; i < count; i++) {
            int to = from + (n - from) / (count - i);
            byte[][] k = keys.subList(from, to).toArray(new byte[0][]);
            level[i] = new Leaf(prefixes(k), k, values.subList(from, to).toArray());
            firsts[i] = k[0];
            from = to;
        }
        while (level.length > 1) {
            count = (level.length + MAX - 1) / MAX;
            Node[] up = new Node[count];
            byte[][] upFirsts = new byte[count][];
            for (int i = 0, from = 0; i < count; i++) {
                int to = from + (level.length - from) / (count - i);
                byte[][] seps = Arrays.copyOfRange(firsts, from + 1, to);
                up[i] = new Inner(prefixes(seps), seps, Arrays.copyOfRange(level, from, to));
                upFirsts[i] = firsts[from];
                from = to;
            }
            level = up;
            firsts = upFirsts;
        }
        return new PersistentSortedMap<>(level[0], n);
    }

    /** Unsigned lexicographic order, the order of scans and snapshots. */
    static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    /**
     * The first 8 bytes of {@code key}, big-endian, zero-padded: prefixes compared as unsigned
     * longs order keys as {@link #compare} does whenever they differ (a key that ends early pads
     * with zeros, and a proper prefix sorts first), so only equal prefixes need the full compare.
     */
    static long prefix(byte[] key) {
        long p = 0;
        int n = Math.min(8, key.length);
        for (int i = 0; i < n; i++) {
            p |= (key[i] & 0xFFL) << (56 - 8 * i);
        }
        return p;
    }

    private static long[] prefixes(byte[][] keys) {
        long[] p = new long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            p[i] = prefix(keys[i]);
        }
        return p;
    }

    /** Where {@code key} is among the node's keys: its position, or {@code -(insertion point) - 1}. */
    private static int search(Node n, byte[] key, long prefix) {
        long[] prefixes = n.prefixes;
        int lo = 0;
        int hi = prefixes.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Long.compareUnsigned(prefixes[mid], prefix);
            if (c == 0) {
                c = compare(n.keys[mid], key);
            }
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -(lo + 1);
    }

    /** The child of {@code n} whose range holds {@code key} (a key equal to a separator is right of it). */
    private static int child(Inner n, byte[] key, long prefix) {
        int at = search(n, key, prefix);
        return at >= 0 ? at + 1 : -(at + 1);
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The value at {@code key}, or null. */
    @SuppressWarnings("unchecked")
    V get(byte[] key) {
        if (root == null) {
            return null;
        }
        long prefix = prefix(key);
        Node n = root;
        while (n instanceof Inner in) {
            n = in.children[child(in, key, prefix)];
        }
        int at = search(n, key, prefix);
        return at >= 0 ? (V) ((Leaf) n).values[at] : null;
    }

    /** What a put below a node did: whether the key was new, and the node's new form (one node, or two). */
    private static final class Put {
        boolean added;
        Node left;
        /** Non-null if the node split: {@code left}, then this, which starts at {@link #separator}. */
        Node right;
        byte[] separator;

        void one(Node n) {
            left = n;
            right = null;
            separator = null;
        }

        void two(Node l, Node r, byte[] sep) {
            left = l;
            right = r;
            separator = sep;
        }
    }

    /** A new version with {@code key → value}; this version is unchanged. */
    PersistentSortedMap<V> put(byte[] key, V value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        long prefix = prefix(key);
        if (root == null) {
            return new PersistentSortedMap<>(new Leaf(new long[] {prefix}, new byte[][] {key}, new Object[] {value}), 1);
        }
        Put p = new Put();
        put(root, key, prefix, value, p);
        Node r = p.right == null ? p.left
                : new Inner(new long[] {prefix(p.separator)}, new byte[][] {p.separator}, new Node[] {p.left, p.right});
        return new PersistentSortedMap<>(r, p.added ? size + 1 : size);
    }

    private static void put(Node n, byte[] key, long prefix, Object value, Put p) {
        if (n instanceof Leaf leaf) {
            int at = search(leaf, key, prefix);
            if (at >= 0) {
                // The common update: the same keys, one value replaced.
                Object[] values = leaf.values.clone();
                values[at] = value;
                p.added = false;
                p.one(new Leaf(leaf.prefixes, leaf.keys, values));
                return;
            }
            p.added = true;
            int i = -(at + 1);
            long[] prefixes = insert(leaf.prefixes, i, prefix);
            byte[][] keys = insert(leaf.keys, i, key);
            Object[] values = insert(leaf.values, i, value);
            if (keys.length <= MAX) {
                p.one(new Leaf(prefixes, keys, values));
            } else {
                int h = keys.length / 2;
                p.two(new Leaf(Arrays.copyOfRange(prefixes, 0, h), Arrays.copyOfRange(keys, 0, h),
                                Arrays.copyOfRange(values, 0, h)),
                        new Leaf(Arrays.copyOfRange(prefixes, h, keys.length), Arrays.copyOfRange(keys, h, keys.length),
                                Arrays.copyOfRange(values, h, keys.length)), keys[h]);
            }
            return;
        }
        Inner in = (Inner) n;
        int c = child(in, key, prefix);
        put(in.children[c], key, prefix, value, p);
        if (p.right == null) {
            Node[] children = in.children.clone();
            children[c] = p.left;
            p.one(new Inner(in.prefixes, in.keys, children));
            return;
        }
        // The child split: its right half goes after it, separated by the right half's first key.
        Node[] children = insert(in.children, c + 1, p.right);
        children[c] = p.left;
        long[] prefixes = insert(in.prefixes, c, prefix(p.separator));
        byte[][] seps = insert(in.keys, c, p.separator);
        if (children.length <= MAX) {
            p.one(new Inner(prefixes, seps, children));
            return;
        }
        // Split this node too: the middle separator moves up and bounds the two halves.
        int h = children.length / 2;
        p.two(new Inner(Arrays.copyOfRange(prefixes, 0, h - 1), Arrays.copyOfRange(seps, 0, h - 1),
                        Arrays.copyOfRange(children, 0, h)),
                new Inner(Arrays.copyOfRange(prefixes, h, seps.length), Arrays.copyOfRange(seps, h, seps.length),
                        Arrays.copyOfRange(children, h, children.length)), seps[h - 1]);
    }

    /** A new version without {@code key} (this one if it is absent); this version is unchanged. */
    PersistentSortedMap<V> remove(byte[] key) {
        if (root == null) {
            return this;
        }
        Node r = remove(root, key, prefix(key));
        if (r == root) {
            return this;
        }
        while (r instanceof Inner in && in.children.length == 1) {
            r = in.children[0];  // a root left with one child: the tree gets shallower
        }
        return new PersistentSortedMap<>(r, size - 1);
    }

    /** {@code n} without {@code key}: {@code n} itself if absent, null if nothing is left. */
    private static Node remove(Node n, byte[] key, long prefix) {
        if (n instanceof Leaf leaf) {
            int at = search(leaf, key, prefix);
            if (at < 0) {
                return n;
            }
            if (leaf.keys.length == 1) {
                return null;
            }
            return new Leaf(delete(leaf.prefixes, at), delete(leaf.keys, at), delete(leaf.values, at));
        }
        Inner in = (Inner) n;
        int c = child(in, key, prefix);
        Node after = remove(in.children[c], key, prefix);
        if (after == in.children[c]) {
            return n;
        }
        if (after != null) {
            Node[] children = in.children.clone();
            children[c] = after;
            return new Inner(in.prefixes, in.keys, children);
        }
        if (in.children.length == 1) {
            return null;
        }
        // The child emptied: drop it with the separator on its left (the first child's on its
        // right); the neighbour's range widens over the gap, which holds no key.
        int sep = c > 0 ? c - 1 : 0;
        return new Inner(delete(in.prefixes, sep), delete(in.keys, sep), delete(in.children, c));
    }

    private static long[] insert(long[] a, int at, long v) {
        long[] out = new long[a.length + 1];
        System.arraycopy(a, 0, out, 0, at);
        out[at] = v;
        System.arraycopy(a, at, out, at + 1, a.length - at);
        return out;
    }

    private static <T> T[] insert(T[] a, int at, T v) {
        T[] out = Arrays.copyOf(a, a.length + 1);
        System.arraycopy(a, at, out, at + 1, a.length - at);
        out[at] = v;
        return out;
    }

    private static long[] delete(long[] a, int at) {
        long[] out = new long[a.length - 1];
        System.arraycopy(a, 0, out, 0, at);
        System.arraycopy(a, at + 1, out, at, a.length - at - 1);
        return out;
    }

    private static <T> T[] delete(T[] a, int at) {
        T[] out = Arrays.copyOf(a, a.length - 1);
        System.arraycopy(a, at + 1, out, at, a.length - at - 1);
        return out;
    }

    /** Entries in ascending key order. */
    @Override
    public Iterator<Map.Entry<byte[], V>> iterator() {
        return new Cursor<>(root, null);
    }

    /** Entries with keys at or after {@code from}, in ascending order. */
    Iterator<Map.Entry<byte[], V>> iteratorFrom(byte[] from) {
        return new Cursor<>(root, Objects.requireNonNull(from, "from"));
    }

    /** Calls {@code action} for every entry in ascending key order. */
    void forEachEntry(BiConsumer<byte[], V> action) {
        for (Iterator<Map.Entry<byte[], V>> it = iterator(); it.hasNext(); ) {
            Map.Entry<byte[], V> e = it.next();
            action.accept(e.getKey(), e.getValue());
        }
    }

    /** Levels from the root to the leaves (0 when empty). */
    int depth() {
        int d = 0;
        for (Node n = root; n != null; n = n instanceof Inner in ? in.children[0] : null) {
            d++;
        }
        return d;
    }

    /**
     * Checks the tree's invariants (for tests): keys strictly ascending and within their
     * separators' bounds, every prefix right, every leaf at the same depth, no node empty or above
     * {@link #MAX}, an inner root with two children at least, and the size right.
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    void checkInvariants() {
        if (root == null) {
            if (size != 0) {
                throw new IllegalStateException("an empty tree of size " + size);
            }
            return;
        }
        if (root instanceof Inner in && in.children.length < 2) {
            throw new IllegalStateException("the root has one child");
        }
        int[] count = new int[1];
        check(root, null, null, 1, depth(), count);
        if (count[0] != size) {
            throw new IllegalStateException("size is " + size + " but the tree holds " + count[0] + " entries");
        }
    }

    private static void check(Node n, byte[] low, byte[] high, int level, int depth, int[] count) {
        int keys = n.keys.length;
        if (n.prefixes.length != keys) {
            throw new IllegalStateException("a node with " + keys + " keys and " + n.prefixes.length + " prefixes");
        }
        for (int i = 0; i < keys; i++) {
            byte[] k = n.keys[i];
            if (n.prefixes[i] != prefix(k)) {
                throw new IllegalStateException("key " + Arrays.toString(k) + " has a stale prefix");
            }
            if ((i > 0 && compare(n.keys[i - 1], k) >= 0) || (low != null && compare(k, low) < 0)
                    || (high != null && compare(k, high) >= 0)) {
                throw new IllegalStateException("key " + Arrays.toString(k) + " is out of order");
            }
        }
        if (n instanceof Leaf leaf) {
            if (level != depth) {
                throw new IllegalStateException("a leaf at depth " + level + " of " + depth);
            }
            if (keys == 0 || keys > MAX || leaf.values.length != keys) {
                throw new IllegalStateException("a leaf of " + keys + " keys and " + leaf.values.length + " values");
            }
            count[0] += keys;
            return;
        }
        Inner in = (Inner) n;
        if (in.children.length != keys + 1 || in.children.length > MAX) {
            throw new IllegalStateException("an inner node of " + in.children.length + " children and " + keys
                    + " separators");
        }
        for (int i = 0; i < in.children.length; i++) {
            check(in.children[i], i == 0 ? low : in.keys[i - 1], i == keys ? high : in.keys[i], level + 1, depth, count);
        }
    }

    /** In-order walk: the path of inner nodes to the current leaf, with the child each is at. */
    private static final class Cursor<V> implements Iterator<Map.Entry<byte[], V>> {
        private final Inner[] path = new Inner[64];
        private final int[] at = new int[64];
        private int depth;
        private Leaf leaf;
        private int index;

        Cursor(Node root, byte[] from) {
            if (root == null) {
                return;
            }
            Node n = root;
            long prefix = from == null ? 0 : prefix(from);
            while (n instanceof Inner in) {
                int c = from == null ? 0 : child(in, from, prefix);
                path[depth] = in;
                at[depth++] = c;
                n = in.children[c];
            }
            leaf = (Leaf) n;
            if (from != null) {
                int i = search(leaf, from, prefix);
                index = i >= 0 ? i : -(i + 1);
            }
            settle();
        }

        /** Moves past an exhausted leaf to the first key of the next one (leaf null at the end). */
        private void settle() {
            while (leaf != null && index == leaf.keys.length) {
                int d = depth - 1;
                while (d >= 0 && at[d] == path[d].children.length - 1) {
                    d--;
                }
                if (d < 0) {
                    leaf = null;
                    return;
                }
                at[d]++;
                Node n = path[d].children[at[d]];
                for (int k = d + 1; k < depth; k++) {
                    path[k] = (Inner) n;
                    at[k] = 0;
                    n = path[k].children[0];
                }
                leaf = (Leaf) n;
                index = 0;
            }
        }

        @Override
        public boolean hasNext() {
            return leaf != null;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Map.Entry<byte[], V> next() {
            if (leaf == null) {
                throw new NoSuchElementException();
            }
            Map.Entry<byte[], V> e = Map.entry(leaf.keys[index], (V) leaf.values[index]);
            index++;
            settle();
            return e;
        }
    }
}
