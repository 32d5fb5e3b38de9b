package dev.raftkit.cli.demo;

import dev.raftkit.cli.Raftkit;
import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.kv.KvEntry;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvResult;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupKind;
import dev.raftkit.storage.backup.BackupManifest;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The backup tour of {@code raftkit demo --tour backups}: every kind of backup and restore the
 * product has, run as the {@code raftkit} commands a user types (printed with their output)
 * against three key-value nodes with backup roots and two three-node SQL clusters, in this
 * process over loopback gRPC. Each step is checked against the real state (the chain's
 * manifests, the cluster's reads, the commands' exit codes); the first that does not hold stops
 * the tour with what was expected and what was seen.
 */
final class BackupTour {

    /** The backup directory, under the backing-up node's root, that holds the tour's chain. */
    private static final String CHAIN = "tour";

    private final PrintWriter out;
    private final Path dataDir;
    private final int writesPerBatch;
    private final long started = System.nanoTime();
    /** Every write of the background client it saw acknowledged: key → the log index it was applied at. */
    private final Map<String, Long> loadAcked = new ConcurrentHashMap<>();
    private final AtomicBoolean stopLoad = new AtomicBoolean();
    private Thread load;
    private int nextKey;
    private int step;

    /**
     * Called with the chain's directory once its backups are taken, before they are verified: for
     * a test to damage the real chain and see the tour fail (the tour itself never does).
     */
    private final Consumer<Path> afterBackups;

    /** @param writesPerBatch writes in each of the tour's batches of keys */
    BackupTour(PrintWriter out, Path dataDir, int writesPerBatch) {
        this(out, dataDir, writesPerBatch, chain -> { });
    }

    BackupTour(PrintWriter out, Path dataDir, int writesPerBatch, Consumer<Path> afterBackups) {
        this.out = out;
        this.dataDir = dataDir;
        this.writesPerBatch = writesPerBatch;
        this.afterBackups = afterBackups;
    }

    /** Runs the tour; returns the summary line, or throws saying which step did not hold. */
    String run() throws Exception {
        try (DemoCluster kv = new DemoCluster(out, dataDir.resolve("kv"), StateMachineKind.KV, "raftkit-demo", true)) {
            kvTour(kv);
        }
        try (DemoCluster a = new DemoCluster(out, dataDir.resolve("sql-a"), StateMachineKind.SQL, "demo-sql-a", true);
             DemoCluster b = new DemoCluster(out, dataDir.resolve("sql-b"), StateMachineKind.SQL, "demo-sql-b", true)) {
            sqlTour(a, b);
        }
        return String.format("demo ok (backups): full, incremental and differential backups taken while serving,"
                + " deep-verified, a damaged copy refused, a hot rollback, cold restores by index and by time, and a"
                + " SQL table restored from its file into another cluster; every step checked (%.1f s)", seconds());
    }

    private void kvTour(DemoCluster kv) throws Exception {
        say("Starting three key-value nodes, each with a backup root (as raftkit server --backup-root), in %s",
                kv.dataDir());
        kv.startFounders();
        long leader = kv.awaitLeader(0);
        say("node %d leads; the commands below run with -c $KV --cluster-id %s, KV=%s", leader, kv.clusterId(),
                kv.addresses());
        load = startLoad(kv.client());
        try {
            backups(kv);
        } finally {
            stopLoad();
        }
    }

