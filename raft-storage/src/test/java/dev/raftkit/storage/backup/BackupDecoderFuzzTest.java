package dev.raftkit.storage.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.testkit.fuzz.Fuzz;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of what a restore reads from a backup: manifests, entry files (raw, and with
 * every checksum recomputed so the field checks behind them are reached), and whole chains
 * verified with one file damaged. The property: a {@link BackupException} naming the file, or
 * exactly what was written; never another exception, never a damaged backup accepted.
 */
class BackupDecoderFuzzTest {

    @TempDir
    static Path tmp;

    static final String CLUSTER = "fuzz";
    static Path full;
    static Path increment;
    static byte[] fullManifest;
    static byte[] incrementManifest;
    static byte[] entries;
    static final List<Entry> written = new ArrayList<>();

    static BackupManifest manifest(String id, BackupKind kind, String parent, long prevIndex, long prevTerm,
                                   long lastIndex, long lastTerm, List<BackupFile> files) {
        return new BackupManifest(id, CLUSTER, kind, kind == BackupKind.FULL ? 1 : 2, parent, 1, prevIndex, prevTerm,
                lastIndex, lastTerm, new ConfState(Set.of(1L, 2L, 3L), Set.of(), Set.of(4L), Set.of(), false),
                Instant.parse("2026-12-03T08:00:00Z"), kind == BackupKind.FULL ? "first backup" : null, files);
    }

    @BeforeAll
    static void writeAChain() throws IOException {
        full = Files.createDirectories(tmp.resolve("chain/0001-full"));
        byte[] snapshot = new byte[2000];
        new Random(1).nextBytes(snapshot);
        Files.write(full.resolve(BackupLayout.SNAPSHOT), snapshot);
        BackupManifest f = manifest("b1", BackupKind.FULL, null, 0, 0, 40, 2,
                List.of(BackupFile.measure(full.resolve(BackupLayout.SNAPSHOT))));
        fullManifest = f.encode();
        Files.write(full.resolve(BackupManifest.FILE_NAME), fullManifest);

        increment = Files.createDirectories(tmp.resolve("chain/0002-incremental"));
        Random rnd = new Random(2);
        try (EntryFile.Writer w = new EntryFile.Writer(increment.resolve(EntryFile.NAME), 40, 2, 20)) {
            for (long i = 41; i <= 60; i++) {
                byte[] data = new byte[rnd.nextInt(50)];
                rnd.nextBytes(data);
                Entry e = new Entry(i < 50 ? 2 : 3, i, EntryType.NORMAL, data);
                written.add(e);
                w.append(e);
            }
            w.finish(40);
        }
        entries = Files.readAllBytes(increment.resolve(EntryFile.NAME));
        BackupManifest inc = manifest("b2", BackupKind.INCREMENTAL, "b1", 40, 2, 60, 3,
                List.of(BackupFile.measure(increment.resolve(EntryFile.NAME))));
        incrementManifest = inc.encode();
        Files.write(increment.resolve(BackupManifest.FILE_NAME), incrementManifest);
        BackupChain.verify(List.of(full, increment)); // the pristine chain is valid
    }

    @Test
    void manifestParserReturnsTheManifestOrRefusesWithBackupException() {
        Fuzz.target("backup-manifest", bytes -> BackupManifest.parse(Path.of("fuzz/manifest"), bytes))
                .corpus(List.of(fullManifest, incrementManifest))
                .generator(BackupDecoderFuzzTest::checksummedManifest)
                .refusesWith(BackupException.class)
                .accepted((input, m) -> assertEquals(m, BackupManifest.parse(Path.of("again"), m.encode())))
                .iterations(30_000)
                .run();
    }

