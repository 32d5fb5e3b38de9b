package dev.raftkit.jepsen.txn;

import static dev.raftkit.jepsen.txn.Mop.append;
import static dev.raftkit.jepsen.txn.Mop.read;
import static dev.raftkit.jepsen.txn.Mop.readRegister;
import static dev.raftkit.jepsen.txn.Mop.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * One hand-written history per anomaly class, each of which the checker must find and name, with
 * the cycle that shows it. Transactions run concurrently (invoked at 0, completed at 100) unless a
 * test is about real time, so that only the data edges matter.
 */
class KnownAnomaliesTest {

    private static TxnResult check(TxnHistory h) {
        TxnResult r = TxnChecker.check(h);
        System.out.println(r.text());
        return r;
    }

    private static Set<AnomalyType> types(TxnResult r) {
        return Set.copyOf(r.types());
    }

    private static Anomaly only(TxnResult r, AnomalyType type) {
        List<Anomaly> list = r.anomalies().stream().filter(a -> a.type() == type).collect(Collectors.toList());
        assertEquals(1, list.size(), () -> "one " + type + " in " + r.text());
        return list.get(0);
    }

    private static Set<Integer> cycleTxns(Anomaly a) {
        return a.cycle().stream().map(CycleStep::from).collect(Collectors.toSet());
    }

    /** The cycle's steps join up: each step starts where the last ended, and the last returns to the first. */
    private static void assertClosed(Anomaly a) {
        List<CycleStep> c = a.cycle();
        assertFalse(c.isEmpty());
        for (int i = 0; i < c.size(); i++) {
            assertEquals(c.get(i).to(), c.get((i + 1) % c.size()).from(), a::toString);
        }
    }

