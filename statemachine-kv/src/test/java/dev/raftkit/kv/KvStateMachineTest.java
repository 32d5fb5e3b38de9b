package dev.raftkit.kv;

import static dev.raftkit.kv.Scripts.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StateMachine.Command;
import dev.raftkit.spi.StateMachine.Snapshot;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Determinism, the TreeMap model, snapshots (point in time, round trip, corruption). */
class KvStateMachineTest {

    static byte[] image(KvStateMachine sm) throws IOException {
        try (Snapshot s = sm.snapshot()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            s.writeTo(out);
            return out.toByteArray();
        }
    }

    static KvStateMachine restored(long index, byte[] image) throws IOException {
        KvStateMachine sm = new KvStateMachine();
        sm.restore(index, new ByteArrayInputStream(image));
        return sm;
    }

    /** Applies {@code commands} in batches whose sizes come from {@code cuts} (cycled). */
    static List<byte[]> applyInBatches(KvStateMachine sm, List<Command> commands, List<Integer> cuts) {
        List<byte[]> results = new ArrayList<>();
        int i = 0;
        int k = 0;
        while (i < commands.size()) {
            int n = cuts.isEmpty() ? commands.size() : Math.max(1, cuts.get(k++ % cuts.size()));
            List<Command> batch = commands.subList(i, Math.min(commands.size(), i + n));
            List<byte[]> r = sm.apply(batch);
            assertEquals(batch.size(), r.size(), "one result per command");
            results.addAll(r);
            i += batch.size();
        }
        return results;
    }

    private static Command command(long index, byte[] payload) {
        return new Command(index, 1, 0, payload);
    }

    private static KvResult applyOne(KvStateMachine sm, long index, byte[] payload) {
        return KvResult.decode(sm.apply(List.of(command(index, payload))).get(0));
    }

    @Test
    void agreesWithATreeMapModelOnEveryResultAndQuery() {
        Property.check("KV state machine agrees with a TreeMap model", Scripts.SCRIPTS, script -> {
            KvStateMachine sm = new KvStateMachine();
            Scripts.Model model = new Scripts.Model();
            for (Command c : Scripts.commands(script)) {
                KvResult expected = model.apply(c);
                KvResult actual = KvResult.decode(sm.apply(List.of(c)).get(0));
                if (expected instanceof KvResult.Rejected) {
                    assertInstanceOf(KvResult.Rejected.class, actual, "entry " + c.index());
                } else {
                    assertEquals(expected, actual, "entry " + c.index());
                }
                assertEquals(c.index(), sm.lastApplied());
            }
            // Reads through query() see the same state as the model.
            for (String k : List.of("a", "ab", "b", "ba", "bb", "c", "é", "zz")) {
                KvCommand get = new KvCommand.Get(utf8(k));
                assertEquals(model.query(get), KvResult.decode(sm.query(get.encode())), "get " + k);
            }
            KvCommand all = new KvCommand.Scan(new byte[0], KvCommand.MAX_SCAN_LIMIT);
            assertEquals(model.query(all), KvResult.decode(sm.query(all.encode())));
            assertEquals(model.map.size(), sm.size());
        });
    }

    @Test
    void sameCommandsGiveSameResultsAndIdenticalSnapshotBytesHoweverBatched() {
        Property.check("same commands ⇒ same results ⇒ same snapshot bytes",
                Gens.pairs(Scripts.SCRIPTS, Gens.pairs(Gens.lists(Gens.ints(1, 7), 0, 5),
                        Gens.lists(Gens.ints(1, 7), 0, 5))), input -> {
                    List<Command> commands = Scripts.commands(input.first());
                    KvStateMachine a = new KvStateMachine();
                    KvStateMachine b = new KvStateMachine();
                    List<byte[]> ra = applyInBatches(a, commands, input.second().first());
                    List<byte[]> rb = applyInBatches(b, commands, input.second().second());
                    for (int i = 0; i < ra.size(); i++) {
                        assertArrayEquals(ra.get(i), rb.get(i), "result " + i);
                    }
                    assertArrayEquals(image(a), image(b));
                    assertEquals(a.digest(), b.digest());
                });
    }

