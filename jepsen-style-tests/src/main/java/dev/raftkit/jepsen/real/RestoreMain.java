package dev.raftkit.jepsen.real;

import dev.raftkit.kv.KvStateMachine;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.sql.SqlStateMachine;
import dev.raftkit.storage.backup.BackupRestore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A cold restore in a process of its own, so the {@code backup} nemesis can SIGKILL it half-way
 * ({@link BackupNemesis}): {@code RestoreMain kv|sql TARGET BACKUP_DIR...} restores the chain path
 * (full backup first) into {@code TARGET} with {@link BackupRestore#restore}, its state checked
 * against every manifest's digest in a state machine of that kind. It prints {@code STARTED} when
 * it begins and {@code DONE index=N} when the directory is published; on failure it prints the
 * reason on stderr and exits 1.
 */
public final class RestoreMain {

    private RestoreMain() {
    }

    /** The java command line that runs this class in a child of this JVM, on this JVM's class path. */
    static List<String> command(String sm, Path target, List<Path> chain) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), RestoreMain.class.getName(), sm,
                target.toString()));
        chain.forEach(d -> cmd.add(d.toString()));
        return cmd;
    }

    /** The scratch state machines of a run's kind: new, empty, writing no files of their own. */
    static Supplier<StateMachine> machines(String sm) {
        return switch (sm) {
            case "kv" -> KvStateMachine::new;
            case "sql" -> SqlStateMachine::new;
            default -> throw new IllegalArgumentException("state machine '" + sm + "': expected kv or sql");
        };
    }

    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: RestoreMain kv|sql TARGET BACKUP_DIR... (the chain path, full backup first)");
            System.exit(2);
        }
        List<Path> chain = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            chain.add(Path.of(args[i]));
        }
        try {
            Supplier<StateMachine> machines = machines(args[0]);
            System.out.println("STARTED");
            System.out.flush();
            BackupRestore.Result r = BackupRestore.restore(chain, Path.of(args[1]), BackupRestore.LATEST, null,
                    n -> { }, machines);
            System.out.println("DONE index=" + r.lastIndex());
            System.out.flush();
        } catch (Exception e) {
            System.err.println("restore into " + args[1] + " failed: " + e);
            System.exit(1);
        }
    }
}
