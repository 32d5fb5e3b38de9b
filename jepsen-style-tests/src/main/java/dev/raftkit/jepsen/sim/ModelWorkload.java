package dev.raftkit.jepsen.sim;

import dev.raftkit.core.ReadMode;
import dev.raftkit.jepsen.checker.Budget;
import dev.raftkit.jepsen.checker.CheckOptions;
import dev.raftkit.jepsen.checker.CheckResult;
import dev.raftkit.jepsen.checker.LinearizabilityChecker;
import dev.raftkit.jepsen.checker.Model;
import dev.raftkit.jepsen.history.OpType;
import dev.raftkit.jepsen.history.TypedHistory;
import dev.raftkit.jepsen.history.TypedHistoryRecorder;
import dev.raftkit.jepsen.history.TypedOperation;
import dev.raftkit.spi.StateMachine;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * A {@link Workload} for your own state machine, from the parts a property test has anyway: the
 * state machine, your operation type, a generator of operations, how an operation becomes bytes
 * and a result becomes an output, and a sequential model. The history is checked for
 * linearizability against the model, per key of the {@link OpType}; operations the type calls
 * {@linkplain OpType#readOnlyWhen read-only} are served as linearizable reads through
 * {@code RaftServer.read}, the others are submitted through a client session.
 *
 * <pre>{@code
 * Workload counters = ModelWorkload.builder("counter", CounterMachine::new, ops, model)
 *         .operations((client, random) -> random.nextBoolean() ? new Add(random.nextInt(4), 1) : new Get(random.nextInt(4)))
 *         .encode(CounterMachine::encode)
 *         .decode((op, result) -> ByteBuffer.wrap(result).getLong())
 *         .build();
 * }</pre>
 *
 * <p>Replicas are compared after healing by a digest of their state; by default that is a hash
 * of the bytes {@link StateMachine.Snapshot#writeTo} writes, so the image must be deterministic
 * (equal states, equal bytes: iterate sorted maps, not hash maps), or give {@link Builder#digest}.
 * Immutable once built; every function given to it must be pure and deterministic.
 *
 * @param <I> your operation (input) type
 * @param <O> its output type
 */
public final class ModelWorkload<I, O> implements Workload {

    private final String name;
    private final Supplier<? extends StateMachine> stateMachines;
    private final OpType<I, O> type;
    private final Model<?, TypedOperation<I, O>> model;
    private final BiFunction<Integer, SplittableRandom, I> operations;
    private final Function<? super I, byte[]> encode;
    private final BiFunction<? super I, byte[], O> decode;
    private final Function<? super StateMachine, String> invariant;
    private final ToLongFunction<? super StateMachine> digest;
    private final Budget budget;

    private ModelWorkload(Builder<I, O> b) {
        this.name = b.name;
        this.stateMachines = b.stateMachines;
        this.type = b.type;
        this.model = b.model;
        this.operations = Objects.requireNonNull(b.operations, "operations(...) is required");
        this.encode = Objects.requireNonNull(b.encode, "encode(...) is required");
        this.decode = Objects.requireNonNull(b.decode, "decode(...) is required");
        this.invariant = b.invariant;
        this.digest = b.digest;
        this.budget = b.budget;
    }

    /**
     * Starts a workload named {@code name} (as traces and reports show it) over the state machines
     * {@code stateMachines} makes (a fresh one for every life of every node), operations of
     * {@code type}, checked against {@code model}.
     */
    public static <I, O> Builder<I, O> builder(String name, Supplier<? extends StateMachine> stateMachines,
                                               OpType<I, O> type, Model<?, TypedOperation<I, O>> model) {
        return new Builder<>(name, stateMachines, type, model);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public StateMachine newStateMachine() {
        return stateMachines.get();
    }

    @Override
    public Run start(Settings settings) {
        TypedHistoryRecorder<I, O> recorder = new TypedHistoryRecorder<>(type, settings.nanoClock());
        return new Run() {
            @Override
            public Op next(int client, SplittableRandom random) {
                I input = Objects.requireNonNull(operations.apply(client, random), "the operation generator returned null");
                byte[] bytes = encode.apply(input);
                long id = recorder.invoke(client, input);
                return new Op() {
                    @Override
                    public byte[] bytes() {
                        return bytes;
                    }

                    @Override
                    public boolean isWrite() {
                        return !type.isReadOnly(input);
                    }

                    @Override
                    public ReadMode readMode() {
                        return ReadMode.LINEARIZABLE;
                    }

                    @Override
                    public void ok(byte[] result) {
                        recorder.ok(id, decode.apply(input, result));
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
                return invariant == null ? null : invariant.apply(sm);
            }

            @Override
            public long digest(StateMachine sm) {
                return digest != null ? digest.applyAsLong(sm) : imageHash(sm);
            }

            @Override
            public TypedHistory<I, O> history() {
                return recorder.history();
            }

            @Override
            public String verdict() {
                CheckResult<TypedOperation<I, O>> r = check(recorder.history(), model);
                return r.isValid() ? null : r.toString();
            }

            @Override
            public String verdictKind() {
                return "Linearizability";
            }
        };
    }

    private <S> CheckResult<TypedOperation<I, O>> check(TypedHistory<I, O> h, Model<S, TypedOperation<I, O>> m) {
        return LinearizabilityChecker.check(h, m, CheckOptions.of(budget));
    }

    /** FNV-1a over the snapshot image: equal states write equal bytes (the builder's javadoc). */
    private static long imageHash(StateMachine sm) {
        long[] h = {0xcbf29ce484222325L};
        OutputStream hashing = new OutputStream() {
            @Override
            public void write(int b) {
                h[0] = (h[0] ^ (b & 0xff)) * 0x100000001b3L;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                for (int i = off; i < off + len; i++) {
                    h[0] = (h[0] ^ (b[i] & 0xff)) * 0x100000001b3L;
                }
            }
        };
        try (StateMachine.Snapshot s = sm.snapshot()) {
            s.writeTo(hashing);
        } catch (IOException e) {
            throw new UncheckedIOException("the state machine could not write its snapshot for a digest", e);
        }
        return h[0];
    }

    /**
     * Builds a {@link ModelWorkload}; {@link #operations}, {@link #encode} and {@link #decode} are
     * required.
     *
     * @param <I> your operation type
     * @param <O> its output type
     */
    public static final class Builder<I, O> {
        private final String name;
        private final Supplier<? extends StateMachine> stateMachines;
        private final OpType<I, O> type;
        private final Model<?, TypedOperation<I, O>> model;
        private BiFunction<Integer, SplittableRandom, I> operations;
        private Function<? super I, byte[]> encode;
        private BiFunction<? super I, byte[], O> decode;
        private Function<? super StateMachine, String> invariant;
        private ToLongFunction<? super StateMachine> digest;
        private Budget budget = Budget.of(Duration.ofSeconds(20), 2_000_000);

        private Builder(String name, Supplier<? extends StateMachine> stateMachines, OpType<I, O> type,
                        Model<?, TypedOperation<I, O>> model) {
            this.name = Objects.requireNonNull(name, "name");
            this.stateMachines = Objects.requireNonNull(stateMachines, "stateMachines");
            this.type = Objects.requireNonNull(type, "type");
            this.model = Objects.requireNonNull(model, "model");
        }

        /**
         * Client {@code client}'s next operation, drawn from {@code random} (the run's seeded
         * generator: use it, and nothing else, for every choice).
         */
        public Builder<I, O> operations(BiFunction<Integer, SplittableRandom, I> next) {
            this.operations = next;
            return this;
        }

        /** The bytes of an operation: a command for {@code StateMachine.apply}, or a query for {@code query}. */
        public Builder<I, O> encode(Function<? super I, byte[]> encode) {
            this.encode = encode;
            return this;
        }

        /** The output of an operation from the state machine's answer to it. */
        public Builder<I, O> decode(BiFunction<? super I, byte[], O> decode) {
            this.decode = decode;
            return this;
        }

        /**
         * An invariant over one node's state machine, checked after every apply batch on every node
         * and at the end: null if it holds, else what is wrong. None by default.
         */
        public Builder<I, O> invariant(Function<? super StateMachine, String> invariant) {
            this.invariant = invariant;
            return this;
        }

        /** A digest of a state machine's whole state (default: a hash of its snapshot image). */
        public Builder<I, O> digest(ToLongFunction<? super StateMachine> digest) {
            this.digest = digest;
            return this;
        }

        /** The linearizability checker's budget (default 20 s and 2,000,000 states per run). */
        public Builder<I, O> budget(Budget budget) {
            this.budget = Objects.requireNonNull(budget, "budget");
            return this;
        }

        public ModelWorkload<I, O> build() {
            return new ModelWorkload<>(this);
        }
    }
}