    @Test
    void snapshotRestoreRoundTripPreservesEverything() {
        Property.check("snapshot → restore → snapshot is the identity", Scripts.SCRIPTS, script -> {
            List<Command> commands = Scripts.commands(script);
            KvStateMachine sm = new KvStateMachine();
            sm.apply(commands);
            long index = sm.lastApplied();
            byte[] image = image(sm);
            KvStateMachine copy = restored(index, image);
            assertEquals(index, copy.lastApplied());
            assertArrayEquals(image, image(copy));
            assertEquals(sm.digest(), copy.digest());
            KvCommand all = new KvCommand.Scan(new byte[0], KvCommand.MAX_SCAN_LIMIT);
            assertArrayEquals(sm.query(all.encode()), copy.query(all.encode()));
            // Both go on identically from there.
            List<Command> more = List.of(command(index + 1, KvOps.put("b", "after")),
                    command(index + 2, KvOps.casVersion("a", KvCommand.ABSENT, "new")));
            assertEquals(sm.apply(more).stream().map(Arrays::toString).toList(),
                    copy.apply(more).stream().map(Arrays::toString).toList());
            assertArrayEquals(image(sm), image(copy));
        });
    }

    @Test
    void aSnapshotIsThePointInTimeItWasTakenAtWhileApplyingGoesOn() throws Exception {
        KvStateMachine sm = new KvStateMachine();
        KvStateMachine reference = new KvStateMachine();
        List<Command> first = new ArrayList<>();
        for (int i = 1; i <= 20_000; i++) {
            first.add(command(i, KvOps.put("key-" + (i % 5000), "v" + i)));
        }
        sm.apply(first);
        reference.apply(first);
        Snapshot snapshot = sm.snapshot();
        assertEquals(20_000, snapshot.index());

        // Write the image on another thread while this one overwrites and deletes every key.
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
                try {
                    snapshot.writeTo(out);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, pool);
            long index = 20_000;
            for (int round = 0; round < 4; round++) {
                List<Command> batch = new ArrayList<>();
                for (int i = 0; i < 5000; i++) {
                    index++;
                    batch.add(command(index, round % 2 == 0 ? KvOps.put("key-" + i, "later") : KvOps.delete("key-" + i)));
                }
                sm.apply(batch);
            }
            written.get(30, TimeUnit.SECONDS);
            snapshot.close();
            assertArrayEquals(image(reference), out.toByteArray(),
                    "the image is the state at index 20000, untouched by later applies");
            assertEquals(0, sm.size(), "the live state moved on");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void everyFlippedBitOrTruncationOfAnImageIsRefusedAndTheStateIsKept() throws IOException {
        KvStateMachine source = new KvStateMachine();
        source.apply(List.of(command(3, KvOps.put("alpha", "1")), command(5, KvOps.put("beta", "22")),
                command(9, KvOps.put("gamma", ""))));
        byte[] image = image(source);

        KvStateMachine target = new KvStateMachine();
        target.apply(List.of(command(1, KvOps.put("mine", "kept"))));
        KvResult.Digest before = target.digest();
        for (int i = 0; i < image.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = image.clone();
                bad[i] ^= (byte) (1 << bit);
                int at = i;
                assertThrows(CorruptSnapshotException.class, () -> target.restore(9, new ByteArrayInputStream(bad)),
                        "byte " + at + " bit " + bit);
            }
        }
        for (int n = 0; n < image.length; n++) {
            byte[] cut = Arrays.copyOf(image, n);
            assertThrows(CorruptSnapshotException.class, () -> target.restore(9, new ByteArrayInputStream(cut)),
                    "truncated to " + n + " bytes");
        }
        byte[] longer = Arrays.copyOf(image, image.length + 1);
        CorruptSnapshotException trailing = assertThrows(CorruptSnapshotException.class,
                () -> target.restore(9, new ByteArrayInputStream(longer)));
        assertTrue(trailing.getMessage().contains("after the CRC32C trailer"), trailing.getMessage());
        assertEquals(before, target.digest(), "a refused image leaves the state as it was");
        assertEquals(1, target.lastApplied());

        // The messages say what, where and what to do.
        byte[] flipped = image.clone();
        flipped[flipped.length - 1] ^= 1; // in the stored CRC itself
        String crc = assertThrows(CorruptSnapshotException.class,
                () -> target.restore(9, new ByteArrayInputStream(flipped))).getMessage();
        assertTrue(crc.contains("KV snapshot at index 9 is corrupt") && crc.contains("CRC32C mismatch")
                && crc.contains("install a fresh copy"), crc);
        String magic = assertThrows(CorruptSnapshotException.class,
                () -> target.restore(9, new ByteArrayInputStream(utf8("not a snapshot at all")))).getMessage();
        assertTrue(magic.contains("RKKV"), magic);
        String early = assertThrows(CorruptSnapshotException.class,
                () -> target.restore(8, new ByteArrayInputStream(image))).getMessage();
        assertTrue(early.contains("up to index 9"), "an image past the index it is installed at: " + early);

        target.restore(9, new ByteArrayInputStream(image));
        assertEquals(source.digest().hex(), target.digest().hex());
    }

