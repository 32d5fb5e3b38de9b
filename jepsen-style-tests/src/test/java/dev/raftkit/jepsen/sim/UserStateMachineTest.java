package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.checker.Budget;
import dev.raftkit.jepsen.checker.CheckResult;
import dev.raftkit.jepsen.checker.LinearizabilityChecker;
import dev.raftkit.jepsen.checker.Model;
import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.HistoryRecorder;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Response;
import dev.raftkit.spi.StateMachine;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The simulator hosts a state machine it has never heard of: a user's own, defined here and
 * nowhere in the product. {@link CounterStateMachine} keeps named counters (a command adds to one,
 * a query reads one) and snapshots them; {@link CounterWorkload} drives it and checks the history
 * against a sequential counter model. The correct one must pass every seed under every fault; each
 * broken one must be caught.
 */
class UserStateMachineTest {

    /** Seeds of the correct counter under every fault (more with {@code -Dsim.user.seeds=N}). */
    private static final long SEEDS = Long.getLong("sim.user.seeds", 30);

    /** Shorter runs for the broken variants: they are hunted, seed by seed, until one is caught. */
    private static final SimOptions HUNT = SimOptions.defaults(0).withTicks(600);

    @Test
    void aUsersCounterKeepsEveryPropertyUnderEveryFault() {
        SimRunner.Summary s = SimRunner.run(SimOptions.defaults(0).withWorkload(new CounterWorkload(CounterStateMachine::new)),
                1, SEEDS, 2, r -> { });
        StringBuilder why = new StringBuilder(s.line());
        for (SimResult f : s.failures()) {
            why.append("\n").append(f.summary()).append("\n  ").append(f.violations());
        }
        System.out.println(why);
        assertTrue(s.failures().isEmpty(), why.toString());
        assertTrue(s.operations() > SEEDS * 100, "the clients did work: " + s.line());
    }

    @Test
    void aCounterThatLosesAnIncrementInItsSnapshotIsCaught() {
        caught(new CounterWorkload(() -> new CounterStateMachine() {
            @Override
            long imageOf(long value) {
                return value > 0 ? value - 1 : value; // off by one: the image drops the latest increment
            }
        }));
    }

    @Test
    void aCounterWhoseApplyDependsOnHowCommandsAreBatchedIsCaught() {
        // Not deterministic in the commands alone: a replica that receives the same entries in
        // other batches (a follower, a node replaying its log after a restart) ends elsewhere.
        caught(new CounterWorkload(() -> new CounterStateMachine() {
            @Override
            List<byte[]> apply(List<Command> commands, Map<Integer, Long> counters) {
                List<byte[]> out = super.apply(commands, counters);
                if (commands.size() > 1) {
                    counters.merge(counterOf(commands.get(0).payload()), 1L, Long::sum); // a "bonus" per batch
                }
                return out;
            }
        }));
    }

    private static SimResult caught(CounterWorkload broken) {
        SimResult r = SimRunner.firstFailure(HUNT.withWorkload(broken), 1, 200);
        assertNotNull(r, "a broken user state machine passed 200 seeds: the simulator is blind to it");
        System.out.println("caught: " + r.summary() + " -> " + r.violations().get(0));
        assertEquals("counter", r.options().workload().name());
        return r;
    }

    // ---------------------------------------------------------------------------------------
    // The user's state machine: counters by number; ADD(counter, amount) answers the new value.

    /** Named counters; a command is (int counter, long amount), a query (int counter). */
    static class CounterStateMachine implements StateMachine {
        private Map<Integer, Long> counters = new TreeMap<>();
        private long lastApplied;

        static byte[] add(int counter, long amount) {
            return ByteBuffer.allocate(12).putInt(counter).putLong(amount).array();
        }

        static byte[] read(int counter) {
            return ByteBuffer.allocate(4).putInt(counter).array();
        }

        static int counterOf(byte[] command) {
            return ByteBuffer.wrap(command).getInt();
        }

        @Override
        public final List<byte[]> apply(List<Command> commands) {
            return apply(commands, counters);
        }

        /** Applies {@code commands} to {@code counters}; the broken variants override it. */
        List<byte[]> apply(List<Command> commands, Map<Integer, Long> counters) {
            List<byte[]> out = new ArrayList<>(commands.size());
            for (Command c : commands) {
                ByteBuffer b = ByteBuffer.wrap(c.payload());
                long value = counters.merge(b.getInt(), b.getLong(), Long::sum);
                out.add(ByteBuffer.allocate(8).putLong(value).array());
                lastApplied = c.index();
            }
            return out;
        }

        @Override
        public long lastApplied() {
            return lastApplied;
        }

