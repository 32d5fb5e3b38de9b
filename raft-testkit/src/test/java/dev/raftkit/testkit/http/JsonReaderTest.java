package dev.raftkit.testkit.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonReaderTest {

    @Test
    void readsObjectsArraysStringsNumbersAndLiterals() {
        Map<String, Object> m = JsonReader.object(" {\"a\":[1,-2,{}],\"b\":\"x\\\"\\n\\u0041\",\"c\":true,\"d\":null} ");
        assertEquals(List.of(1L, -2L, Map.of()), m.get("a"));
        assertEquals("x\"\nA", m.get("b"));
        assertEquals(true, m.get("c"));
        assertEquals(Arrays.asList("a", "b", "c", "d"), List.copyOf(m.keySet()));
        assertEquals(null, m.get("d"));
    }

    @Test
    void refusesWhatIsNotOneJsonValue() {
        for (String bad : new String[] {"", "{", "{\"a\":1,}", "{\"a\":1 \"b\":2}", "{\"a\":1,\"a\":2}", "[1,2", "1.5",
                "\"\\x\"", "\"raw\ttab\"", "{} {}", "[-]", "nul"}) {
            assertThrows(IllegalArgumentException.class, () -> JsonReader.parse(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> JsonReader.object("[1]"));
    }
}
