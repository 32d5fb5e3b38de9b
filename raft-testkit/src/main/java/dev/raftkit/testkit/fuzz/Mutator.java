package dev.raftkit.testkit.fuzz;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Turns valid encodings into hostile ones: bit flips, interesting bytes, truncation, extension,
 * splicing two inputs, length-field edits (1-, 2-, 4- and 8-byte fields, big- and little-endian,
 * and protobuf/LEB128 varints set to boundary values), deleted, duplicated and swapped ranges, and
 * wholly random bytes. Every choice comes from the {@link Random} it is given, so one seed always
 * makes the same input.
 */
public final class Mutator {

    /** Longest input a mutation may produce: enough for every limit we check, small enough to be fast. */
    public static final int MAX_INPUT_BYTES = 1 << 20;

    private static final long[] INTERESTING = {
        0, 1, -1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
        Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 7, 0xFFFFFFFFL, 1L << 32,
        Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1, 1L << 62, 64 << 20, 1 << 30,
    };

    private Mutator() {
    }

    /**
     * One hostile input: {@code base} (not modified) with one to five stacked mutations, sometimes
     * spliced with another member of {@code corpus}.
     */
    public static byte[] mutate(Random rnd, byte[] base, List<byte[]> corpus) {
        byte[] b = base.clone();
        int rounds = 1 + (rnd.nextInt(4) == 0 ? rnd.nextInt(5) : 0);
        for (int r = 0; r < rounds; r++) {
            b = once(rnd, b, corpus);
            if (b.length > MAX_INPUT_BYTES) {
                b = Arrays.copyOf(b, MAX_INPUT_BYTES);
            }
        }
        return b;
    }

    private static byte[] once(Random rnd, byte[] b, List<byte[]> corpus) {
        int op = rnd.nextInt(12);
        if (b.length == 0 && op < 9) {
            op = 9; // nothing to edit in place: grow it
        }
        switch (op) {
            case 0, 1 -> { // bit flips (the most common damage)
                int flips = 1 + rnd.nextInt(3);
                for (int i = 0; i < flips; i++) {
                    b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
                return b;
            }
            case 2 -> { // one byte set to a boundary value
                b[rnd.nextInt(b.length)] = (byte) new int[] {0, 1, 0x7F, 0x80, 0xFF, 0xFE, 0x40}[rnd.nextInt(7)];
                return b;
            }
            case 3 -> { // truncation
                return Arrays.copyOf(b, rnd.nextInt(b.length));
            }
            case 4 -> { // a fixed-width length or number field set to a boundary value or nudged
                int width = new int[] {1, 2, 4, 8}[rnd.nextInt(4)];
                if (b.length < width) {
                    return b;
                }
                int at = rnd.nextInt(b.length - width + 1);
                boolean big = rnd.nextInt(4) != 0;
                long v = rnd.nextBoolean() ? INTERESTING[rnd.nextInt(INTERESTING.length)]
                        : read(b, at, width, big) + (rnd.nextInt(33) - 16);
                write(b, at, width, big, v);
                return b;
            }
            case 5 -> { // a varint (protobuf, LEB128) replaced by a boundary value
                int at = rnd.nextInt(b.length);
                int end = at;
                while (end < b.length && end - at < 10 && (b[end] & 0x80) != 0) {
                    end++;
                }
                end = Math.min(end + 1, b.length);
                byte[] v = varint(INTERESTING[rnd.nextInt(INTERESTING.length)]);
                return splice(b, at, end, v);
            }
            case 6 -> { // a range deleted
                int at = rnd.nextInt(b.length);
                int len = 1 + rnd.nextInt(Math.min(16, b.length - at));
                return splice(b, at, at + len, new byte[0]);
            }
            case 7 -> { // a range duplicated in place (repeated fields, replayed records)
                int at = rnd.nextInt(b.length);
                int len = 1 + rnd.nextInt(Math.min(64, b.length - at));
                return splice(b, at, at, Arrays.copyOfRange(b, at, at + len));
            }
            case 8 -> { // two ranges swapped (reordered fields or records)
                int len = 1 + rnd.nextInt(Math.max(1, Math.min(32, b.length / 2)));
                if (2 * len > b.length) {
                    return b;
                }
                int i = rnd.nextInt(b.length - len + 1);
                int j = rnd.nextInt(b.length - len + 1);
                byte[] tmp = Arrays.copyOfRange(b, i, i + len);
                System.arraycopy(b, j, b, i, len);
                System.arraycopy(tmp, 0, b, j, len);
                return b;
            }
            case 9 -> { // random bytes inserted or appended
                byte[] extra = new byte[1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 512 : 16)];
                rnd.nextBytes(extra);
                int at = rnd.nextBoolean() ? b.length : rnd.nextInt(b.length + 1);
                return splice(b, at, at, extra);
            }
            case 10 -> { // spliced with another valid input: a prefix of one, the rest of the other
                byte[] other = corpus.get(rnd.nextInt(corpus.size()));
                int cut = rnd.nextInt(b.length + 1);
                int from = rnd.nextInt(other.length + 1);
                byte[] out = Arrays.copyOf(b, cut + other.length - from);
                System.arraycopy(other, from, out, cut, other.length - from);
                return out;
            }
            default -> { // wholly random
                byte[] out = new byte[rnd.nextInt(rnd.nextInt(4) == 0 ? 1024 : 48)];
                rnd.nextBytes(out);
                return out;
            }
        }
    }

    /** {@code b} with {@code [from, to)} replaced by {@code with}. */
    static byte[] splice(byte[] b, int from, int to, byte[] with) {
        byte[] out = new byte[b.length - (to - from) + with.length];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(with, 0, out, from, with.length);
        System.arraycopy(b, to, out, from + with.length, b.length - to);
        return out;
    }

    /** The unsigned LEB128 (protobuf varint) form of {@code v}. */
    public static byte[] varint(long v) {
        byte[] out = new byte[10];
        int n = 0;
        while ((v & ~0x7FL) != 0) {
            out[n++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out[n++] = (byte) v;
        return Arrays.copyOf(out, n);
    }

    private static long read(byte[] b, int at, int width, boolean big) {
        long v = 0;
        for (int i = 0; i < width; i++) {
            int k = big ? at + i : at + width - 1 - i;
            v = (v << 8) | (b[k] & 0xFF);
        }
        return v;
    }

    private static void write(byte[] b, int at, int width, boolean big, long v) {
        for (int i = 0; i < width; i++) {
            int k = big ? at + width - 1 - i : at + i;
            b[k] = (byte) (v >>> (8 * i));
        }
    }
}
