package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.raftkit.testkit.http.JsonReader;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Json}, the commands' JSON writer, read back by a strict parser. */
class JsonTest {

    @Test
    void writesFieldsInOrderOnOneLine() {
        Json j = Json.object().field("node", 2).field("key", "user/1").field("found", true)
                .field("voters", List.of(1L, 2L, 3L)).field("leader", (Long) null).field("none", (String) null);
        assertEquals("{\"node\":2,\"key\":\"user/1\",\"found\":true,\"voters\":[1,2,3],\"leader\":null,\"none\":null}",
                j.toString());
    }

    @Test
    void escapesWhatJsonRequiresAndReadsBackTheSameText() {
        String awkward = "quote \" backslash \\ newline \n tab \t bell \u0007 line-sep \u2028 é 😀";
        Map<String, Object> back = JsonReader.object(Json.object().field(awkward, awkward).toString());
        assertEquals(Map.of(awkward, awkward), back);
    }

    @Test
    void nestsObjectsAndArraysOfObjects() {
        Json inner = Json.object().field("key", "a").field("version", 7);
        String text = Json.object().field("current", inner).objects("entries", List.of(inner, Json.object()))
                .field("empty", List.of()).field("missing", (Json) null).toString();
        Map<String, Object> back = JsonReader.object(text);
        assertEquals(Map.of("key", "a", "version", 7L), back.get("current"));
        assertEquals(List.of(Map.of("key", "a", "version", 7L), Map.of()), back.get("entries"));
        assertEquals(List.of(), back.get("empty"));
        assertEquals(null, back.get("missing"));
        assertEquals("{}", Json.object().toString());
    }

    @Test
    void theParserIsStrict() {
        for (String bad : List.of("{\"a\":1,}", "{\"a\" 1}", "{\"a\":1} x", "[1 2]", "{\"a\":\"\\q\"}", "{a:1}",
                "{\"a\":1,\"a\":2}", "\"raw \n newline\"")) {
            assertThrows(IllegalArgumentException.class, () -> JsonReader.parse(bad), bad);
        }
    }
}
