package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StateMachine;
import dev.raftkit.spi.ForwardingStateMachine;
import example.CounterPropertyTest.CounterMachine;
import example.CounterPropertyTest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The simulator hosts a state machine it has never heard of: the user's counters of
 * {@code docs/testing.md} ({@link CounterPropertyTest}, public API only), which pass every fault
 * there. Here each is broken in a way a user could break their own, and must be caught.
 */
class UserStateMachineTest {

    /** Shorter runs: the broken variants are hunted, seed by seed, until one is caught. */
    private static final SimOptions HUNT = SimOptions.defaults(0).withTicks(600);

    @Test
    void aCounterWhoseRestoreLosesAnIncrementIsCaught() {
        // The image is restored, then one counter is one short: a replica that installed a
        // snapshot (or restarted from one) now answers differently from one that replayed the log.
        caught(() -> new Broken(UnaryOperator.identity()) {
            @Override
            public void restore(long index, InputStream in) throws IOException {
                super.restore(index, in);
                delegate.apply(List.of(new Command(index, 0, 0, add(0, -1))));
            }
        });
    }

    @Test
    void aCounterWhoseApplyDependsOnHowCommandsAreBatchedIsCaught() {
        // Not deterministic in the commands alone: a replica that receives the same entries in
        // other batches (a follower, a node replaying its log after a restart) ends elsewhere.
        caught(() -> new Broken(commands -> {
            if (commands.size() < 2) {
                return commands;
            }
            List<StateMachine.Command> more = new ArrayList<>(commands);
            StateMachine.Command last = commands.get(commands.size() - 1);
            more.add(new StateMachine.Command(last.index(), last.term(), last.timestampMillis(), add(0, 1))); // a "bonus" per batch
            return more;
        }) {
            @Override
            public List<byte[]> apply(List<Command> commands) {
                return super.apply(commands).subList(0, commands.size());
            }
        });
    }

    private static void caught(Supplier<StateMachine> broken) {
        SimResult r = SimRunner.firstFailure(HUNT.withWorkload(CounterPropertyTest.counters(broken)), 1, 200);
        assertNotNull(r, "a broken user state machine passed 200 seeds: the simulator is blind to it");
        System.out.println("caught: " + r.summary() + " -> " + r.violations().get(0));
        assertEquals("counter", r.options().workload().name());
        // Replicas disagree (at an equal applied index: Replica divergence) or a client saw a
        // value no counter could hold (Linearizability).
        assertTrue(r.violations().get(0).contains("Replica divergence") || r.violations().get(0).contains("Convergence")
                || r.violations().get(0).contains("Linearizability"), r.violations().toString());
    }

    private static byte[] add(int counter, long amount) {
        return ByteBuffer.allocate(12).putInt(counter).putLong(amount).array();
    }

    /** The user's counters with the commands of each batch rewritten first. */
    private static class Broken extends ForwardingStateMachine {
        private final UnaryOperator<List<Command>> rewrite;

        Broken(UnaryOperator<List<Command>> rewrite) {
            super(new CounterMachine());
            this.rewrite = rewrite;
        }

        @Override
        public List<byte[]> apply(List<Command> commands) {
            return delegate.apply(rewrite.apply(commands));
        }
    }
}