    private void backups(DemoCluster kv) throws Exception {
        section("1. Writes, and a full backup from a follower while a client writes");
        long lastWrite = write(kv.client(), writesPerBatch);
        long follower = kv.follower();
        Path chainDir = kv.backupRoot(follower).resolve(CHAIN);
        int loadBefore = loadAcked.size();
        Ran full = kvCli(kv, "backup", "full", "--dir", CHAIN, "--node", String.valueOf(follower), "--quiet");
        long fullIndex = number(full, "snapshot at index (\\d+)");
        BackupChain chain = BackupChain.discover(chainDir);
        check(chain.backups().size() == 1 && chain.full().manifest().lastIndex() == fullIndex
                && chain.full().manifest().sourceNode() == follower, "one full backup at index " + fullIndex
                + " by node " + follower + " in " + chainDir, describe(chain));
        check(fullIndex >= lastWrite, "the full backup to hold the last acknowledged write (index " + lastWrite + ")",
                "a snapshot at index " + fullIndex);
        kv.await("the client's writes to go on", () -> loadAcked.size() > loadBefore + 10);
        say("checked: the manifest says full, index %d, node %d; the client kept writing (%,d writes acknowledged"
                + " since the backup began)", fullIndex, follower, loadAcked.size() - loadBefore);

        section("2. More writes and an incremental; more and a differential");
        write(kv.client(), writesPerBatch);
        Ran inc = kvCli(kv, "backup", "incremental", "--dir", CHAIN, "--node", String.valueOf(follower), "--quiet");
        check(!inc.err.contains("took a full backup instead"), "an incremental, not a fallback", inc.err);
        long[] incRange = range(inc);
        check(incRange[0] == fullIndex + 1, "the incremental to start right after the full backup, at "
                + (fullIndex + 1), "entries " + incRange[0] + ".." + incRange[1]);
        write(kv.client(), writesPerBatch);
        Ran diff = kvCli(kv, "backup", "differential", "--dir", CHAIN, "--node", String.valueOf(follower), "--quiet");
        check(!diff.err.contains("took a full backup instead"), "a differential, not a fallback", diff.err);
        long[] diffRange = range(diff);
        check(diffRange[0] == fullIndex + 1 && diffRange[1] > incRange[1], "the differential to hold every entry"
                + " since the full backup, " + (fullIndex + 1) + ".." + "(beyond " + incRange[1] + ")",
                "entries " + diffRange[0] + ".." + diffRange[1]);
        long diffIndex = diffRange[1];
        chain = BackupChain.discover(chainDir);
        List<BackupKind> kinds = chain.backups().stream().map(b -> b.manifest().kind()).toList();
        check(kinds.equals(List.of(BackupKind.FULL, BackupKind.DIFFERENTIAL)),
                "the restore path to be the full backup + the differential (the incremental is not needed)",
                describe(chain));
        say("checked: the restore path is %s (full + differential; the incremental is skipped)",
                chain.describePath());

        afterBackups.accept(chainDir);

        section("3. Verify --deep: the state rebuilt from the chain against each manifest's digest");
        Ran verify = cli("backup", "verify", "--dir", chainDir.toString(), "--deep");
        check(verify.exit == 0, "verify --deep to pass (exit 0)", verify.all());
        int matches = count(verify.out, "state digest matches");
        check(matches == chain.backups().size() && verify.out.contains("(uses " + chain.describePath() + ")"),
                chain.backups().size() + " digests matching, on the path " + chain.describePath(), verify.out);
        say("checked: %d of %d digests compared and equal", matches, chain.backups().size());
        Path copy = dataDir.resolve("damaged-copy");
        copyTree(chainDir, copy);
        Path damaged = damage(copy.resolve(chain.last().dir().getFileName()));
        say("a copy of the chain in %s, one byte of %s flipped (the real chain is untouched)", copy,
                copy.relativize(damaged));
        Ran refused = cli("backup", "verify", "--dir", copy.toString(), "--deep");
        check(refused.exit == 1 && refused.err.contains(damaged.toString()),
                "the damaged copy refused (exit 1) naming " + damaged, refused.all());
        Ran stillGood = cli("backup", "verify", "--dir", chainDir.toString());
        check(stillGood.exit == 0, "the real chain still sound", stillGood.all());
        say("checked: the copy is refused, naming %s; the real chain still verifies", copy.relativize(damaged));

        section("4. Hot rollback (restore --live) to the differential's index while the client writes");
        String marker = "tour:written-after-the-backup";
        long markerIndex = KvOps.written(kv.client().submit(KvOps.put(marker, "gone after the rollback")));
        check(found(kv.client(), marker).isPresent(), marker + " readable before the rollback", "it is not");
        say("wrote %s at index %d, after the differential (index %d)", marker, markerIndex, diffIndex);
        int loadBeforeSwitch = loadAcked.size();
        Ran live = kvCli(kv, "restore", "--live", "--from", CHAIN, "--node", String.valueOf(follower), "--index",
                String.valueOf(diffIndex), "--quiet");
        long switchIndex = number(live, "switched at index (\\d+)");
        check(live.out.contains("to the backup's state at index " + diffIndex) && switchIndex > markerIndex,
                "a switch after index " + markerIndex + " to the state at index " + diffIndex, live.out);
        check(found(kv.client(), marker).isEmpty(), marker + " gone after the switch (a linearizable read)",
                "it is still there");
        check(found(kv.client(), lastKey()).isPresent(), "the last tour key, in the differential, still there",
                lastKey() + " is missing");
        kv.await("the client's writes to go on after the switch", () -> loadAcked.entrySet().stream()
                .filter(e -> e.getValue() > switchIndex).count() >= 20);
        stopLoad();
        Map<String, Long> now = scan(kv.client(), "load:");
        int rolledBack = 0;
        int kept = 0;
        for (Map.Entry<String, Long> w : loadAcked.entrySet()) {
            long index = w.getValue();
            boolean there = now.containsKey(w.getKey());
            if (index > diffIndex && index < switchIndex) {
                check(!there, w.getKey() + " (index " + index + ", between the backup and the switch) rolled back",
                        "it is there");
                rolledBack++;
            } else {
                check(there, w.getKey() + " (index " + index + ", " + (index <= diffIndex ? "in the backup"
                        : "after the switch") + ") there", "it is missing");
                kept++;
            }
        }
        // A write whose answer the client gave up on may be there too, but never one from between
        // the backup and the switch: the version of a key is the log index it was written at.
        for (Map.Entry<String, Long> k : now.entrySet()) {
            check(k.getValue() <= diffIndex || k.getValue() > switchIndex, "no key from between the backup and the"
                    + " switch", k.getKey() + " written at index " + k.getValue());
        }
        say("checked: switched at index %d; %s is gone; %d of the client's writes made between the backup and the"
                + " switch rolled back, the %,d others there, %d of them written since", switchIndex, marker, rolledBack, kept,
                loadAcked.values().stream().filter(i -> i > switchIndex).count());

        section("5. Cold restores of the chain into new directories, by index and by time");
        Path restored = dataDir.resolve("restored-by-index");
        Ran cold = cli("restore", "--from", chainDir.toString(), "--data", restored.toString(), "--index",
                String.valueOf(diffIndex), "--quiet");
        check(cold.exit == 0, "the restore to succeed", cold.all());
        long coldIndex = number(cold, "restored to index (\\d+)");
        String diffDigest = chain.last().manifest().stateDigest();
        check(coldIndex == diffIndex && cold.out.contains("(last: " + diffDigest + ")"),
                "index " + diffIndex + ", the rebuilt state's digest " + diffDigest + " (the differential's)", cold.out);
        check(Files.isDirectory(restored), "a data directory at " + restored, "none");
        say("checked: restored to index %d, the rebuilt state's digest equals the differential's manifest", coldIndex);
        BackupManifest incManifest = null;
        for (Path dir : BackupChain.backupDirs(FileIo.real(), chainDir)) {
            BackupManifest m = BackupManifest.read(dir);
            if (m.kind() == BackupKind.INCREMENTAL) {
                incManifest = m;
            }
        }
        check(incManifest != null && incManifest.lastTime() != null, "the incremental's manifest with its log time",
                String.valueOf(incManifest));
        Path byTime = dataDir.resolve("restored-by-time");
        Ran timed = cli("restore", "--from", chainDir.toString(), "--data", byTime.toString(), "--time",
                incManifest.lastTime().toString(), "--quiet");
        check(timed.exit == 0, "the restore by time to succeed", timed.all());
        long timedIndex = number(timed, "restored to index (\\d+)");
        check(timedIndex >= incRange[1] && timedIndex <= diffIndex && timed.out.contains(": index " + timedIndex
                        + ", the last entry at or before it"),
                "the last entry stamped at or before " + incManifest.lastTime() + " (the incremental's last, "
                        + incRange[1] + ", or one stamped in the same instant)", timed.out);
        say("checked: --time %s restored up to index %d, the last entry the leader stamped by then",
                incManifest.lastTime(), timedIndex);
    }

