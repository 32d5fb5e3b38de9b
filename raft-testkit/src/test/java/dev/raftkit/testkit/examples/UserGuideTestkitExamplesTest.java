package dev.raftkit.testkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.testkit.docs.DocSnippets;
import dev.raftkit.testkit.fuzz.Fuzz;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Keeps the raft-testkit examples of docs/user-guide.md ("The property harness" and "Fuzzing")
 * compiling, running and identical to the page. The code under test is small and written here:
 * a map-backed store for the property and a length-prefixed command codec for the fuzzer.
 */
class UserGuideTestkitExamplesTest {

    private static final Path SOURCE =
            Path.of("src/test/java/dev/raftkit/testkit/examples/UserGuideTestkitExamplesTest.java");
    private static final Path PAGE = Path.of("../docs/user-guide.md");

    private final Map<Integer, Long> store = new TreeMap<>();

    /** The system under test: put {@code value} under {@code key}, then read it back. */
    private long putThenGet(int key, long value) {
        store.put(key, value);
        return store.get(key);
    }

    @Test
    void thePropertyHoldsForTheStore() {
        // property:start
        Property.check("put then get returns the value",
                Gens.pairs(Gens.ints(0, 9), Gens.longs(0, 1000)),
                p -> assertEquals(p.second(), putThenGet(p.first(), p.second())));
        // property:end
        assertTrue(store.size() > 1, "the property ran on many keys: " + store);
    }

    @Test
    void thePropertyCatchesABrokenStore() {
        // The same property fails, with a counter-example, for a store that drops large values.
        assertThrows(AssertionError.class, () -> Property.check("put then get returns the value",
                Gens.pairs(Gens.ints(0, 9), Gens.longs(0, 1000)),
                p -> assertEquals(p.second(), p.second() > 500 ? 0L : p.second())));
    }

    /** The decoded command. */
    record MyCommand(int id, String name) {
    }

    /** What {@link MyCodec#decode} documents for bad input. */
    static final class MyCodecException extends Exception {
        MyCodecException(String message) {
            super(message);
        }
    }

    /** An id, a name's length (at most 1,024 bytes) and the name in UTF-8; nothing after it. */
    static final class MyCodec {
        static byte[] encode(MyCommand c) {
            byte[] name = c.name().getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(8 + name.length).putInt(c.id()).putInt(name.length).put(name).array();
        }

        static MyCommand decode(byte[] in) throws MyCodecException {
            if (in.length < 8) {
                throw new MyCodecException("a command is at least 8 bytes, got " + in.length);
            }
            ByteBuffer b = ByteBuffer.wrap(in);
            int id = b.getInt();
            int length = b.getInt();
            if (length < 0 || length > 1024 || length != b.remaining()) {
                throw new MyCodecException("name length " + length + " with " + b.remaining() + " bytes left");
            }
            byte[] name = new byte[length];
            b.get(name);
            return new MyCommand(id, new String(name, StandardCharsets.UTF_8));
        }
    }

    @Test
    void theDecoderSurvivesTheFuzzer() {
        MyCommand sample1 = new MyCommand(1, "ada");
        MyCommand sample2 = new MyCommand(-7, "grace hopper");
        // fuzz:start
        Fuzz.target("my-command", MyCodec::decode)
                .corpus(List.of(MyCodec.encode(sample1), MyCodec.encode(sample2)))
                .refusesWith(MyCodecException.class)
                .accepted((input, cmd) -> assertEquals(cmd, MyCodec.decode(MyCodec.encode(cmd))))
                .iterations(20_000)
                .run();
        // fuzz:end
    }

    @Test
    void theFuzzerFindsAnUndocumentedException() {
        // A decoder that trusts the length it reads throws an undocumented exception: a finding.
        assertThrows(AssertionError.class, () -> Fuzz.target("my-command-trusting", in -> {
                    ByteBuffer b = ByteBuffer.wrap(in);
                    b.getInt();
                    byte[] name = new byte[b.getInt()];
                    b.get(name);
                    return name;
                })
                .corpus(List.of(MyCodec.encode(new MyCommand(1, "ada"))))
                .refusesWith(MyCodecException.class)
                .iterations(2_000)
                .run());
    }

    @Test
    void theDocumentationShowsExactlyTheTestedCode() throws IOException {
        DocSnippets.assertShown(PAGE, DocSnippets.between(SOURCE, "property"));
        DocSnippets.assertShown(PAGE, DocSnippets.between(SOURCE, "fuzz"));
    }
}
