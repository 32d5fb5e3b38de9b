// testing-guide:start
package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.checker.Model;
import dev.raftkit.jepsen.history.OpType;
import dev.raftkit.jepsen.history.TypedOperation;
import dev.raftkit.jepsen.sim.ModelWorkload;
import dev.raftkit.jepsen.sim.SimOptions;
import dev.raftkit.jepsen.sim.SimRunner;
import dev.raftkit.jepsen.sim.Workload;
import dev.raftkit.spi.StateMachine;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The example of {@code docs/testing.md}: a user's own state machine under every fault of the
 * simulator, checked for linearizability against a sequential model. It lives outside Raftkit's
 * packages on purpose: it compiles against the public API only.
 */
public class CounterPropertyTest {

    /** What a client does: add to a counter, or read one. */
    public sealed interface Op permits Add, Get {
        int counter();
    }

    public record Add(int counter, long amount) implements Op {
    }

    public record Get(int counter) implements Op {
    }

    /** Each counter on its own; an add answers the new value, a get the current one. */
    static final Model<Long, TypedOperation<Op, Long>> COUNTER = Model.of(() -> 0L,
            (value, op, out) -> {
                long next = op instanceof Add add ? value + add.amount() : value;
                return out == null || out == next ? Optional.of(next) : Optional.empty();
            });

    /** The workload: random adds and linearizable reads over four counters, on {@code machines}. */
    public static Workload counters(Supplier<StateMachine> machines) {
        OpType<Op, Long> ops = OpType.of(Op.class, Long.class)
                .keyedBy(op -> "c" + op.counter())
                .readOnlyWhen(op -> op instanceof Get);
        return ModelWorkload.builder("counter", machines, ops, COUNTER)
                .operations((client, random) -> random.nextBoolean()
                        ? new Add(random.nextInt(4), 1 + random.nextInt(5)) : new Get(random.nextInt(4)))
                .encode(CounterMachine::encode)
                .decode((op, result) -> ByteBuffer.wrap(result).getLong())
                .build();
    }

    @Test
    void countersAreLinearizableUnderEveryFault() {
        long seeds = Long.getLong("sim.user.seeds", 20);
        SimRunner.Summary s = SimRunner.run(SimOptions.defaults(0).withWorkload(counters(CounterMachine::new)),
                1, seeds, 2, result -> { });
        assertEquals(List.of(), s.failures(), s.line());
        assertTrue(s.operations() > seeds * 100, "the clients did work: " + s.line());
    }

    /** The state machine under test: named counters, with snapshots. */
    public static class CounterMachine implements StateMachine {
        private TreeMap<Integer, Long> counters = new TreeMap<>();
        private long lastApplied;

        static byte[] encode(Op op) {
            return op instanceof Add add ? ByteBuffer.allocate(12).putInt(add.counter()).putLong(add.amount()).array()
                    : ByteBuffer.allocate(4).putInt(op.counter()).array();
        }

        @Override
        public List<byte[]> apply(List<Command> commands) {
            List<byte[]> results = new ArrayList<>(commands.size());
            for (Command c : commands) {
                ByteBuffer b = ByteBuffer.wrap(c.payload());
                long value = counters.merge(b.getInt(), b.getLong(), Long::sum);
                results.add(ByteBuffer.allocate(8).putLong(value).array());
                lastApplied = c.index();
            }
            return results;
        }

        @Override
        public byte[] query(byte[] query) {
            return ByteBuffer.allocate(8).putLong(counters.getOrDefault(ByteBuffer.wrap(query).getInt(), 0L)).array();
        }

        @Override
        public long lastApplied() {
            return lastApplied;
        }

        @Override
        public Snapshot snapshot() {
            TreeMap<Integer, Long> image = new TreeMap<>(counters); // a copy: applying goes on while it is written
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
                    for (var e : image.entrySet()) {
                        d.writeInt(e.getKey());
                        d.writeLong(e.getValue());
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
            TreeMap<Integer, Long> restored = new TreeMap<>();
            for (int n = d.readInt(); n > 0; n--) {
                restored.put(d.readInt(), d.readLong());
            }
            counters = restored;
            lastApplied = index;
        }
    }
}
// testing-guide:end