    private void sqlTour(DemoCluster a, DemoCluster b) throws Exception {
        section("6. SQL: BACKUP TABLE to a file, RESTORE TABLE FROM FILE into another cluster");
        a.startFounders();
        b.startFounders();
        a.awaitLeader(0);
        b.awaitLeader(0);
        say("two 3-node SQL clusters: A (-c $A, %s) and B (-c $B, %s)", a.clusterId(), b.clusterId());
        sql(a, "CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT);");
        sql(a, "INSERT INTO example VALUES (1, 'Alice', 30), (2, 'Bob', 25), (3, 'Carol', 41);");
        String backedUp = sql(a, "SELECT * FROM example ORDER BY id;");
        sql(a, "BACKUP TABLE example TO 'example_backup';");
        Path artifact = a.backupRoot(1).resolve(StateMachineKind.SQL_TABLES_DIR).resolve("example_backup.rktable");
        a.await("the table artifact on node 1", () -> Files.isRegularFile(artifact));
        sql(a, "UPDATE example SET age = age + 1 WHERE id = 1;");
        sql(a, "DELETE FROM example WHERE id = 2;");
        String changed = sql(a, "SELECT * FROM example ORDER BY id;");
        check(!changed.equals(backedUp), "the table changed after the backup", changed);
        Ran absent = sqlCli(b, "SELECT count(*) FROM example;");
        check(absent.exit != 0, "cluster B, another cluster, to have no table example yet", absent.all());
        sql(b, "RESTORE TABLE example FROM FILE '" + artifact + "';");
        String restored = sql(b, "SELECT * FROM example ORDER BY id;");
        check(restored.equals(backedUp), "cluster B to hold exactly the backed-up rows:\n" + backedUp, restored);
        say("checked: cluster B holds exactly the 3 rows cluster A backed up, not A's current ones");
        Path bad = dataDir.resolve("example_damaged.rktable");
        Files.copy(artifact, bad);
        byte[] bytes = Files.readAllBytes(bad);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(bad, bytes);
        Ran refused = sqlCli(b, "RESTORE TABLE example FROM FILE '" + bad + "';");
        check(refused.exit != 0 && refused.all().contains(bad.getFileName().toString()),
                "the damaged artifact refused, naming " + bad.getFileName(), refused.all());
        String after = sql(b, "SELECT * FROM example ORDER BY id;");
        check(after.equals(backedUp), "the refused restore to leave cluster B's table as it was", after);
        say("checked: a damaged copy of the artifact is refused by name and changes nothing");
    }

