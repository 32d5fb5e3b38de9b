package dev.raftkit.kv;

import dev.raftkit.spi.StateMachine.Command;
import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Gens;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** Generators of KV command scripts and the plain TreeMap model they are checked against. */
final class Scripts {

    private Scripts() {
    }

    /**
     * One log entry: a command (or, when {@code command} is null, the undecodable bytes
     * {@code garbage}), at {@code gap} indices after the previous one (no-ops and session entries
     * the state machine never sees leave gaps).
     */
    record Step(KvCommand command, List<Integer> garbage, int gap) {
        byte[] payload() {
            if (command != null) {
                return command.encode();
            }
            byte[] b = new byte[garbage.size()];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (int) garbage.get(i);
            }
            return b;
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // Overlapping prefixes, so scans and the ordering matter; few keys, so commands collide.
    static final Gen<String> KEYS = Gens.oneOf("a", "ab", "b", "ba", "bb", "c", "é");
    static final Gen<String> VALUES = Gens.oneOf("", "x", "y", "zz");

    static final Gen<KvCommand> COMMANDS = Gens.choose(
            Gens.pairs(KEYS, VALUES).map(p -> new KvCommand.Put(utf8(p.first()), utf8(p.second()))),
            KEYS.map(k -> new KvCommand.Get(utf8(k))),
            KEYS.map(k -> new KvCommand.Delete(utf8(k))),
            Gens.pairs(Gens.pairs(KEYS, Gens.choose(Gens.<String>constant(null), VALUES)),
                    Gens.pairs(Gens.longs(-1, 25), VALUES)).map(p -> {
                        String expected = p.first().second();
                        long version = expected == null && p.second().first() == -1 ? 0 : p.second().first();
                        return new KvCommand.CompareAndSet(utf8(p.first().first()),
                                expected == null ? null : utf8(expected), version, utf8(p.second().second()));
                    }),
            Gens.pairs(Gens.pairs(Gens.oneOf("", "a", "b", "bb", "z"), Gens.oneOf("", "a", "b", "ba", "zz")),
                    Gens.ints(1, 4)).map(p -> new KvCommand.Scan(utf8(p.first().first()), utf8(p.first().second()),
                    p.second())));

    static final Gen<Step> STEPS = Gens.frequency(List.of(
            new Gens.Weighted<>(20, Gens.pairs(COMMANDS, Gens.ints(1, 3)).map(p -> new Step(p.first(), null, p.second()))),
            new Gens.Weighted<>(1, Gens.pairs(Gens.lists(Gens.ints(0, 255), 0, 6), Gens.ints(1, 3))
                    .map(p -> new Step(null, p.first(), p.second())))));

    static final Gen<List<Step>> SCRIPTS = Gens.lists(STEPS, 0, 60);

    /** The script as committed commands, indices starting after 0 with the steps' gaps. */
    static List<Command> commands(List<Step> script) {
        List<Command> out = new ArrayList<>();
        long index = 0;
        for (Step s : script) {
            index += s.gap();
            out.add(new Command(index, 1, 1000 + index, s.payload()));
        }
        return out;
    }

    /** The dumb model: a TreeMap of key → (value, version), and each command's expected result. */
    static final class Model {
        record Cell(byte[] value, long version) {
        }

        final TreeMap<byte[], Cell> map = new TreeMap<>(Arrays::compareUnsigned);

        KvResult apply(Command c) {
            KvCommand command;
            try {
                command = KvCommand.decode(c.payload());
            } catch (KvCodecException e) {
                return new KvResult.Rejected("any reason");
            }
            if (command instanceof KvCommand.Put p) {
                map.put(p.key(), new Cell(p.value(), c.index()));
                return new KvResult.Written(c.index());
            }
            if (command instanceof KvCommand.Delete d) {
                return new KvResult.Deleted(map.remove(d.key()) != null);
            }
            if (command instanceof KvCommand.CompareAndSet cas) {
                Cell cur = map.get(cas.key());
                boolean versionOk = cas.expectedVersion() == -1
                        || cas.expectedVersion() == (cur == null ? 0 : cur.version());
                boolean valueOk = cas.expectedValue() == null
                        || (cur != null && Arrays.equals(cur.value(), cas.expectedValue()));
                if (versionOk && valueOk) {
                    map.put(cas.key(), new Cell(cas.newValue(), c.index()));
                    return new KvResult.Written(c.index());
                }
                return new KvResult.CasFailed(entry(cas.key()));
            }
            return query(command);
        }

        KvResult query(KvCommand command) {
            if (command instanceof KvCommand.Get g) {
                return entry(g.key()).<KvResult>map(KvResult.Found::new).orElse(new KvResult.NotFound());
            }
            if (command instanceof KvCommand.Scan s) {
                List<KvEntry> all = new ArrayList<>();
                for (Map.Entry<byte[], Cell> e : map.entrySet()) {
                    byte[] k = e.getKey();
                    boolean under = k.length >= s.prefix().length
                            && Arrays.equals(Arrays.copyOf(k, s.prefix().length), s.prefix());
                    if (under && Arrays.compareUnsigned(k, s.startAfter()) > 0) {
                        all.add(new KvEntry(k, e.getValue().value(), e.getValue().version()));
                    }
                }
                return new KvResult.Scanned(all.subList(0, Math.min(all.size(), s.limit())), all.size() > s.limit());
            }
            throw new AssertionError("the model does not answer " + command);
        }

        Optional<KvEntry> entry(byte[] key) {
            Cell c = map.get(key);
            return c == null ? Optional.empty() : Optional.of(new KvEntry(key, c.value(), c.version()));
        }
    }
}
