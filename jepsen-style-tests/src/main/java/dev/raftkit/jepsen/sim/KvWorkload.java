package dev.raftkit.jepsen.sim;

import dev.raftkit.core.ReadMode;
import dev.raftkit.jepsen.checker.Budget;
import dev.raftkit.jepsen.checker.CheckResult;
import dev.raftkit.jepsen.checker.LinearizabilityChecker;
import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.HistoryRecorder;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Response;
import dev.raftkit.jepsen.history.TypedHistory;
import dev.raftkit.kv.KvCommand;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvResult;
import dev.raftkit.kv.KvStateMachine;
import dev.raftkit.spi.StateMachine;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Registers on statemachine-kv's {@link KvStateMachine}: 40% writes, 40% reads (in the run's read
 * modes), 20% compare-and-set against the last value a read returned. The history is checked for
 * linearizability against the register model ({@link LinearizabilityChecker}), which also proves
 * that no acknowledged write was lost.
 */
public final class KvWorkload implements Workload {

    private final Set<ReadMode> readModes;

    /** @param readModes how clients may read (one is picked per read) */
    public KvWorkload(Set<ReadMode> readModes) {
        this.readModes = Set.copyOf(readModes);
    }

    @Override
    public String name() {
        return "kv";
    }

    @Override
    public StateMachine newStateMachine() {
        return new KvStateMachine();
    }

    @Override
    public Run start(Settings settings) {
        return new KvRun(settings);
    }

    private final class KvRun implements Run {
        private final Settings settings;
        private final HistoryRecorder recorder;
        private final List<String> lastValues = new ArrayList<>();
        private final List<ReadMode> modes;
        private final int[] issued;
        /** Live restores recorded so far. */
        private int switches;

        KvRun(Settings settings) {
            this.settings = settings;
            this.recorder = new HistoryRecorder(settings.nanoClock());
            for (int k = 0; k < settings.keys(); k++) {
                lastValues.add(null);
            }
            this.modes = readModes.stream().sorted().toList();
            this.issued = new int[settings.clients()];
        }

        @Override
        public Op next(int client, SplittableRandom random) {
            int key = random.nextInt(settings.keys());
            String k = "k" + key;
            int kind = random.nextInt(10);
            Command command;
            byte[] bytes;
            ReadMode mode = ReadMode.LINEARIZABLE;
            if (kind < 4) {
                String v = "c" + client + "-" + (++issued[client]);
                command = Command.write(k, v);
                bytes = KvOps.put(k, v);
            } else if (kind < 8) {
                command = Command.read(k);
                bytes = KvOps.get(k);
                mode = modes.get(random.nextInt(modes.size()));
            } else {
                String expected = lastValues.get(key);
                String v = "c" + client + "-" + (++issued[client]);
                command = Command.cas(k, expected, v);
                bytes = expected == null ? KvOps.casVersion(k, KvCommand.ABSENT, v) : KvOps.casValue(k, expected, v);
            }
            long id = recorder.invoke(client, command);
            ReadMode readMode = mode;
            return new Op() {
                @Override
                public byte[] bytes() {
                    return bytes;
                }

                @Override
                public boolean isWrite() {
                    return !(command instanceof Command.Read);
                }

                @Override
                public ReadMode readMode() {
                    return readMode;
                }

                @Override
                public void ok(byte[] result) {
                    Response r = response(command, KvOps.decode(result));
                    if (r == null) {
                        recorder.info(id);
                        return;
                    }
                    recorder.ok(id, r);
                    if (r instanceof Response.ReadValue rv) {
                        lastValues.set(key, rv.value());
                    }
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

        /** The history's view of a result; null if the state machine rejected the command (a bug here). */
        private static Response response(Command command, KvResult result) {
            if (command instanceof Command.Write) {
                return result instanceof KvResult.Written ? Response.written() : null;
            }
            if (command instanceof Command.Cas) {
                return result instanceof KvResult.Written ? Response.cas(true)
                        : result instanceof KvResult.CasFailed ? Response.cas(false) : null;
            }
            if (result instanceof KvResult.Found f) {
                return Response.read(new String(f.entry().value(), StandardCharsets.UTF_8));
            }
            return result instanceof KvResult.NotFound ? Response.read(null) : null;
        }

        /**
         * The register model has no write of absence, so a switch is modelled only when the
         * backup holds every key: then it is one write per key, of the backup's value, each
         * linearized somewhere between the proposal and the leader's apply.
         */
        @Override
        public StateSwitch stateSwitch(StateMachine image) {
            KvStateMachine kv = (KvStateMachine) image;
            List<String> values = new ArrayList<>();
            for (int k = 0; k < settings.keys(); k++) {
                var e = kv.get(("k" + k).getBytes(StandardCharsets.UTF_8));
                if (e.isEmpty()) {
                    return null;
                }
                values.add(new String(e.get().value(), StandardCharsets.UTF_8));
            }
            switches++;
            long[] ids = new long[values.size()];
            for (int k = 0; k < values.size(); k++) {
                // A process of its own per key and switch: a process has one operation at a time.
                ids[k] = recorder.invoke(settings.clients() + switches * settings.keys() + k,
                        Command.write("k" + k, values.get(k)));
            }
            return new StateSwitch() {
                @Override
                public void ok() {
                    for (long id : ids) {
                        recorder.ok(id, Response.written());
                    }
                }

                @Override
                public void fail() {
                    for (long id : ids) {
                        recorder.fail(id);
                    }
                }

                @Override
                public void unknown() {
                    for (long id : ids) {
                        recorder.info(id);
                    }
                }
            };
        }

        @Override
        public long digest(StateMachine sm) {
            return Arrays.hashCode(((KvStateMachine) sm).digest().sha256());
        }

        @Override
        public TypedHistory<Command, Response> history() {
            return recorder.history().toTyped();
        }

        @Override
        public String verdictKind() {
            return "Linearizability";
        }

        @Override
        public String verdict() {
            CheckResult<Operation> lin = LinearizabilityChecker.check(recorder.history(),
                    Budget.of(Duration.ofSeconds(20), 2_000_000));
            return lin.isValid() ? null : lin.toString();
        }

        @Override
        public byte[] answerBeforeCommit(byte[] command) {
            // What a leader would answer a put or a successful compare-and-set (only writes are submitted).
            return new KvResult.Written(1).encode();
        }
    }
}