        /** What the image records for a counter holding {@code value}; a broken variant overrides it. */
        long imageOf(long value) {
            return value;
        }

        @Override
        public Snapshot snapshot() {
            Map<Integer, Long> image = new TreeMap<>(counters); // a copy: applying goes on while it is written
            long index = lastApplied;
            return new Snapshot() {
                @Override
                public long index() {
                    return index;
                }

                @Override
                public void writeTo(OutputStream out) throws IOException {
                    DataOutputStream d = new DataOutputStream(out);
                    d.writeInt(image.size());
                    for (Map.Entry<Integer, Long> e : image.entrySet()) {
                        d.writeInt(e.getKey());
                        d.writeLong(imageOf(e.getValue()));
                    }
                    d.flush();
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public void restore(long index, InputStream in) throws IOException {
            DataInputStream d = new DataInputStream(in);
            Map<Integer, Long> restored = new TreeMap<>();
            for (int n = d.readInt(); n > 0; n--) {
                restored.put(d.readInt(), d.readLong());
            }
            counters = restored;
            lastApplied = index;
        }

        @Override
        public byte[] query(byte[] query) {
            return ByteBuffer.allocate(8).putLong(counters.getOrDefault(counterOf(query), 0L)).array();
        }

        Map<Integer, Long> counters() {
            return counters;
        }
    }

    // ---------------------------------------------------------------------------------------
    // The user's workload: adds and linearizable reads, checked against a sequential counter.

    /**
     * Clients add 1..5 to a counter or read one. The history records an add as a write of its
     * amount and a read as the value read; the model is a counter per key.
     */
    static final class CounterWorkload implements Workload {
        private final Supplier<CounterStateMachine> factory;

        CounterWorkload(Supplier<CounterStateMachine> factory) {
            this.factory = factory;
        }

        /** The sequential specification: adding {@code v} adds it, a read sees the sum so far. */
        static final Model<Long, Operation> COUNTER = new Model<>() {
            @Override
            public Long init() {
                return 0L;
            }

            @Override
            public Optional<Long> step(Long value, Operation op) {
                if (op.command() instanceof Command.Write w) {
                    return Optional.of(value + Long.parseLong(w.value()));
                }
                return ((Response.ReadValue) op.response()).value().equals(String.valueOf(value))
                        ? Optional.of(value) : Optional.empty();
            }
        };

        @Override
        public String name() {
            return "counter";
        }

        @Override
        public StateMachine newStateMachine() {
            return factory.get();
        }

        @Override
        public Run start(Settings settings) {
            HistoryRecorder recorder = new HistoryRecorder(settings.nanoClock());
            return new Run() {
                @Override
                public Op next(int client, SplittableRandom random) {
                    int counter = random.nextInt(settings.keys());
                    boolean write = random.nextBoolean();
                    long amount = 1 + random.nextInt(5);
                    long id = recorder.invoke(client, write ? Command.write("c" + counter, String.valueOf(amount))
                            : Command.read("c" + counter));
                    return new Op() {
                        @Override
                        public byte[] bytes() {
                            return write ? CounterStateMachine.add(counter, amount) : CounterStateMachine.read(counter);
                        }

                        @Override
                        public boolean isWrite() {
                            return write;
                        }

                        @Override
                        public ReadMode readMode() {
                            return ReadMode.LINEARIZABLE;
                        }

                        @Override
                        public void ok(byte[] result) {
                            long value = ByteBuffer.wrap(result).getLong();
                            recorder.ok(id, write ? Response.written() : Response.read(String.valueOf(value)));
                        }

                        @Override
                        public void fail() {
                            recorder.fail(id);
                        }

                        @Override
                        public void unknown() {
                            recorder.info(id);
                        }
                    };
                }

                @Override
                public String checkState(StateMachine sm) {
                    // Every amount is positive, so no counter can ever be negative.
                    for (Map.Entry<Integer, Long> e : ((CounterStateMachine) sm).counters().entrySet()) {
                        if (e.getValue() < 0) {
                            return "counter " + e.getKey() + " is " + e.getValue() + " after only additions";
                        }
                    }
                    return null;
                }

                @Override
                public long digest(StateMachine sm) {
                    return ((CounterStateMachine) sm).counters().hashCode();
                }

                @Override
                public History history() {
                    return recorder.history();
                }

                @Override
                public String verdict() {
                    CheckResult<Operation> r = LinearizabilityChecker.check(recorder.history(), COUNTER,
                            Budget.of(Duration.ofSeconds(20), 2_000_000));
                    return r.isValid() ? null : "not linearizable against a counter: " + r;
                }
            };
        }
    }
}
