package dev.raftkit.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The persistent B+ tree map against a {@link TreeMap} oracle (STYLE 8), every old version included. */
class PersistentSortedMapTest {

    sealed interface Op permits Put, Remove, Lookup, Range {
    }

    record Put(List<Integer> key, int value) implements Op {
    }

    record Remove(List<Integer> key) implements Op {
    }

    record Lookup(List<Integer> key) implements Op {
    }

    record Range(List<Integer> from, int count) implements Op {
    }

    // Few distinct bytes, short keys: operations collide, and 0x00/0xFF probe unsigned order.
    private static final Gen<List<Integer>> KEYS = Gens.lists(Gens.oneOf(0x00, 0x01, 0x7F, 0x80, 0xFF), 0, 3);
    private static final Gen<Op> OPS = ops(KEYS);
    // Keys of 6 to 11 bytes over two byte values: many share their first 8 bytes (the prefix a
    // node compares first) and differ after it, or are proper prefixes of each other.
    private static final Gen<Op> LONG_KEY_OPS = ops(Gens.lists(Gens.oneOf(0x00, 0xFF), 6, 11));

    private static Gen<Op> ops(Gen<List<Integer>> keys) {
        return Gens.choose(
                Gens.pairs(keys, Gens.ints(0, 9)).map(p -> new Put(p.first(), p.second())),
                keys.map(Remove::new),
                keys.map(Lookup::new),
                Gens.pairs(keys, Gens.ints(0, 5)).map(p -> new Range(p.first(), p.second())));
    }

    static byte[] bytes(List<Integer> key) {
        byte[] b = new byte[key.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (int) key.get(i);
        }
        return b;
    }

    private static TreeMap<byte[], Integer> oracle() {
        return new TreeMap<>(Arrays::compareUnsigned);
    }

    private static List<String> contents(Iterator<Map.Entry<byte[], Integer>> it, int max) {
        List<String> out = new ArrayList<>();
        while (it.hasNext() && out.size() < max) {
            Map.Entry<byte[], Integer> e = it.next();
            out.add(Arrays.toString(e.getKey()) + "=" + e.getValue());
        }
        return out;
    }

    @Test
    void agreesWithATreeMapAndKeepsEveryOldVersionIntact() {
        agreesWithATreeMap("persistent map agrees with a TreeMap", OPS);
    }

    @Test
    void keysSharingTheirFirstEightBytesAreOrderedByTheRest() {
        agreesWithATreeMap("persistent map agrees with a TreeMap on long keys", LONG_KEY_OPS);
    }

    private static void agreesWithATreeMap(String name, Gen<Op> ops) {
        Property.check(name, Gens.lists(ops, 0, 120), script -> {
            PersistentSortedMap<Integer> map = PersistentSortedMap.empty();
            TreeMap<byte[], Integer> model = oracle();
            List<PersistentSortedMap<Integer>> versions = new ArrayList<>();
            List<TreeMap<byte[], Integer>> models = new ArrayList<>();
            for (Op op : script) {
                if (op instanceof Put p) {
                    map = map.put(bytes(p.key()), p.value());
                    model.put(bytes(p.key()), p.value());
                } else if (op instanceof Remove r) {
                    map = map.remove(bytes(r.key()));
                    model.remove(bytes(r.key()));
                } else if (op instanceof Lookup l) {
                    assertEquals(model.get(bytes(l.key())), map.get(bytes(l.key())), "after " + op);
                } else if (op instanceof Range r) {
                    assertEquals(contents(model.tailMap(bytes(r.from()), true).entrySet().iterator(), r.count()),
                            contents(map.iteratorFrom(bytes(r.from())), r.count()), "after " + op);
                }
                map.checkInvariants();
                assertEquals(model.size(), map.size(), "size after " + op);
                versions.add(map);
                models.add(new TreeMap<>(model));
            }
            // Persistence: no later update changed an earlier version.
            for (int i = 0; i < versions.size(); i++) {
                assertEquals(contents(models.get(i).entrySet().iterator(), Integer.MAX_VALUE),
                        contents(versions.get(i).iterator(), Integer.MAX_VALUE), "version " + i);
            }
        });
    }

