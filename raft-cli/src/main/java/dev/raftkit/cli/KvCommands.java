package dev.raftkit.cli;

import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.kv.KvCommand;
import dev.raftkit.kv.KvEntry;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code raftkit kv put|get|del|cas|scan}: the key-value store of a running cluster. Keys and
 * values are UTF-8 text; every key has a version (the log index that last wrote it). Writes are
 * applied exactly once, whatever the retries; reads are linearizable unless {@code --read} says
 * otherwise.
 */
@Command(name = "kv", mixinStandardHelpOptions = true,
        description = "Read and write the key-value store of a running cluster.",
        subcommands = {KvCommands.Put.class, KvCommands.Get.class, KvCommands.Del.class, KvCommands.Cas.class,
                KvCommands.Scan.class},
        footer = {"", "Exit codes: 0 done, 1 the cluster could not do it (unreachable, no leader in",
                "time), 2 bad arguments, 3 the answer is no (get: not found; cas: the condition",
                "did not hold).",
                "", "--json (every subcommand) prints one JSON object instead, also on exit 3:",
                "  put {key,version}  get {key,found,value,version}  del {key,existed}",
                "  cas {key,ok,version} or {key,ok:false,current:{key,value,version}|null}",
                "  scan {prefix,entries:[{key,value,version}],more}",
                "", "Examples:",
                "  raftkit kv put -c 127.0.0.1:8001,127.0.0.1:8002 --cluster-id demo user/1 ada",
                "  raftkit kv get -c 127.0.0.1:8001 --cluster-id demo user/1",
                "  raftkit kv scan -c 127.0.0.1:8001 --cluster-id demo user/"})
