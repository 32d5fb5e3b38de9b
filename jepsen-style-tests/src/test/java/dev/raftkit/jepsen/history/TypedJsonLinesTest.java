package dev.raftkit.jepsen.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The version-2 JSON-lines format of the user's own operation types, and the automatic codec. */
class TypedJsonLinesTest {

    enum Currency { EUR, USD }

    sealed interface Op permits Deposit, Audit {
    }

    record Deposit(String account, long cents, Currency currency, List<String> tags) implements Op {
    }

    record Audit(String account) implements Op {
    }

    record Receipt(boolean accepted, BigDecimal rate, Integer sequence) {
    }

    private static final OpType<Op, Receipt> TYPE = OpType.of(Op.class, Receipt.class)
            .keyedBy(op -> op instanceof Deposit d ? d.account() : ((Audit) op).account());

    private static TypedHistory<Op, Receipt> sample() {
        return TypedHistory.builder(TYPE)
                .ok(1, new Deposit("a\"1", 250, Currency.EUR, List.of("x", "y\n")), new Receipt(true,
                        new BigDecimal("1.25"), 7), 0, 10)
                .ok(2, new Audit("b"), new Receipt(false, null, null), 5, 15)
                .fail(1, new Deposit("b", 1, Currency.USD, List.of()), 20, 30)
                .info(3, new Audit("a\"1"), 25)
                .build();
    }

    @Test
    void writesTheDocumentedVersion2Lines() {
        String text = JsonLines.toJsonLines(TypedHistory.builder(TYPE)
                .ok(1, new Deposit("a", 5, Currency.EUR, List.of("t")), new Receipt(true, BigDecimal.ONE, 1), 0, 10)
                .info(2, new Audit("a"), 5).build());
        assertEquals("""
                {"format":"raftkit-history","version":2,"keyed":true}
                {"type":"invoke","op":0,"process":1,"time":0,"key":"a","input":{"f":"Deposit","account":"a","cents":5,"currency":"EUR","tags":["t"]}}
                {"type":"invoke","op":1,"process":2,"time":5,"key":"a","input":{"f":"Audit","account":"a"}}
                {"type":"ok","op":0,"process":1,"time":10,"output":{"accepted":true,"rate":1,"sequence":1}}
                """, text);
    }

    @Test
    void roundTripKeepsEveryOperation() {
        TypedHistory<Op, Receipt> h = sample();
        TypedHistory<Op, Receipt> back = JsonLines.parse(JsonLines.toJsonLines(h), TYPE);
        assertEquals(h, back);
        assertEquals(OpStatus.INFO, back.operations().get(3).status());
        assertEquals(TypedOperation.NEVER, back.operations().get(3).completeNanos());
        assertNull(back.operations().get(1).output().rate());
        assertEquals(List.of("a\"1", "b"), List.copyOf(back.byKey().keySet()));
    }

    @Test
    void aTypeWithoutKeys_writesNoKey() {
        OpType<String, Long> counter = OpType.of(String.class, Long.class);
        TypedHistory<String, Long> h = TypedHistory.builder(counter).ok(1, "incr", 1L, 0, 1).build();
        String text = JsonLines.toJsonLines(h);
        assertTrue(text.startsWith("{\"format\":\"raftkit-history\",\"version\":2,\"keyed\":false}\n"), text);
        assertTrue(!text.contains("\"key\""), text);
        assertEquals(h, JsonLines.parse(text, counter));
        assertEquals(List.of(""), List.copyOf(h.byKey().keySet()));
    }