    @Test
    void versionsAreTheIndicesOfTheLastWriteAndDriveCompareAndSet() {
        KvStateMachine sm = new KvStateMachine();
        assertEquals(new KvResult.Written(4), applyOne(sm, 4, KvOps.casVersion("k", KvCommand.ABSENT, "v1")));
        assertEquals(new KvResult.CasFailed(Optional.of(new KvEntry(utf8("k"), utf8("v1"), 4))),
                applyOne(sm, 5, KvOps.casVersion("k", KvCommand.ABSENT, "v2")), "put-if-absent fails once present");
        assertEquals(new KvResult.Written(7), applyOne(sm, 7, KvOps.casVersion("k", 4, "v2")));
        assertInstanceOf(KvResult.CasFailed.class, applyOne(sm, 8, KvOps.casValue("k", "v1", "v3")));
        assertEquals(new KvResult.Written(9), applyOne(sm, 9, KvOps.casValue("k", "v2", "v3")));
        assertInstanceOf(KvResult.CasFailed.class, applyOne(sm, 10,
                new KvCommand.CompareAndSet(utf8("k"), utf8("v3"), 7, utf8("v4")).encode()), "value matches, version not");
        assertEquals(new KvResult.Written(11), applyOne(sm, 11,
                new KvCommand.CompareAndSet(utf8("k"), utf8("v3"), 9, utf8("v4")).encode()));
        assertEquals(new KvResult.CasFailed(Optional.empty()), applyOne(sm, 12, KvOps.casValue("nope", "", "x")));
        assertEquals(new KvResult.Deleted(true), applyOne(sm, 13, KvOps.delete("k")));
        assertEquals(new KvResult.Deleted(false), applyOne(sm, 14, KvOps.delete("k")));
        assertEquals(new KvResult.NotFound(), KvResult.decode(sm.query(KvOps.get("k"))));
    }