    /** Runs one statement with {@code raftkit sql -e} on {@code cluster}; returns what it printed. */
    private String sql(DemoCluster cluster, String statement) {
        Ran r = sqlCli(cluster, statement);
        check(r.exit == 0, "'" + statement + "' to succeed", r.all());
        return r.out;
    }

    private Ran sqlCli(DemoCluster cluster, String statement) {
        out.println("sql " + (cluster.clusterId().endsWith("a") ? "A" : "B") + "> " + statement);
        Ran r = run(List.of("sql", "-e", statement, "-c", cluster.addresses(), "--cluster-id", cluster.clusterId(),
                "--no-history"));
        show(r);
        return r;
    }

    /** Runs a {@code raftkit} command against the key-value cluster, showing it and what it printed. */
    private Ran kvCli(DemoCluster kv, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-c", kv.addresses(), "--cluster-id", kv.clusterId()));
        out.println("$ raftkit " + String.join(" ", args) + " -c $KV --cluster-id " + kv.clusterId());
        Ran r = run(all);
        show(r);
        check(r.exit == 0, "raftkit " + args[0] + " " + args[1] + " to succeed (exit 0)", r.all());
        return r;
    }

    /** Runs a local {@code raftkit} command (no cluster), showing it and what it printed. */
    private Ran cli(String... args) {
        out.println("$ raftkit " + String.join(" ", args));
        Ran r = run(List.of(args));
        show(r);
        return r;
    }

    private static Ran run(List<String> args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        var cl = Raftkit.commandLine();
        cl.setOut(new PrintWriter(o));
        cl.setErr(new PrintWriter(e));
        int exit = cl.execute(args.toArray(String[]::new));
        return new Ran(exit, o.toString(), e.toString());
    }

    private void show(Ran r) {
        r.out.lines().forEach(l -> out.println("  " + l));
        r.err.lines().forEach(l -> out.println("  (stderr) " + l));
        out.flush();
    }

    /** One command's exit code and output. */
    private record Ran(int exit, String out, String err) {
        String all() {
            return "exit " + exit + "; out: " + out.strip() + "; err: " + err.strip();
        }
    }

