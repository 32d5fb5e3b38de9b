package dev.raftkit.jepsen.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class JsonLinesTest {

    private static final String NASTY = "quote\" backslash\\ slash/ newline\n tab\t cr\r nul\u0000 bell\u0007"
            + " del\u007f é 日本 emoji\uD83D\uDE00 \u2028";

    private static History everyKind() {
        return History.builder()
                .write(1, "x", "1", 0, 10)
                .read(2, "x", "1", 5, 15)
                .read(2, "y", null, 20, 25)
                .cas(3, "x", "1", "2", true, 30, 40)
                .cas(3, "x", null, "3", false, 50, 60)
                .fail(4, Command.write("x", "9"), 55, 65)
                .info(5, Command.cas("x", "2", "4"), 70)
                .info(6, Command.read("x"), 75)
                .write(7, NASTY, NASTY, 80, 90)
                .read(7, NASTY, NASTY, 100, 110)
                .build();
    }

    @Test
    void roundTripPreservesEveryOperation() throws Exception {
        History h = everyKind();
        StringWriter out = new StringWriter();
        JsonLines.write(h, out);
        assertEquals(JsonLines.toJsonLines(h), out.toString());
        assertEquals(h, JsonLines.read(new StringReader(out.toString())));
    }

    @Test
    void recordedIndeterminateOperationKeepsItsGiveUpTime() {
        HistoryRecorder recorder = new HistoryRecorder(new java.util.concurrent.atomic.AtomicLong()::incrementAndGet);
        long id = recorder.invoke(1, Command.write("x", "1"));
        recorder.info(id);
        History h = recorder.history();
        assertEquals(h, JsonLines.parse(JsonLines.toJsonLines(h)));
        assertEquals(2, h.operations().get(0).completeNanos());
    }

    @Test
    void linesAreInTimeOrderAndControlCharactersEscaped() {
        String text = JsonLines.toJsonLines(everyKind());
        String[] lines = text.split("\n");
        // 10 invocations, 8 completions (the two never-completed indeterminate ops have none).
        assertEquals(18, lines.length);
        long last = Long.MIN_VALUE;
        for (String line : lines) {
            long time = Long.parseLong(line.replaceFirst("^.*?\"time\":(\\d+)[,}].*$", "$1"));
            assertTrue(time >= last, line);
            last = time;
            assertTrue(line.chars().noneMatch(c -> c < 0x20), "raw control character in " + line);
        }
        assertTrue(text.contains("\\u0000") && text.contains("\\\"") && text.contains("\\\\"), text);
    }

    @Test
    void readsTheDocumentedFormat_invokeWithoutCompletionIsIndeterminate() {
        History h = JsonLines.parse("""
                {"type":"invoke","op":0,"process":1,"time":100,"f":"write","key":"x","value":"1"}
                {"type":"invoke","op":1,"process":2,"time":105,"f":"cas","key":"x","expected":null,"new":"2"}
                {"type":"ok","op":0,"process":1,"time":180}

                { "type" : "info", "op":1, "process":2, "time":900 }
                {"type":"invoke","op":2,"process":1,"time":950,"f":"read","key":"x"}
                {"type":"ok","op":2,"process":1,"time":990,"value":"1"}
                {"type":"invoke","op":3,"process":3,"time":991,"f":"read","key":"x\\u00e9\\/"}
                """);
        assertEquals(4, h.size());
        assertEquals(OpStatus.OK, h.operations().get(0).status());
        Operation cas = h.operations().get(1);
        assertEquals(Command.cas("x", null, "2"), cas.command());
        assertEquals(OpStatus.INFO, cas.status());
        assertEquals(900, cas.completeNanos());
        assertEquals(Response.read("1"), h.operations().get(2).response());
        Operation never = h.operations().get(3);
        assertEquals("xé/", never.key());
        assertEquals(OpStatus.INFO, never.status());
        assertEquals(Operation.NEVER, never.completeNanos());
        assertNull(never.response());
    }

    @Test
    void badInputIsReportedWithItsLine() {
        String ok = "{\"type\":\"invoke\",\"op\":0,\"process\":1,\"time\":1,\"f\":\"read\",\"key\":\"x\"}\n";
        assertMessage(ok + "{\"type\":\"ok\",\"op\":0,\"process\":1,\"time\":2,\"value\":\"a}\n",
                "history line 2 is not a JSON object");
        assertMessage(ok + "{\"type\":\"ok\",\"op\":0,\"process\":1,\"time\":2}\n",
                "history line 2 completes a read ok without the observed 'value'");
        assertMessage(ok + "{\"type\":\"done\",\"op\":0,\"process\":1,\"time\":2}\n", "history line 2 has type 'done'");
        assertMessage(ok + "{\"type\":\"ok\",\"op\":7,\"process\":1,\"time\":2,\"value\":null}\n",
                "completes op 7 (line 2) but never invokes it");
        assertMessage(ok + ok, "history line 2 repeats the invoke of op 0");
        assertMessage(ok + "{\"type\":\"ok\",\"op\":0,\"process\":1,\"time\":0,\"value\":null}\n",
                "before its invocation");
        assertMessage("{\"type\":\"invoke\",\"op\":0,\"process\":1,\"time\":1,\"f\":\"delete\",\"key\":\"x\"}",
                "history line 1 has f 'delete'");
    }

    private static void assertMessage(String input, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonLines.parse(input));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
