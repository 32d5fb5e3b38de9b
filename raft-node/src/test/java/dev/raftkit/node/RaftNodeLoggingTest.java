package dev.raftkit.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StateMachine;
import dev.raftkit.spi.ForwardingStateMachine;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a node's log lines carry: the runtime's fields as key-value pairs (slf4j-simple, the test
 * backend, prints them as {@code node=1 cluster=…} before the message; it keeps no MDC, so the
 * MDC of the runtime's threads is not visible here), and gRPC's java.util.logging records routed
 * through SLF4J instead of JUL's console handler.
 */
class RaftNodeLoggingTest {

    private static final long BREAKS = 99;

    @TempDir
    Path dir;

    @Test
    void runtimeLinesCarryNodeAndClusterFieldsAndJulWarningsArriveThroughSlf4j() throws Exception {
        StateMachine machine = new ForwardingStateMachine(new CounterStateMachine()) {
            @Override
            public List<byte[]> apply(List<Command> commands) {
                if (commands.stream().anyMatch(c -> CounterStateMachine.valueOf(c.payload()) == BREAKS)) {
                    throw new IllegalStateException("planted failure");
                }
                return super.apply(commands);
            }
        };
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.err;
        // slf4j-simple writes to whatever System.err is when a line is logged (it does not cache
        // the stream by default), so swapping it captures the node's lines.
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        String out;
        try {
            try (RaftNode node = RaftNode.builder("logs", 1).dataDir(dir.resolve("n1")).bootstrap(Set.of(1L))
                    .insecureAdmin(true).stateMachine(machine).start()) {
                await().atMost(Duration.ofSeconds(10)).until(() -> node.server().status().isLeader());
                node.server().submit(CounterStateMachine.add(1)).get(30, TimeUnit.SECONDS);
                // A state machine that throws fail-stops the node: the runtime's ERROR line.
                assertThrows(ExecutionException.class,
                        () -> node.server().submit(CounterStateMachine.add(BREAKS)).get(30, TimeUnit.SECONDS));
                // What gRPC does when it warns: a java.util.logging record on an io.grpc logger.
                Logger.getLogger("io.grpc.internal.ManagedChannelImpl")
                        .log(Level.WARNING, "a JUL warning from gRPC {0}", "42");
            }
        } finally {
            System.setErr(original);
        }
        out = captured.toString(StandardCharsets.UTF_8);
        assertTrue(out.lines().anyMatch(l -> l.contains("ERROR dev.raftkit.runtime.RaftServer - node=1 cluster=logs"
                + " node 1 stops: the apply thread")), "the runtime's fail-stop line carries the fields:\n" + out);
        assertTrue(out.lines().anyMatch(l -> l.contains("WARN dev.raftkit.node.RaftNode - node=1 cluster=logs"
                + " node 1: INSECURE ADMIN")), "the node's warning carries the fields:\n" + out);
        // slf4j-simple's line format is "[thread] LEVEL logger - message": the record came through SLF4J,
        // not JUL's own two-line console format ("WARNING: ...").
        assertTrue(out.lines().anyMatch(l -> l.contains("WARN io.grpc.internal.ManagedChannelImpl - a JUL warning"
                + " from gRPC 42")), "the JUL record reached SLF4J:\n" + out);
        assertTrue(out.lines().noneMatch(l -> l.startsWith("WARNING: a JUL warning")),
                "JUL's console handler printed it too:\n" + out);
    }
}
