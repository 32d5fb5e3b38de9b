package dev.raftkit.jepsen.txn;

import static dev.raftkit.jepsen.txn.Mop.append;
import static dev.raftkit.jepsen.txn.Mop.read;
import static dev.raftkit.jepsen.txn.Mop.readRegister;
import static dev.raftkit.jepsen.txn.Mop.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.raftkit.jepsen.history.OpStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON-lines transaction history format: round trip, the documented example, and bad lines. */
class TxnJsonLinesTest {

    @Test
    void roundTrip() {
        TxnHistory.Builder b = TxnHistory.builder();
        b.ok(0, 10, 20, append("x", 1), read("x", 1), read("y"));
        b.info(1, 15, 90, append("y", 2), new Mop.Read("x", null));
        b.fail(2, 16, 17, write("k", 3), readRegister("k", null));
        b.ok(3, 30, 40, readRegister("k", null), write("k", 4), readRegister("k", 4L));
        TxnHistory h = b.build();
        assertEquals(h, TxnJsonLines.parse(TxnJsonLines.toJsonLines(h)));
    }

    @Test
    void documentedExampleParses() {
        TxnHistory h = TxnJsonLines.parse("""
                {"format":"raftkit-txn-history","version":1}
                {"process":0,"type":"ok","invoke":1000,"complete":2500,"txn":[["append","x",1],["r","y",[3,4]]]}

                {"process":1,"type":"info","invoke":1200,"txn":[["append","y",5],["r","x",null]]}
                {"process":2,"type":"ok","invoke":1300,"complete":1900,"txn":[["w","k",7],["r","j",null]]}
                """);
        assertEquals(3, h.size());
        assertEquals(List.of(append("x", 1), read("y", 3, 4)), h.txns().get(0).mops());
        assertEquals(OpStatus.INFO, h.txns().get(1).status());
        assertEquals(1200, h.txns().get(1).completeNanos(), "an info line without complete ends at its invoke");
        assertEquals(new Mop.Read("x", null), h.txns().get(1).mops().get(1));
        assertEquals(List.of(write("k", 7), readRegister("j", null)), h.txns().get(2).mops());
    }

    private static String error(String text) {
        return assertThrows(IllegalArgumentException.class, () -> TxnJsonLines.parse(text)).getMessage();
    }

    @Test
    void badLinesNameTheLineAndTheProblem() {
        String ok = "{\"process\":0,\"type\":\"ok\",\"invoke\":1,\"complete\":2,\"txn\":[[\"append\",\"x\",1]]}\n";
        assertEquals("line 2: not a JSON object: expected '{' at column 1", error(ok + "oops\n"));
        assertEquals("line 2: not a JSON object: expected a value (string, number, boolean, null, array or object)"
                + " at column 12", error(ok + "{\"process\":}\n"));
        assertEquals("line 2: field \"type\" must be \"ok\", \"fail\" or \"info\", got \"okay\"",
                error(ok + ok.replace("\"ok\"", "\"okay\"")));
        assertEquals("line 1: field \"invoke\" must be an integer, got nothing (it is missing)",
                error("{\"process\":0,\"type\":\"ok\",\"complete\":2,\"txn\":[]}"));
        assertEquals("line 1: micro-op 1 ([\"add\",\"x\",1]): unknown function \"add\"; use \"append\", \"r\" or \"w\"",
                error(ok.replace("append", "add")));
        assertEquals("line 1: field \"txn\" must be an array of micro-ops such as [\"append\",\"x\",1], got \"x\"",
                error("{\"process\":0,\"type\":\"ok\",\"invoke\":1,\"complete\":2,\"txn\":\"x\"}"));
        assertEquals("line 3: value 1 is written to key 'x' by both T0 and T1; the checker needs every value"
                + " written to a key to be unique (T0 is line 1, T1 is line 3)", error(ok + "\n" + ok));
        assertEquals("line 1: transaction T0 completes (1) before it is invoked (5)",
                error("{\"process\":0,\"type\":\"ok\",\"invoke\":5,\"complete\":1,\"txn\":[]}"));
    }
}