    @Test
    void g0_writeCycle() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 100, append("x", 1), append("y", 1));
        b.ok(1, 0, 100, append("x", 2), append("y", 2));
        b.ok(2, 0, 100, read("x", 1, 2), read("y", 2, 1));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.G0), types(r));
        Anomaly a = only(r, AnomalyType.G0);
        assertClosed(a);
        assertEquals(Set.of(0, 1), cycleTxns(a));
        assertTrue(a.cycle().stream().allMatch(s -> s.type() == EdgeType.WW), a::toString);
        assertFalse(r.validUnder(Consistency.SERIALIZABLE));
        assertTrue(a.explanation().contains("T1 appended 2 to x after T0 appended 1"), a::explanation);
    }

    @Test
    void g1a_abortedRead() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.fail(0, 0, 100, append("x", 1));
        b.ok(1, 0, 100, read("x", 1));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.G1A), types(r));
        assertEquals(List.of(1, 0), only(r, AnomalyType.G1A).txns());
        assertFalse(r.validUnder(Consistency.SERIALIZABLE));
    }

    @Test
    void g1b_intermediateRead() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 100, append("x", 1), append("x", 2));
        b.ok(1, 0, 100, read("x", 1));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.G1B), types(r));
        assertEquals(List.of(1, 0), only(r, AnomalyType.G1B).txns());
    }

    @Test
    void g1c_circularInformationFlow() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 100, append("x", 1), read("y", 1));
        b.ok(1, 0, 100, append("y", 1), read("x", 1));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.G1C), types(r));
        Anomaly a = only(r, AnomalyType.G1C);
        assertClosed(a);
        assertEquals(Set.of(0, 1), cycleTxns(a));
        assertTrue(a.cycle().stream().allMatch(s -> s.type() == EdgeType.WR), a::toString);
    }

    @Test
    void gSingle_readSkew() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 100, read("x"), read("y", 1));
        b.ok(1, 0, 100, append("x", 1), append("y", 1));
        b.ok(2, 0, 100, read("x", 1));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.G_SINGLE), types(r));
        Anomaly a = only(r, AnomalyType.G_SINGLE);
        assertClosed(a);
        assertEquals(Set.of(0, 1), cycleTxns(a));
        assertEquals(1, a.cycle().stream().filter(s -> s.type() == EdgeType.RW).count());
        assertTrue(a.explanation().contains("T1 appended 1 to x after T0 read x without it"), a::explanation);
        assertTrue(a.explanation().contains("T1 appended 1 to y, which T0 read"), a::explanation);
        assertFalse(r.validUnder(Consistency.SERIALIZABLE));
    }

    @Test
    void g2Item_writeSkew() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 100, read("x"), append("y", 1));
        b.ok(1, 0, 100, read("y"), append("x", 1));
        b.ok(2, 0, 100, read("x", 1), read("y", 1));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.G2_ITEM), types(r));
        Anomaly a = only(r, AnomalyType.G2_ITEM);
        assertClosed(a);
        assertEquals(Set.of(0, 1), cycleTxns(a));
        assertTrue(a.cycle().stream().allMatch(s -> s.type() == EdgeType.RW), a::toString);
    }

    @Test
    void g2Item_onRegisters() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 100, readRegister("x", null), write("y", 1));
        b.ok(1, 0, 100, readRegister("y", null), write("x", 1));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.G2_ITEM), types(r));
        assertEquals(Set.of(0, 1), cycleTxns(only(r, AnomalyType.G2_ITEM)));
    }

    @Test
    void g1c_onRegisters_andAbortedRegisterRead() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 100, write("x", 1), readRegister("y", 1L));
        b.ok(1, 0, 100, write("y", 1), readRegister("x", 1L));
        b.fail(2, 0, 100, write("z", 7));
        b.ok(3, 0, 100, readRegister("z", 7L));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.G1C, AnomalyType.G1A), types(r));
        assertEquals(Set.of(0, 1), cycleTxns(only(r, AnomalyType.G1C)));
    }

    @Test
    void incompatibleOrder() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 100, append("x", 1));
        b.ok(1, 0, 100, append("x", 2));
        b.ok(2, 0, 100, read("x", 1, 2));
        b.ok(3, 0, 100, read("x", 2, 1));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.INCOMPATIBLE_ORDER), types(r));
        assertEquals(Set.of(2, 3), Set.copyOf(only(r, AnomalyType.INCOMPATIBLE_ORDER).txns()));
    }

    @Test
    void duplicateGarbageAndInternal() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 100, append("x", 1));
        b.ok(1, 0, 100, read("x", 1, 1));
        b.ok(2, 0, 100, read("y", 9));
        b.ok(3, 0, 100, append("z", 5), read("z"));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.DUPLICATE_ELEMENTS, AnomalyType.GARBAGE_READ, AnomalyType.INTERNAL), types(r));
        assertEquals(List.of(2), only(r, AnomalyType.GARBAGE_READ).txns());
        assertEquals(List.of(3), only(r, AnomalyType.INTERNAL).txns());
    }

    @Test
    void realTimeOnly_serializableButNotStrict() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 10, append("x", 1));
        b.ok(1, 20, 30, read("x"));         // begun after T0 completed, yet does not see 1: a stale read
        b.ok(2, 0, 100, read("x", 1));
        TxnResult strict = check(b.build());
        assertEquals(Set.of(AnomalyType.G_SINGLE_REALTIME), types(strict));
        Anomaly a = only(strict, AnomalyType.G_SINGLE_REALTIME);
        assertClosed(a);
        assertEquals(Set.of(0, 1), cycleTxns(a));
        assertTrue(a.cycle().stream().anyMatch(s -> s.type() == EdgeType.REALTIME), a::toString);
        assertTrue(a.explanation().contains("T0 completed (at 10) before T1 was invoked (at 20)"), a::explanation);
        assertFalse(strict.valid());
        assertTrue(strict.validUnder(Consistency.SERIALIZABLE));
        TxnResult serializable = TxnChecker.check(b.build(), Consistency.SERIALIZABLE);
        assertTrue(serializable.valid(), serializable::text);
        assertEquals(strict.types(), serializable.types(), "anomalies are reported whatever the model");
    }

    @Test
    void processOrderOnly_isAProcessAnomaly() {
        TxnHistory.Builder b = TxnHistory.builder();
        // One process: T0 then T1. T1 does not see T0's append. Real time overlaps on purpose (a
        // process's clock may lag the others'), so only the process edge shows the order.
        b.ok(7, 0, 50, append("x", 1));
        b.ok(7, 40, 60, read("x"));
        b.ok(2, 0, 100, read("x", 1));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.G_SINGLE_PROCESS), types(r));
        assertTrue(r.validUnder(Consistency.SERIALIZABLE));
        assertFalse(r.valid());
    }

    @Test
    void lostAppend_isAStrictSerializabilityViolation() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 10, append("x", 1));
        b.ok(1, 20, 30, read("x"));
        TxnResult r = check(b.build());
        assertEquals(Set.of(AnomalyType.LOST_APPEND), types(r));
        assertTrue(r.validUnder(Consistency.SERIALIZABLE));
        assertFalse(r.valid());
    }

    @Test
    void jsonAndHtmlCarryTheCycle() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 0, 100, read("x"), read("y", 1));
        b.ok(1, 0, 100, append("x", 1), append("y", 1));
        b.ok(2, 0, 100, read("x", 1));
        TxnResult r = TxnChecker.check(b.build());
        String json = r.toJson();
        assertTrue(json.startsWith("{\"valid\":false,\"model\":\"strict-serializable\",\"serializable\":false"), json);
        assertTrue(json.contains("\"type\":\"G-single\""), json);
        assertTrue(json.contains("\"violates\":[\"serializable\",\"strict-serializable\"]"), json);
        assertTrue(json.contains("{\"from\":0,\"to\":1,\"type\":\"rw\",\"key\":\"x\""), json);
        String html = r.toHtml();
        assertTrue(html.contains("<svg") && html.contains("G-single") && html.contains(">T1</text>"), html);
        assertFalse(html.contains("<script"), html);
    }
}