    @Test
    void scansPageThroughAPrefixInKeyOrder() {
        KvStateMachine sm = new KvStateMachine();
        List<Command> puts = new ArrayList<>();
        for (String k : List.of("user/3", "user/1", "users", "user/2", "usa", "user/10", "v")) {
            puts.add(command(puts.size() + 1, KvOps.put(k, k.toUpperCase())));
        }
        sm.apply(puts);
        List<String> seen = new ArrayList<>();
        byte[] after = new byte[0];
        int pages = 0;
        KvResult.Scanned page;
        do {
            page = KvOps.scanned(sm.query(KvOps.scan(utf8("user/"), after, 2)));
            page.entries().forEach(e -> seen.add(e.keyString()));
            after = page.entries().get(page.entries().size() - 1).key();
            pages++;
        } while (page.more());
        assertEquals(List.of("user/1", "user/10", "user/2", "user/3"), seen);
        assertEquals(2, pages);
        assertEquals(List.of("usa", "user/1"), KvOps.scanned(sm.query(KvOps.scan("us", 2))).entries().stream()
                .map(KvEntry::keyString).toList());
        assertEquals(7, KvOps.scanned(sm.query(KvOps.scan("", 100))).entries().size());
    }

    @Test
    void aScanStopsAtItsByteBudget() {
        KvStateMachine sm = new KvStateMachine();
        byte[] big = new byte[KvCommand.MAX_VALUE_BYTES];
        List<Command> puts = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            puts.add(command(i + 1, new KvCommand.Put(utf8("big" + i), big).encode()));
        }
        sm.apply(puts);
        KvResult.Scanned page = KvOps.scanned(sm.query(KvOps.scan("big", 100)));
        assertEquals(KvStateMachine.SCAN_MAX_BYTES / KvCommand.MAX_VALUE_BYTES - 1, page.entries().size());
        assertTrue(page.more());
    }

    @Test
    void badCommandsAreRejectedTheSameWayEverywhereAndNeverThrow() {
        KvStateMachine a = new KvStateMachine();
        KvStateMachine b = new KvStateMachine();
        List<Command> junk = List.of(command(1, new byte[0]), command(2, new byte[] {9, 1}),
                command(3, new byte[] {1, 1, 5}), command(4, KvOps.put("ok", "1")));
        List<byte[]> ra = a.apply(junk);
        List<byte[]> rb = b.apply(junk);
        for (int i = 0; i < 3; i++) {
            KvResult.Rejected r = assertInstanceOf(KvResult.Rejected.class, KvResult.decode(ra.get(i)));
            assertTrue(r.reason().startsWith("entry " + (i + 1) + ": KV command"), r.reason());
            assertArrayEquals(ra.get(i), rb.get(i));
        }
        assertEquals(4, KvOps.written(ra.get(3)));
        assertThrows(KvRejectedException.class, () -> KvOps.written(ra.get(0)));

        KvResult.Rejected write = assertInstanceOf(KvResult.Rejected.class,
                KvResult.decode(a.query(KvOps.put("ok", "2"))));
        assertTrue(write.reason().contains("is a write"), write.reason());
        assertEquals("1", KvOps.found(a.query(KvOps.get("ok"))).orElseThrow().valueString());
    }

    @Test
    void theDigestDependsOnKeysValuesAndVersionsOnly() {
        KvStateMachine a = new KvStateMachine();
        KvStateMachine b = new KvStateMachine();
        a.apply(List.of(command(1, KvOps.put("ab", "c")), command(2, KvOps.put("x", "1"))));
        b.apply(List.of(command(1, KvOps.put("ab", "c")), command(2, KvOps.put("x", "1")),
                command(3, KvOps.get("x"))));
        assertEquals(a.digest().hex(), b.digest().hex(), "a read through the log changes nothing");
        assertNotEquals(a.digest().hex(), new KvStateMachine().digest().hex());
        KvStateMachine c = new KvStateMachine();
        c.apply(List.of(command(1, KvOps.put("a", "bc")), command(2, KvOps.put("x", "1"))));
        assertNotEquals(a.digest().hex(), c.digest().hex(), "key/value boundaries are hashed");
        KvStateMachine d = new KvStateMachine();
        d.apply(List.of(command(1, KvOps.put("ab", "c")), command(5, KvOps.put("x", "1"))));
        assertNotEquals(a.digest().hex(), d.digest().hex(), "versions are hashed");
        assertEquals(a.digest(), KvOps.digestOf(a.query(KvOps.digest())));
    }
}