    @Test
    void fromSortedBuildsABalancedTreeAndRefusesUnsortedKeys() {
        Property.check("fromSorted equals inserting one by one", Gens.sets(Gens.ints(0, 5000), 0, 300), keys -> {
            List<byte[]> sorted = keys.stream().sorted().map(k -> new byte[] {(byte) (k >> 8), (byte) (int) k})
                    .toList();
            List<Integer> values = new ArrayList<>();
            PersistentSortedMap<Integer> inserted = PersistentSortedMap.empty();
            for (int i = 0; i < sorted.size(); i++) {
                values.add(i);
                inserted = inserted.put(sorted.get(i), i);
            }
            PersistentSortedMap<Integer> built = PersistentSortedMap.fromSorted(sorted, values);
            built.checkInvariants();
            assertEquals(contents(inserted.iterator(), Integer.MAX_VALUE), contents(built.iterator(), Integer.MAX_VALUE));
        });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PersistentSortedMap
                .fromSorted(List.of(new byte[] {2}, new byte[] {1}), List.of(1, 2)));
        assertTrue(e.getMessage().contains("position 1"), e.getMessage());
    }

    @Test
    void depthStaysLogarithmicUnderSequentialInserts() {
        PersistentSortedMap<Integer> map = PersistentSortedMap.empty();
        for (int i = 0; i < 100_000; i++) {
            map = map.put(new byte[] {(byte) (i >> 16), (byte) (i >> 8), (byte) i}, i);
        }
        // checkInvariants fails on any leaf at another depth than the rest.
        map.checkInvariants();
        assertEquals(100_000, map.size());
        // Every split leaves both halves at least half full: 16^5 > 100,000.
        assertTrue(map.depth() <= 5, "depth " + map.depth());
    }

    /**
     * Thousands of keys, so leaves and inner nodes split and empty over several levels: every
     * operation against a TreeMap, the invariants every 250 operations, and a few kept versions
     * unchanged at the end. Removals favour keys present, so the tree also shrinks back.
     */
    @Test
    void splitsAndEmptiesAcrossLevelsAgreeWithATreeMap() {
        for (long seed = 1; seed <= 4; seed++) {
            Random rnd = new Random(seed);
            PersistentSortedMap<Integer> map = PersistentSortedMap.empty();
            TreeMap<byte[], Integer> model = oracle();
            List<PersistentSortedMap<Integer>> versions = new ArrayList<>();
            List<List<String>> expected = new ArrayList<>();
            int keys = seed % 2 == 0 ? 3000 : 40_000;
            for (int i = 0; i < 12_000; i++) {
                // Short keys and 10-byte keys sharing their first 8 bytes, interleaved in order.
                int k = rnd.nextInt(keys);
                byte[] key = rnd.nextBoolean() ? new byte[] {(byte) (k >> 16), (byte) (k >> 8), (byte) k}
                        : new byte[] {0, 0, 0, 0, 0, 0, 0, 0, (byte) (k >> 8), (byte) k};
                int op = rnd.nextInt(10);
                if (op < (i < 8000 ? 6 : 2)) {
                    map = map.put(key, i);
                    model.put(key, i);
                } else if (op < 9) {
                    byte[] victim = rnd.nextBoolean() && !model.isEmpty() ? model.ceilingKey(key) : key;
                    if (victim != null) {
                        map = map.remove(victim);
                        model.remove(victim);
                    }
                } else {
                    assertEquals(contents(model.tailMap(key, true).entrySet().iterator(), 40),
                            contents(map.iteratorFrom(key), 40), "scan from " + Arrays.toString(key));
                }
                assertEquals(model.get(key), map.get(key));
                assertEquals(model.size(), map.size());
                if (i % 250 == 0) {
                    map.checkInvariants();
                    versions.add(map);
                    expected.add(contents(model.entrySet().iterator(), Integer.MAX_VALUE));
                }
            }
            map.checkInvariants();
            assertEquals(contents(model.entrySet().iterator(), Integer.MAX_VALUE), contents(map.iterator(), Integer.MAX_VALUE));
            // Empty it in random order: leaves and inner nodes vanish and the root loses levels.
            List<byte[]> left = new ArrayList<>(model.keySet());
            java.util.Collections.shuffle(left, rnd);
            int depth = map.depth();
            for (int i = 0; i < left.size(); i++) {
                map = map.remove(left.get(i));
                model.remove(left.get(i));
                if (i % 100 == 0 || model.size() < 40) {
                    map.checkInvariants();
                    assertEquals(contents(model.entrySet().iterator(), 50), contents(map.iterator(), 50));
                }
            }
            assertTrue(depth >= 3 && map.depth() == 0 && map.isEmpty(), "depth " + depth + " to " + map.depth());
            for (int v = 0; v < versions.size(); v += 7) {
                assertEquals(expected.get(v), contents(versions.get(v).iterator(), Integer.MAX_VALUE), "version " + v);
            }
        }
    }

    @Test
    void removingAnAbsentKeyReturnsTheSameVersion() {
        PersistentSortedMap<Integer> map = PersistentSortedMap.<Integer>empty().put(new byte[] {1}, 1);
        assertSame(map, map.remove(new byte[] {2}));
        assertNull(map.remove(new byte[] {1}).get(new byte[] {1}));
        assertEquals(1, map.size(), "the old version still holds the key");
    }
}