    /**
     * Found by {@code backup-manifest} (seed 7605236213301382234): a manifest line with a long bad
     * value was quoted whole in the refusal (2,837 characters for a 3 KB manifest). The quote is
     * now cut.
     */
    @Test
    void aManifestWithAHugeBadValueIsRefusedWithABoundedMessage() {
        String text = new String(fullManifest, StandardCharsets.UTF_8);
        String edited = text.substring(0, text.lastIndexOf("crc32c=")).replace("sequence=1\n",
                "sequence=" + "9".repeat(100_000) + "\n");
        CRC32C crc = new CRC32C();
        crc.update(edited.getBytes(StandardCharsets.UTF_8));
        byte[] hostile = (edited + "crc32c=" + BackupFile.hex((int) crc.getValue()) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        BackupException e = org.junit.jupiter.api.Assertions.assertThrows(BackupException.class,
                () -> BackupManifest.parse(Path.of("b/manifest"), hostile));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().length() < 1000, e.getMessage().length()
                + " characters: " + e.getMessage().substring(0, 200));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("b/manifest")
                && e.getMessage().contains("…(100020 characters)"), e.getMessage());
    }

    /**
     * Found by {@code backup-entry-file} (seed -4251992131219263923): a record length of 64 MiB in a
     * 1 KB entry file was allocated before the read found the file too short. It is now refused
     * against the file's size first, naming the entry and the offset.
     */
    @Test
    void anEntryFileRecordLongerThanTheFileIsRefusedBeforeAllocating() throws IOException {
        byte[] hostile = entries.clone();
        ByteBuffer.wrap(hostile).putInt(EntryFile.HEADER_BYTES, 200 << 20); // the first record's length
        Path file = tmp.resolve("long-record");
        Files.write(file, hostile);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)
                java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        BackupException e = org.junit.jupiter.api.Assertions.assertThrows(BackupException.class,
                () -> EntryFile.scan(file, Long.MAX_VALUE, null));
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        org.junit.jupiter.api.Assertions.assertTrue(allocated < (8 << 20), "allocated " + allocated + " bytes");
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("offset 36")
                && e.getMessage().contains("entry 41 claims 209715200 bytes"), e.getMessage());
    }

    /**
     * Written from reading the scan while fuzzing (two coordinated 8-byte edits are beyond random
     * mutation): an entry file whose header says "after 0@0" and whose first record, with valid
     * checksums, holds term 0 passed verification (no entries are built there) and then failed a
     * restore with an IllegalArgumentException from the Entry constructor. It is refused, naming
     * the offset; so is a header with a negative index, term or count.
     */
    @Test
    void anEntryFileHoldingATermZeroEntryIsRefusedWithBackupException() throws IOException {
        Path file = tmp.resolve("term-zero");
        try (EntryFile.Writer w = new EntryFile.Writer(file, 0, 0, 0)) {
            w.finish(0);
        }
        ByteBuffer record = ByteBuffer.allocate(8 + 17);
        record.putInt(17).putInt(0).putLong(0).putLong(1).put((byte) 0);
        CRC32C crc = new CRC32C();
        crc.update(record.array(), 8, 17);
        record.putInt(4, (int) crc.getValue());
        byte[] header = Files.readAllBytes(file);
        ByteBuffer h = ByteBuffer.wrap(header);
        h.putLong(24, 1); // one entry
        crc.reset();
        crc.update(header, 0, 32);
        h.putInt(32, (int) crc.getValue());
        byte[] hostile = java.util.Arrays.copyOf(header, header.length + record.capacity());
        System.arraycopy(record.array(), 0, hostile, header.length, record.capacity());
        Files.write(file, hostile);
        BackupException e = org.junit.jupiter.api.Assertions.assertThrows(BackupException.class,
                () -> EntryFile.scan(file, Long.MAX_VALUE, entry -> { }));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("offset 36"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(BackupException.class, () -> EntryFile.scan(file, 0, null),
                "verification refuses it too");

        h.putLong(8, -1); // prev index
        crc.reset();
        crc.update(header, 0, 32);
        h.putInt(32, (int) crc.getValue());
        Files.write(file, header);
        BackupException negative = org.junit.jupiter.api.Assertions.assertThrows(BackupException.class,
                () -> EntryFile.scan(file, Long.MAX_VALUE, entry -> { }));
        org.junit.jupiter.api.Assertions.assertTrue(negative.getMessage().contains("offset 8"), negative.getMessage());
    }

    /** A manifest with one line edited and its crc32c line recomputed, so parsing gets past the checksum. */
    static byte[] checksummedManifest(Random rnd) {
        String text = new String(rnd.nextBoolean() ? fullManifest : incrementManifest, StandardCharsets.UTF_8);
        String body = text.substring(0, text.lastIndexOf("crc32c="));
        String[] lines = body.split("\n", -1);
        int i = 1 + rnd.nextInt(lines.length - 2);
        int eq = Math.max(0, lines[i].indexOf('='));
        String[] values = {"", "-1", "0", "9223372036854775807", "9223372036854775808", "x", "1,,2", "1,-3",
            "..", "full", "INCREMENTAL", "snapshot 1 zz", "a b c d", "2026-13-45T99:00:00Z", "é", "true"};
        String value = values[rnd.nextInt(values.length)];
        lines[i] = switch (rnd.nextInt(4)) {
            case 0 -> lines[i].substring(0, eq + 1) + value;
            case 1 -> lines[i] + value;
            case 2 -> value + "=" + value;
            default -> lines[i].substring(0, eq + 1) + "x".repeat(rnd.nextInt(5000));
        };
        String edited = String.join("\n", lines);
        CRC32C crc = new CRC32C();
        crc.update(edited.getBytes(StandardCharsets.UTF_8));
        return (edited + "crc32c=" + BackupFile.hex((int) crc.getValue()) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    static List<Entry> scanFile(byte[] bytes, Path file) throws IOException {
        Files.write(file, bytes);
        List<Entry> got = new ArrayList<>();
        EntryFile.Summary s = EntryFile.scan(file, Long.MAX_VALUE, got::add);
        assertEquals(s.count(), got.size(), "every entry counted is delivered");
        for (int i = 1; i < got.size(); i++) {
            assertEquals(got.get(i - 1).index() + 1, got.get(i).index(), "delivered entries are contiguous");
        }
        return got;
    }

    @Test
    void entryFileScanReturnsEntriesOrRefusesWithBackupException() throws IOException {
        Path file = tmp.resolve("raw-entries");
        Fuzz.target("backup-entry-file", bytes -> scanFile(bytes, file))
                .corpus(List.of(entries))
                .refusesWith(BackupException.class)
                .accepted((input, got) -> assertArrayEquals(entries, input, "only the file written scans cleanly"))
                .iterations(6_000)
                .run();
    }

    /**
     * The header and every record's CRC32C recomputed after the damage, as a deliberate forger
     * would: the scan must still refuse what is not a contiguous run of valid entries.
     */
    static byte[] recomputeChecksums(byte[] in) {
        byte[] b = in.clone();
        if (b.length < EntryFile.HEADER_BYTES) {
            return b;
        }
        ByteBuffer buf = ByteBuffer.wrap(b);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 32);
        buf.putInt(32, (int) crc.getValue());
        int pos = EntryFile.HEADER_BYTES;
        while (pos + 8 <= b.length) {
            int length = buf.getInt(pos);
            if (length < 0 || pos + 8L + length > b.length) {
                break;
            }
            crc.reset();
            crc.update(b, pos + 8, length);
            buf.putInt(pos + 4, (int) crc.getValue());
            pos += 8 + length;
        }
        return b;
    }

    @Test
    void aForgedEntryFileWithValidChecksumsIsRefusedUnlessItIsAContiguousRunOfValidEntries() throws IOException {
        Path file = tmp.resolve("forged-entries");
        Fuzz.target("backup-entry-file-forged", bytes -> scanFile(recomputeChecksums(bytes), file))
                .corpus(List.of(entries))
                .refusesWith(BackupException.class)
                .iterations(6_000)
                .run();
    }

    @Test
    void aChainWithADamagedFileFailsVerification() throws IOException {
        Path root = tmp.resolve("fuzzed-chain");
        Path f = Files.createDirectories(root.resolve("0001-full"));
        Path i = Files.createDirectories(root.resolve("0002-incremental"));
        Files.copy(full.resolve(BackupLayout.SNAPSHOT), f.resolve(BackupLayout.SNAPSHOT));
        Files.write(f.resolve(BackupManifest.FILE_NAME), fullManifest);
        Files.write(i.resolve(BackupManifest.FILE_NAME), incrementManifest);
        Files.write(i.resolve(EntryFile.NAME), entries);
        byte[][] pristine = {incrementManifest, entries};
        Path[] files = {i.resolve(BackupManifest.FILE_NAME), i.resolve(EntryFile.NAME)};
        // The first byte picks the file to damage; the rest is its new content.
        List<byte[]> corpus = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            byte[] c = new byte[pristine[k].length + 1];
            c[0] = (byte) k;
            System.arraycopy(pristine[k], 0, c, 1, pristine[k].length);
            corpus.add(c);
        }
        Fuzz.target("backup-chain-verify", bytes -> {
            if (bytes.length == 0) {
                throw new BackupException(root, "empty fuzz input");
            }
            int k = (bytes[0] & 0xFF) % 2;
            byte[] content = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
            Files.write(files[k], content);
            try {
                BackupChain chain = BackupChain.verify(root, List.of(f, i));
                assertArrayEquals(pristine[k], content, "a chain verifies only with the files written");
                return chain;
            } finally {
                Files.write(files[k], pristine[k]);
            }
        }).corpus(corpus).refusesWith(BackupException.class).iterations(4_000).run();
    }
}
