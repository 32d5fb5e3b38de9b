package dev.raftkit.kv;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * An immutable sorted map from byte-array keys (unsigned lexicographic order) to values: a
 * persistent AVL tree. An update copies only the path from the root to the changed node (about
 * 1.44·log₂ n nodes) and shares every other node with the previous version, so keeping an old
 * version costs nothing until the new one diverges from it.
 *
 * <p>This is what makes {@link KvStateMachine#snapshot()} O(1): the snapshot holds the root of the
 * current version, and the snapshot pool walks that version while the apply thread builds newer
 * ones. Nothing is locked, because no node is ever changed after it is built; a version published
 * through a {@code volatile} field (or a final field) is safe to read from any thread.
 *
 * <p>The map owns the key arrays it is given: callers must not change them afterwards.
 *
 * @param <V> the value type (immutable, or never changed once stored)
 */
final class PersistentSortedMap<V> implements Iterable<Map.Entry<byte[], V>> {

    private static final PersistentSortedMap<?> EMPTY = new PersistentSortedMap<>(null, 0);

    /**
     * One tree node; never changed after construction. {@code prefix} is the key's first 8 bytes
     * ({@link #prefix(byte[])}), so a search compares a long held in the node it has already loaded
     * and touches the key array only when the prefixes tie: on a large map each probe of a
     * separate key array is a cache miss, and they were most of a put's time.
     */
    private record Node<V>(byte[] key, long prefix, V value, Node<V> left, Node<V> right, int height) {
        Node(byte[] key, V value, Node<V> left, Node<V> right, int height) {
            this(key, PersistentSortedMap.prefix(key), value, left, right, height);
        }
    }

    private final Node<V> root;
    private final int size;

    private PersistentSortedMap(Node<V> root, int size) {
        this.root = root;
        this.size = size;
    }

    @SuppressWarnings("unchecked")
    static <V> PersistentSortedMap<V> empty() {
        return (PersistentSortedMap<V>) EMPTY;
    }

    /**
     * A balanced map of {@code keys[i] → values[i]} in O(n), for restoring a snapshot.
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
        return new PersistentSortedMap<>(build(keys, values, 0, keys.size()), keys.size());
    }

    private static <V> Node<V> build(List<byte[]> keys, List<V> values, int from, int to) {
        if (from >= to) {
            return null;
        }
        int mid = (from + to) >>> 1;
        Node<V> left = build(keys, values, from, mid);
        Node<V> right = build(keys, values, mid + 1, to);
        return new Node<>(keys.get(mid), values.get(mid), left, right, 1 + Math.max(height(left), height(right)));
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

    /** {@link #compare} of {@code key} (whose prefix is {@code prefix}) with the node's key. */
    private static int compare(byte[] key, long prefix, Node<?> n) {
        int c = Long.compareUnsigned(prefix, n.prefix);
        return c != 0 ? c : compare(key, n.key);
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The value at {@code key}, or null. */
    V get(byte[] key) {
        long prefix = prefix(key);
        Node<V> n = root;
        while (n != null) {
            int c = compare(key, prefix, n);
            if (c == 0) {
                return n.value;
            }
            n = c < 0 ? n.left : n.right;
        }
        return null;
    }

    /** A new version with {@code key → value}; this version is unchanged. */
    PersistentSortedMap<V> put(byte[] key, V value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        boolean[] added = new boolean[1];
        Node<V> r = put(root, key, prefix(key), value, added);
        return new PersistentSortedMap<>(r, added[0] ? size + 1 : size);
    }

    private static <V> Node<V> put(Node<V> n, byte[] key, long prefix, V value, boolean[] added) {
        if (n == null) {
            added[0] = true;
            return new Node<>(key, prefix, value, null, null, 1);
        }
        int c = compare(key, prefix, n);
        if (c == 0) {
            return new Node<>(n.key, n.prefix, value, n.left, n.right, n.height);
        }
        return c < 0 ? balance(n, put(n.left, key, prefix, value, added), n.right)
                : balance(n, n.left, put(n.right, key, prefix, value, added));
    }

    /** A new version without {@code key} (this one if it is absent); this version is unchanged. */
    PersistentSortedMap<V> remove(byte[] key) {
        Node<V> r = remove(root, key, prefix(key));
        return r == root ? this : new PersistentSortedMap<>(r, size - 1);
    }

    private static <V> Node<V> remove(Node<V> n, byte[] key, long prefix) {
        if (n == null) {
            return null;
        }
        int c = compare(key, prefix, n);
        if (c < 0) {
            Node<V> l = remove(n.left, key, prefix);
            return l == n.left ? n : balance(n, l, n.right);
        }
        if (c > 0) {
            Node<V> r = remove(n.right, key, prefix);
            return r == n.right ? n : balance(n, n.left, r);
        }
        if (n.left == null) {
            return n.right;
        }
        if (n.right == null) {
            return n.left;
        }
        // Two children: the successor (leftmost of the right subtree) takes this node's place.
        Node<V> min = n.right;
        while (min.left != null) {
            min = min.left;
        }
        return balance(min, n.left, removeMin(n.right));
    }

    private static <V> Node<V> removeMin(Node<V> n) {
        if (n.left == null) {
            return n.right;
        }
        return balance(n, removeMin(n.left), n.right);
    }

    private static int height(Node<?> n) {
        return n == null ? 0 : n.height;
    }

    /** A copy of {@code at}'s key and value over new children. */
    private static <V> Node<V> node(Node<V> at, Node<V> left, Node<V> right) {
        return new Node<>(at.key, at.prefix, at.value, left, right, 1 + Math.max(height(left), height(right)));
    }

    /**
     * A node over {@code left} and {@code right}, whose heights differ by at most 2 (one update
     * below), rotated so that they differ by at most 1 again: the AVL invariant, which keeps the
     * height under 1.44·log₂(n + 2).
     */
    private static <V> Node<V> balance(Node<V> at, Node<V> left, Node<V> right) {
        int hl = height(left);
        int hr = height(right);
        if (hl > hr + 1) {
            if (height(left.left) >= height(left.right)) {
                return node(left, left.left, node(at, left.right, right));
            }
            Node<V> lr = left.right;
            return node(lr, node(left, left.left, lr.left), node(at, lr.right, right));
        }
        if (hr > hl + 1) {
            if (height(right.right) >= height(right.left)) {
                return node(right, node(at, left, right.left), right.right);
            }
            Node<V> rl = right.left;
            return node(rl, node(at, left, rl.left), node(right, rl.right, right.right));
        }
        return node(at, left, right);
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

    /**
     * Checks the tree's invariants (for tests): keys strictly ascending in order, every node's
     * prefix and height right and its subtrees' heights within 1 of each other, and the size right.
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    void checkInvariants() {
        int[] count = new int[1];
        check(root, null, null, count);
        if (count[0] != size) {
            throw new IllegalStateException("size is " + size + " but the tree holds " + count[0] + " entries");
        }
    }

    private static void check(Node<?> n, byte[] low, byte[] high, int[] count) {
        if (n == null) {
            return;
        }
        if ((low != null && compare(n.key, low) <= 0) || (high != null && compare(n.key, high) >= 0)) {
            throw new IllegalStateException("key " + Arrays.toString(n.key) + " is out of order");
        }
        if (Math.abs(height(n.left) - height(n.right)) > 1) {
            throw new IllegalStateException("node " + Arrays.toString(n.key) + " is unbalanced: heights "
                    + height(n.left) + " and " + height(n.right));
        }
        if (n.prefix != prefix(n.key)) {
            throw new IllegalStateException("node " + Arrays.toString(n.key) + " has a stale prefix");
        }
        if (n.height != 1 + Math.max(height(n.left), height(n.right))) {
            throw new IllegalStateException("node " + Arrays.toString(n.key) + " has height " + n.height);
        }
        count[0]++;
        check(n.left, low, n.key, count);
        check(n.right, n.key, high, count);
    }

    /** In-order walk with an explicit stack of the nodes whose right side is still to visit. */
    private static final class Cursor<V> implements Iterator<Map.Entry<byte[], V>> {
        private final ArrayDeque<Node<V>> stack = new ArrayDeque<>();

        Cursor(Node<V> root, byte[] from) {
            Node<V> n = root;
            while (n != null) {
                if (from == null || compare(n.key, from) >= 0) {
                    stack.push(n);
                    n = n.left;
                } else {
                    n = n.right;
                }
            }
        }

        @Override
        public boolean hasNext() {
            return !stack.isEmpty();
        }

        @Override
        public Map.Entry<byte[], V> next() {
            if (stack.isEmpty()) {
                throw new NoSuchElementException();
            }
            Node<V> n = stack.pop();
            for (Node<V> m = n.right; m != null; m = m.left) {
                stack.push(m);
            }
            return Map.entry(n.key, n.value);
        }
    }
}
