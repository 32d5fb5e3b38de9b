package dev.raftkit.kv;

import static dev.raftkit.kv.Scripts.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The command and result codec: round trips, and every malformed input refused with a clear error. */
class KvCodecTest {

    private static final Gen<KvEntry> ENTRIES = Gens.pairs(Gens.pairs(Scripts.KEYS, Scripts.VALUES),
            Gens.longs(1, Long.MAX_VALUE)).map(p -> new KvEntry(utf8(p.first().first()), utf8(p.first().second()),
            p.second()));

    private static final Gen<KvResult> RESULTS = Gens.choose(
            Gens.longs(1, Long.MAX_VALUE).map(KvResult.Written::new),
            Gens.booleans().map(KvResult.Deleted::new),
            ENTRIES.map(KvResult.Found::new),
            Gens.constant(new KvResult.NotFound()),
            Gens.choose(Gens.constant(Optional.<KvEntry>empty()), ENTRIES.map(Optional::of)).map(KvResult.CasFailed::new),
            Gens.pairs(Gens.lists(ENTRIES, 0, 5), Gens.booleans()).map(p -> new KvResult.Scanned(p.first(), p.second())),
            Gens.pairs(Gens.longs(0, Long.MAX_VALUE), Gens.lists(Gens.ints(0, 255), 32, 32)).map(p -> {
                byte[] h = new byte[32];
                for (int i = 0; i < 32; i++) {
                    h[i] = (byte) (int) p.second().get(i);
                }
                return new KvResult.Digest(p.first(), p.first() / 2, h);
            }),
            Scripts.VALUES.map(KvResult.Rejected::new));

    @Test
    void everyCommandRoundTripsAndEveryProperPrefixIsRefused() {
        Property.check("command codec round trip", Gens.choose(Scripts.COMMANDS, Gens.constant(new KvCommand.GetDigest())),
                command -> {
                    byte[] bytes = command.encode();
                    assertEquals(command, KvCommand.decode(bytes));
                    for (int n = 0; n < bytes.length; n++) {
                        byte[] cut = Arrays.copyOf(bytes, n);
                        assertThrows(KvCodecException.class, () -> KvCommand.decode(cut), "prefix of " + n + " bytes");
                    }
                    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
                    assertThrows(KvCodecException.class, () -> KvCommand.decode(longer), "a trailing byte");
                });
    }

    @Test
    void everyResultRoundTripsAndEveryProperPrefixIsRefused() {
        Property.check("result codec round trip", RESULTS, result -> {
            byte[] bytes = result.encode();
            assertEquals(result, KvResult.decode(bytes));
            for (int n = 0; n < bytes.length; n++) {
                byte[] cut = Arrays.copyOf(bytes, n);
                assertThrows(KvCodecException.class, () -> KvResult.decode(cut), "prefix of " + n + " bytes");
            }
        });
    }

    private static String refused(byte[] bytes) {
        return assertThrows(KvCodecException.class, () -> KvCommand.decode(bytes)).getMessage();
    }

    @Test
    void malformedCommandsAreRefusedWithTheOffsetAndTheProblem() {
        String version = refused(new byte[] {2, 1});
        assertTrue(version.contains("format version 2 is not supported") && version.contains("byte 1"), version);
        String type = refused(new byte[] {1, 42});
        assertTrue(type.contains("unknown command type 42"), type);
        String emptyKey = refused(new byte[] {1, KvCodec.GET, 0});
        assertTrue(emptyKey.contains("get key must be 1 to 4096 bytes, got 0"), emptyKey);
        String hugeKey = refused(new byte[] {1, KvCodec.GET, (byte) 0x81, 0x40});
        assertTrue(hugeKey.contains("key length 8193 exceeds the limit of 4096"), hugeKey);
        String shortKey = refused(new byte[] {1, KvCodec.GET, 5, 'a'});
        assertTrue(shortKey.contains("key needs 5 bytes but only 1 are left"), shortKey);
        String flags = refused(new byte[] {1, KvCodec.CAS, 1, 'k', 4, 0});
        assertTrue(flags.contains("unknown compare-and-set flags 0x4"), flags);
        String noCondition = refused(new byte[] {1, KvCodec.CAS, 1, 'k', 0, 0});
        assertTrue(noCondition.contains("needs an expected value, an expected version, or both"), noCondition);
        String limit = refused(new byte[] {1, KvCodec.SCAN, 0, 0, 0});
        assertTrue(limit.contains("scan limit must be in [1, 10000], got 0"), limit);
        String varint = refused(new byte[] {1, KvCodec.SCAN, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
                (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 1});
        assertTrue(varint.contains("varint"), varint);
        String result = assertThrows(KvCodecException.class, () -> KvResult.decode(new byte[] {1, KvCodec.DELETED, 7}))
                .getMessage();
        assertTrue(result.startsWith("KV result (3 bytes) is malformed at byte 3: expected a boolean"), result);
    }

    @Test
    void commandsRefuseInvalidArgumentsWhenBuilt() {
        assertThrows(IllegalArgumentException.class, () -> new KvCommand.Put(new byte[KvCommand.MAX_KEY_BYTES + 1],
                new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new KvCommand.Put(utf8("k"),
                new byte[KvCommand.MAX_VALUE_BYTES + 1]));
        assertThrows(IllegalArgumentException.class, () -> new KvCommand.CompareAndSet(utf8("k"), null, -2, utf8("v")));
        assertThrows(IllegalArgumentException.class, () -> new KvCommand.Scan(utf8("k"), KvCommand.MAX_SCAN_LIMIT + 1));
        assertThrows(IllegalArgumentException.class, () -> new KvEntry(utf8("k"), utf8("v"), 0));
    }

    @Test
    void typedHelpersSayWhatTheyGotInstead() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> KvOps.written(new KvResult.Deleted(true).encode()));
        assertTrue(e.getMessage().contains("expected a Written result but the store answered Deleted[existed=true]"),
                e.getMessage());
        assertEquals(Optional.empty(), KvOps.found(new KvResult.NotFound().encode()));
        assertEquals(Optional.empty(), KvOps.casWritten(new KvResult.CasFailed(Optional.empty()).encode()));
        assertEquals(Optional.of(3L), KvOps.casWritten(new KvResult.Written(3).encode()));
        assertEquals(List.of(), KvOps.scanned(new KvResult.Scanned(List.of(), false).encode()).entries());
    }
}