    @Test
    void badInputIsReportedWithItsLineAndWhatToDo() {
        String header = "{\"format\":\"raftkit-history\",\"version\":2,\"keyed\":true}\n";
        String invoke = "{\"type\":\"invoke\",\"op\":0,\"process\":1,\"time\":1,\"key\":\"a\",\"input\":{\"f\":\"Audit\",\"account\":\"a\"}}\n";
        assertMessage(invoke, "history line 1 is not the header");
        assertMessage("{\"type\":\"invoke\",\"op\":0,\"process\":1,\"time\":1,\"f\":\"read\",\"key\":\"x\"}\n",
                "looks like a version-1 key-value history: read it with JsonLines.read(Reader)");
        assertMessage("", "history is empty");
        assertMessage(header.replace("2", "3"), "declares version 3 but this reader reads version 2: it was written "
                + "by a newer Raftkit");
        assertMessage(header + invoke.replace("\"key\":\"a\"", "\"key\":\"b\""),
                "history line 2 says key b but its input Audit[account=a] touches key 'a'");
        assertMessage(header + invoke.replace("Audit", "Withdraw"),
                "history line 2 has an 'input' its codec cannot decode: " + Op.class.getName()
                        + " needs an object whose \"f\" is one of [Deposit, Audit]");
        assertMessage(header + invoke.replace(",\"account\":\"a\"", ""), "needs a field 'account'");
        assertMessage(header + invoke + "{\"type\":\"ok\",\"op\":0,\"process\":1,\"time\":2}\n",
                "history line 3 completes op 0 ok without an 'output' (use null for none)");
        assertMessage(header + invoke + "{\"type\":\"fail\",\"op\":0,\"process\":1,\"time\":2,\"output\":"
                + "{\"accepted\":true,\"rate\":null,\"sequence\":null}}\n", "completes op 0 fail with an 'output'");
        assertMessage(header + invoke + "{\"type\":\"ok\",\"op\":0,\"process\":1,\"time\":2,\"output\":"
                + "{\"accepted\":\"yes\",\"rate\":null,\"sequence\":null}}\n", "Receipt.accepted needs a Boolean, has yes");
        // A version-1 reader given a version-2 file says which reader to use.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JsonLines.parse(header + invoke));
        assertTrue(e.getMessage().contains("read it with JsonLines.read(Reader, OpType)"), e.getMessage());
    }

    @Test
    void autoCodecRefusesTypesItCannotEncode_whenTheTypeIsMade() {
        record Bad(java.util.Set<String> members) {
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Codec.auto(Bad.class));
        assertTrue(e.getMessage().contains("Bad.members") && e.getMessage().contains("write a Codec"), e.getMessage());
    }

    @Test
    void typedRecorder_timestampsInsideItsLock_andOutstandingOpsAreIndeterminate() {
        AtomicLong clock = new AtomicLong();
        TypedHistoryRecorder<Op, Receipt> rec = new TypedHistoryRecorder<>(TYPE, clock::incrementAndGet);
        long a = rec.invoke(1, new Audit("a"));
        long b = rec.invoke(2, new Deposit("a", 1, Currency.EUR, List.of()));
        rec.ok(a, new Receipt(true, null, null));
        assertThrows(IllegalStateException.class, () -> rec.fail(a));
        TypedHistory<Op, Receipt> h = rec.history();
        assertEquals(OpStatus.OK, h.operations().get(0).status());
        assertEquals(3, h.operations().get(0).completeNanos());
        assertEquals(OpStatus.INFO, h.operations().get(1).status());
        assertEquals(TypedOperation.NEVER, h.operations().get(1).completeNanos());
        rec.info(b);
        assertEquals(4, rec.history().operations().get(1).completeNanos());
    }

    @Test
    void keyValueHistories_convertToTypedAndBack() {
        History h = History.builder().write(1, "x", "1", 0, 10).read(2, "x", null, 5, 6)
                .info(3, Command.cas("x", "1", "2"), 7).build();
        TypedHistory<Command, Response> typed = h.toTyped();
        assertEquals(h, History.fromTyped(typed));
        assertEquals(typed, JsonLines.parse(JsonLines.toJsonLines(typed), OpType.keyValue()));
    }

    private static void assertMessage(String input, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonLines.parse(input, TYPE));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