    /** Writes {@code count} new tour keys, 32 in flight; returns the log index of the last acknowledged. */
    private long write(RaftClient client, int count) {
        List<CompletableFuture<Long>> inFlight = new ArrayList<>();
        long last = 0;
        for (int i = 0; i < count; i++) {
            String key = String.format("tour:%06d", nextKey++);
            inFlight.add(client.submitAsync(KvOps.put(key, "v" + key)).thenApply(KvOps::written));
            if (inFlight.size() == 32 || i == count - 1) {
                for (CompletableFuture<Long> f : inFlight) {
                    last = Math.max(last, f.join());
                }
                inFlight.clear();
            }
        }
        say("wrote %,d keys (tour:%06d..tour:%06d), acknowledged up to index %d", count, nextKey - count,
                nextKey - 1, last);
        return last;
    }

    private void stopLoad() throws InterruptedException {
        stopLoad.set(true);
        load.join(TimeUnit.SECONDS.toMillis(30));
    }

    /** Every key under {@code prefix} and its version, by linearizable reads a page at a time. */
    private static Map<String, Long> scan(RaftClient client, String prefix) {
        Map<String, Long> found = new TreeMap<>();
        byte[] after = new byte[0];
        while (true) {
            KvResult.Scanned page = KvOps.scanned(client.read(KvOps.scan(prefix.getBytes(StandardCharsets.UTF_8),
                    after, 5_000), ReadMode.LINEARIZABLE));
            for (KvEntry e : page.entries()) {
                found.put(new String(e.key(), StandardCharsets.UTF_8), e.version());
                after = e.key();
            }
            if (!page.more() || page.entries().isEmpty()) {
                return found;
            }
        }
    }

    private String lastKey() {
        return String.format("tour:%06d", nextKey - 1);
    }

    /** The background client: one write at a time until the tour stops it, each acknowledged one remembered. */
    private Thread startLoad(RaftClient client) {
        Thread t = new Thread(() -> {
            for (int n = 0; !stopLoad.get(); n++) {
                String key = String.format("load:%06d", n);
                try {
                    loadAcked.put(key, KvOps.written(client.submit(KvOps.put(key, "l" + n))));
                } catch (RuntimeException e) {
                    // Not acknowledged (the client gave up): not checked, and the next write goes on.
                }
            }
        }, "demo-backup-tour-client");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static Optional<byte[]> found(RaftClient client, String key) {
        return KvOps.found(client.read(KvOps.get(key), ReadMode.LINEARIZABLE)).map(KvEntry::value);
    }

    /** Fails the tour unless {@code ok}: what the step expected and what it saw. */
    private void check(boolean ok, String expected, String seen) {
        if (!ok) {
            throw new IllegalStateException("step " + step + ": expected " + expected + "; saw " + seen);
        }
    }

    private long number(Ran r, String regex) {
        Matcher m = Pattern.compile(regex).matcher(r.out);
        check(m.find(), "/" + regex + "/ in the output", r.all());
        return Long.parseLong(m.group(1));
    }

    private long[] range(Ran r) {
        Matcher m = Pattern.compile("entries (\\d+)\\.\\.(\\d+)").matcher(r.out);
        check(m.find(), "'entries A..B' in the output", r.all());
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static String describe(BackupChain chain) {
        StringBuilder b = new StringBuilder();
        for (BackupChain.Backup x : chain.backups()) {
            b.append(b.length() == 0 ? "" : ", ").append(x.dir().getFileName()).append(' ')
                    .append(x.manifest().kind()).append(" to index ").append(x.manifest().lastIndex())
                    .append(" by node ").append(x.manifest().sourceNode());
        }
        return "[" + b + "]";
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** Flips one byte in the middle of the largest file of {@code backup} but its manifest; returns the file. */
    private static Path damage(Path backup) throws IOException {
        Path victim;
        try (Stream<Path> files = Files.list(backup)) {
            victim = files.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().equals(BackupManifest.FILE_NAME))
                    .max((x, y) -> Long.compare(x.toFile().length(), y.toFile().length())).orElseThrow(
                            () -> new IllegalStateException("no data file in " + backup));
        }
        byte[] bytes = Files.readAllBytes(victim);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(victim, bytes);
        return victim;
    }

    private void section(String title) {
        step++;
        out.println();
        say("%s", title);
    }

    private void say(String format, Object... args) {
        out.printf("[%5.1fs] %s%n", seconds(), String.format(format, args));
        out.flush();
    }

    private double seconds() {
        return (System.nanoTime() - started) / 1e9;
    }
}