final class KvCommands implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "say what to do: raftkit kv put|get|del|cas|scan (see raftkit kv --help)");
    }

    static String show(KvEntry e) {
        return e.keyString() + " = " + e.valueString() + " (version " + e.version() + ")";
    }

    /** An entry for {@code --json}: key, value, version. */
    static Json json(KvEntry e) {
        return Json.object().field("key", e.keyString()).field("value", e.valueString()).field("version", e.version());
    }

    static ReadMode readMode(CommandLine cl, String text) {
        try {
            return ReadMode.valueOf(text.toUpperCase(Locale.ROOT)); // the words are the modes' names
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--read: unknown read mode '" + text
                    + "'; use linearizable (default), lease or stale");
        }
    }

    /** Encodes a request, turning a size limit the store would refuse into a usage error. */
    static byte[] encode(CommandLine cl, java.util.function.Supplier<byte[]> request) {
        try {
            return request.get();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
    }

    @Command(name = "put", mixinStandardHelpOptions = true, description = "Set KEY to VALUE; prints the key's new version.",
            footer = {"", "Example:", "  raftkit kv put -c 127.0.0.1:8001,127.0.0.1:8002 --cluster-id demo user/1 ada"})
    static final class Put extends ScriptableCommand {
        @Parameters(index = "0", paramLabel = "KEY")
        String key;

        @Parameters(index = "1", paramLabel = "VALUE")
        String value;

        private byte[] request;

        @Override
        void check(CommandLine cl) {
            request = encode(cl, () -> KvOps.put(key, value));
        }

        @Override
        int run(RaftClient client) {
            long version = KvOps.written(client.submit(request));
            print(key + ": version " + version, Json.object().field("key", key).field("version", version));
            return OK;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Print KEY's value (with --long: key, value and version). Exit code 3 if the key does not exist.",
            footer = {"", "Example:", "  raftkit kv get -c 127.0.0.1:8001,127.0.0.1:8002 --cluster-id demo user/1"})
    static final class Get extends ScriptableCommand {
        @Parameters(index = "0", paramLabel = "KEY")
        String key;

        @Option(names = {"-l", "--long"}, description = "Print KEY = VALUE (version N).")
        boolean longFormat;

        @Option(names = "--read", paramLabel = "MODE", defaultValue = "linearizable",
                description = "linearizable (default: ReadIndex, §6.4), lease (leader lease) or stale (any node's local state).")
        String read;

        private byte[] request;
        private ReadMode mode;

        @Override
        void check(CommandLine cl) {
            mode = readMode(cl, read);
            request = encode(cl, () -> KvOps.get(key));
        }

        @Override
        int run(RaftClient client) {
            Optional<KvEntry> e = KvOps.found(client.read(request, mode));
            if (e.isEmpty()) {
                if (json) {
                    print(Json.object().field("key", key).field("found", false).toString());
                }
                warn("key '" + key + "' not found");
                return NO;
            }
            print(longFormat ? show(e.get()) : e.get().valueString(), Json.object().field("key", key)
                    .field("found", true).field("value", e.get().valueString()).field("version", e.get().version()));
            return OK;
        }
    }

    @Command(name = "del", aliases = "delete", mixinStandardHelpOptions = true, description = "Delete KEY (no error if it did not exist).",
            footer = {"", "Example:", "  raftkit kv del -c 127.0.0.1:8001,127.0.0.1:8002 --cluster-id demo user/1"})
    static final class Del extends ScriptableCommand {
        @Parameters(index = "0", paramLabel = "KEY")
        String key;

        private byte[] request;

        @Override
        void check(CommandLine cl) {
            request = encode(cl, () -> KvOps.delete(key));
        }

        @Override
        int run(RaftClient client) {
            boolean existed = KvOps.deleted(client.submit(request));
            print(existed ? key + ": deleted" : key + ": did not exist",
                    Json.object().field("key", key).field("existed", existed));
            return OK;
        }
    }

    @Command(name = "cas", mixinStandardHelpOptions = true,
            description = "Compare-and-set: set KEY to NEW_VALUE only if it holds --if-value, has version --if-version, or (--if-absent) does not exist. Exit code 3, with what the key holds, if the condition did not hold.",
            footer = {"", "Examples:",
                    "  raftkit kv cas -c 127.0.0.1:8001 --cluster-id demo n 2 --if-value 1",
                    "  raftkit kv cas -c 127.0.0.1:8001 --cluster-id demo lock me --if-absent"})
    static final class Cas extends ScriptableCommand {
        @Parameters(index = "0", paramLabel = "KEY")
        String key;

        @Parameters(index = "1", paramLabel = "NEW_VALUE")
        String newValue;

        static final class Condition {
            @Option(names = "--if-value", paramLabel = "VALUE", description = "Only if KEY holds VALUE.")
            String value;

            @Option(names = "--if-version", paramLabel = "N", description = "Only if KEY's version is N.")
            Long version;

            @Option(names = "--if-absent", description = "Only if KEY does not exist.")
            boolean absent;
        }

        @ArgGroup(exclusive = true, multiplicity = "1")
        Condition condition;

        private byte[] request;

        @Override
        void check(CommandLine cl) {
            if (condition.version != null && condition.version <= 0) {
                throw new ParameterException(cl, "--if-version must be a version (a positive log index), got "
                        + condition.version + "; use --if-absent for a key that must not exist");
            }
            request = encode(cl, () -> condition.value != null ? KvOps.casValue(key, condition.value, newValue)
                    : KvOps.casVersion(key, condition.absent ? KvCommand.ABSENT : condition.version, newValue));
        }

        @Override
        int run(RaftClient client) {
            byte[] result = client.submit(request);
            if (KvOps.decode(result) instanceof KvResult.CasFailed failed) {
                if (json) {
                    print(Json.object().field("key", key).field("ok", false)
                            .field("current", failed.current().map(KvCommands::json).orElse(null)).toString());
                }
                warn("condition did not hold: " + failed.current().map(e -> "'" + key + "' holds '" + e.valueString()
                        + "' (version " + e.version() + ")").orElse("'" + key + "' does not exist"));
                return NO;
            }
            long version = KvOps.casWritten(result).orElseThrow();
            print(key + ": version " + version, Json.object().field("key", key).field("ok", true).field("version", version));
            return OK;
        }
    }

    @Command(name = "scan", mixinStandardHelpOptions = true,
            description = "List keys under PREFIX (all keys if none) in key order: KEY = VALUE (version N), one per line.",
            footer = {"", "Example:", "  raftkit kv scan -c 127.0.0.1:8001 --cluster-id demo user/ --limit 100"})
    static final class Scan extends ScriptableCommand {
        @Parameters(index = "0", paramLabel = "PREFIX", defaultValue = "", arity = "0..1")
        String prefix;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "1000", description = "At most N keys (default 1000).")
        long limit;

        @Option(names = "--read", paramLabel = "MODE", defaultValue = "linearizable",
                description = "linearizable (default), lease or stale.")
        String read;

        private ReadMode mode;

        @Override
        void check(CommandLine cl) {
            mode = readMode(cl, read);
            if (limit < 1) {
                throw new ParameterException(cl, "--limit must be at least 1, got " + limit);
            }
            encode(cl, () -> KvOps.scan(prefix, 1));
        }

        @Override
        int run(RaftClient client) {
            byte[] prefixBytes = prefix.getBytes(StandardCharsets.UTF_8);
            byte[] after = new byte[0];
            long printed = 0;
            boolean more = true;
            List<Json> entries = new ArrayList<>();
            // Page by page: one scan answers at most MAX_SCAN_LIMIT keys (and a bounded number of
            // bytes); each page is linearizable on its own, not the listing as a whole.
            while (more && printed < limit) {
                int page = (int) Math.min(limit - printed, KvCommand.MAX_SCAN_LIMIT);
                KvResult.Scanned s = KvOps.scanned(client.read(KvOps.scan(prefixBytes, after, page), mode));
                for (KvEntry e : s.entries()) {
                    if (json) {
                        entries.add(json(e));
                    } else {
                        out().println(show(e));
                    }
                    after = e.key();
                    printed++;
                }
                more = s.more() && !s.entries().isEmpty();
            }
            if (json) {
                out().println(Json.object().field("prefix", prefix).objects("entries", entries).field("more", more));
            } else if (more) {
                out().println("... more keys under '" + prefix + "'; raise --limit to see them");
            }
            out().flush();
            return OK;
        }
    }
}
