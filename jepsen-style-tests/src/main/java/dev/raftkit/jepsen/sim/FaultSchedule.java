package dev.raftkit.jepsen.sim;

import dev.raftkit.runtime.RaftServerBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What the nemesis does and when: a list of {@link Step}s, each an {@link Action} at a tick of the
 * faulty phase, held for some ticks. A random run records the schedule it drew
 * ({@link SimResult#schedule()}); {@link SimOptions#withSchedule} runs a given one instead of the
 * random nemesis, so a person can script one exact situation and a shrinker can cut a failing
 * run down. Everything else (message delays, client operations, fsync times) still comes from
 * the seed, and replaying a run's recorded schedule with its seed reproduces it bit for bit
 * (equal {@link SimResult#traceHash()}).
 *
 * <p>The text form, one step a line ({@code #} starts a comment):
 * <pre>
 * at 120 partition isolate 2 for 45        # also: split 1,3 | 2 · bridge 1 between 2 | 3 · ring 1,3,2 · one-way 1 -> 2
 * at 170 crash 3 for 20                    # power cut; restarted 20 ticks later
 * at 200 crash 1 after-answer for 30       # crash just after its next granted vote or accepted append
 * at 230 crash 3 at snapshot-manifest for 20   # power cut at its next such file operation (see CrashAt)
 * at 260 wipe 2 for 40                     # crash, empty the data directory, restart under the same id
 * at 270 stale 3 for 60                    # copy its directory now; in 60 ticks restart it on that copy
 * at 300 disk 3 eio for 30                 # or: disk 3 full, disk 3 hang (every fsync waits)
 * at 310 disk 3 fill for 40                # free space below the watermark (writes still succeed)
 * at 320 disk 3 slow-fsync for 30          # every fsync takes 80 ms (over diskSlowMillis)
 * at 340 corrupt 2 pick 7 for 40           # flip one synced bit (file, offset and bit chosen by pick)
 * at 380 clock 3 rate +4% for 50          # its ticks 4% fast; also: clock 3 jump -2000ms for 50
 * at 400 pause 1 for 20
 * at 420 slow 2 for 20
 * at 450 snapshot 3
 * at 470 loss 12% for 30                   # also: duplicate 8% for 30 · reorder for 30
 * at 520 membership add-learner 4          # also: promote 4 · remove 2 · demote 2
 * at 560 transfer 3
 * at 600 backup 2 full                     # also: backup 2 incremental|differential (falls back to full when it must)
 * at 640 restore 2                         # restore node 2's newest backup chain on a spare machine
 * at 660 restore 2 gap pick 3              # an increment lost from a copy of the root: must be refused
 * at 680 restore 2 crash pick 17           # a power cut at the restore's 17th file operation, then again
 * at 690 restore 2 concurrent 3            # one restore into 3 spare directories at once (a new cluster)
 * at 700 restore 2 concurrent 3 crash pick 40   # the same, cut by a power loss at its 40th file operation
 * </pre>
 * A tick is {@link SimOptions#TICK_MICROS} of virtual time from the start of the run. The
 * simulator keeps its fault model's rules over a given schedule too: a step that would, say,
 * wipe a node while another is down, or crash a node that is already down, is skipped and the
 * trace says so.
 *
 * @param steps in order of tick (ties keep their order)
 */
public record FaultSchedule(List<Step> steps) {

    public FaultSchedule {
        List<Step> sorted = new ArrayList<>(steps);
        sorted.sort(Comparator.comparingLong(Step::tick));
        steps = List.copyOf(sorted);
    }

    /** No faults at all. */
    public static final FaultSchedule EMPTY = new FaultSchedule(List.of());

    /**
     * One thing the nemesis does.
     *
     * @param tick  when, in ticks since the run began
     * @param action what
     * @param ticks how long it is held (a crash: until the restart); 0 for instant actions
     */
    public record Step(long tick, Action action, long ticks) {
        public Step {
            if (tick < 0 || ticks < 0) {
                throw new IllegalArgumentException("a step's tick and duration must not be negative: at " + tick
                        + " " + action.text() + " for " + ticks);
            }
        }

        /** The step as a line of the text form. */
        public String text() {
            return "at " + tick + " " + action.text() + (action.held() ? " for " + ticks : "");
        }
    }

    /** What a step does; {@link #text()} is its form in a schedule file. */
    public sealed interface Action permits Partition, Loss, Duplicate, Reorder, Crash, CrashAt, Wipe, Stale, Disk, Hang, Fill, SlowSync, Corrupt,
            ClockRate, ClockJump, Pause, Slow, Snapshot, Membership, Transfer, Backup, Restore {
        /** The action as written in a schedule. */
        String text();

        /** Whether it lasts (and so takes {@code for N}): all but snapshots, membership changes, transfers, backups, restores. */
        default boolean held() {
            return !(this instanceof Snapshot || this instanceof Membership || this instanceof Transfer
                    || this instanceof Backup || this instanceof Restore);
        }

        /** The node it aims at, or 0 if it is not aimed at one node. */
        default long node() {
            return 0;
        }
    }

    /**
     * Cut links. {@code shape} is one of {@code isolate N}, {@code split A,B | C,D} (every link
     * between the groups both ways), {@code bridge N between A,B | C,D} (the groups are cut from
     * each other but both reach N), {@code ring A,B,C,…} (each node reaches only its neighbours),
     * {@code one-way A -> B} (A's messages to B are lost; B's to A pass).
     */
    public record Partition(String shape) implements Action {
        public Partition {
            shape = shape.trim().replaceAll("\\s+", " ");
            cut(shape, List.of()); // validates
        }

        @Override
        public String text() {
            return "partition " + shape;
        }

        /** The directed links ({@link SimNetwork#link}) this partition cuts among {@code nodes}. */
        Set<Long> links(List<Long> nodes) {
            return cut(shape, nodes);
        }

        /** The node ids the shape names. */
        List<Long> named() {
            List<Long> out = new ArrayList<>();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+").matcher(shape);
            while (m.find()) {
                out.add(Long.parseLong(m.group()));
            }
            return out;
        }

        private static Set<Long> cut(String shape, List<Long> nodes) {
            String[] w = shape.trim().split("\\s+", 2);
            String rest = w.length > 1 ? w[1] : "";
            Set<Long> cut = new HashSet<>();
            switch (w[0]) {
                case "isolate" -> {
                    long n = nodeId(rest, shape);
                    cutBetween(List.of(n), nodes.stream().filter(o -> o != n).toList(), cut);
                }
                case "split" -> {
                    String[] g = groups(rest, shape);
                    cutBetween(ids(g[0], shape), ids(g[1], shape), cut);
                }
                case "bridge" -> {
                    String[] b = rest.split("\\s+between\\s+", 2);
                    if (b.length != 2) {
                        throw bad(shape, "bridge N between A,B | C,D");
                    }
                    nodeId(b[0], shape);
                    String[] g = groups(b[1], shape);
                    cutBetween(ids(g[0], shape), ids(g[1], shape), cut);
                }
                case "ring" -> {
                    List<Long> ids = ids(rest, shape);
                    for (int i = 0; i < ids.size(); i++) {
                        for (int j = 0; j < ids.size(); j++) {
                            int d = Math.abs(i - j);
                            if (i != j && d != 1 && d != ids.size() - 1) {
                                cut.add(SimNetwork.link(ids.get(i), ids.get(j)));
                            }
                        }
                    }
                }
                case "one-way" -> {
                    String[] ab = rest.split("\\s*->\\s*", 2);
                    if (ab.length != 2) {
                        throw bad(shape, "one-way A -> B");
                    }
                    cut.add(SimNetwork.link(nodeId(ab[0], shape), nodeId(ab[1], shape)));
                }
                default -> throw bad(shape, "isolate, split, bridge, ring or one-way");
            }
            return cut;
        }

        private static void cutBetween(List<Long> a, List<Long> b, Set<Long> cut) {
            for (long x : a) {
                for (long y : b) {
                    cut.add(SimNetwork.link(x, y));
                    cut.add(SimNetwork.link(y, x));
                }
            }
        }

        private static String[] groups(String s, String shape) {
            String[] g = s.split("\\s*\\|\\s*", 2);
            if (g.length != 2) {
                throw bad(shape, "two groups A,B | C,D");
            }
            return g;
        }
    }

    /** Drop {@code percent} of all messages. */
    public record Loss(int percent) implements Action {
        public Loss {
            checkPercent(percent);
        }

        @Override
        public String text() {
            return "loss " + percent + "%";
        }
    }

    /** Deliver {@code percent} of all messages twice. */
    public record Duplicate(int percent) implements Action {
        public Duplicate {
            checkPercent(percent);
        }

        @Override
        public String text() {
            return "duplicate " + percent + "%";
        }
    }

    /** Widen message delays by up to 50 ms, so messages overtake each other. */
    public record Reorder() implements Action {
        @Override
        public String text() {
            return "reorder";
        }
    }

    /**
     * Power cut on {@code node} (everything not fsync'd is lost), restarted when the step ends;
     * {@code afterAnswer}: only just after its next granted vote or accepted append.
     */
    public record Crash(long node, boolean afterAnswer) implements Action {
        @Override
        public String text() {
            return "crash " + node + (afterAnswer ? " after-answer" : "");
        }
    }

    /**
     * Power cut on {@code node} at the next file operation of a kind, before it takes effect
     * (restarted {@code for} ticks after it fires): {@code append} (a write to a log segment),
     * {@code hard-state} (writing term and vote), {@code snapshot-data} (writing a snapshot's image,
     * taken or received), {@code snapshot-manifest} (between the image and its metadata), {@code
     * snapshot-commit} (the rename that makes a snapshot visible), {@code log-meta} (installing a
     * snapshot into the log), {@code compaction} (deleting compacted segments).
     */
    public record CrashAt(long node, String point) implements Action {
        /** The points, as written. */
        public static final List<String> POINTS = List.of("append", "hard-state", "snapshot-data", "snapshot-manifest",
                "snapshot-commit", "log-meta", "compaction", "backup");

        public CrashAt {
            if (!POINTS.contains(point)) {
                throw new IllegalArgumentException("crash point '" + point + "': use " + String.join(", ", POINTS));
            }
        }

        @Override
        public String text() {
            return "crash " + node + " at " + point;
        }

        /** Whether file operation {@code op} on {@code path} (absolute) is this point. */
        boolean matches(String op, String path) {
            return switch (point) {
                case "append" -> op.equals("write") && path.contains("/log/log_");
                case "hard-state" -> (op.equals("write") || op.equals("move")) && path.contains("/log/hardstate");
                case "snapshot-data" -> op.equals("write") && path.contains("/snapshots/") && path.endsWith("/data");
                case "snapshot-manifest" -> op.equals("write") && path.contains("/snapshots/") && path.contains("manifest");
                case "snapshot-commit" -> op.equals("move") && path.contains("/snapshots/");
                case "log-meta" -> (op.equals("write") || op.equals("move")) && path.contains("/log/log.meta");
                case "backup" -> (op.equals("write") || op.equals("move")) && path.contains("/backups");
                default -> op.equals("delete") && path.contains("/log/log_");
            };
        }
    }

    /** Crash {@code node}, empty its data directory, restart it under the same id when the step ends. */
    public record Wipe(long node) implements Action {
        @Override
        public String text() {
            return "wipe " + node;
        }
    }

    /**
     * Copy {@code node}'s data directory as its disk holds it now (what was synced); when the step
     * ends, crash the node, put the copy back and restart it under the same id: a node restarted on
     * an older copy of its directory (a restored VM image, a copied-back directory). It cannot tell
     * by itself; its leader must, from its acknowledgements (§3.8).
     */
    public record Stale(long node) implements Action {
        @Override
        public String text() {
            return "stale " + node;
        }
    }

    /** {@code node}'s disk fails every write and fsync (EIO), or is full (ENOSPC), while the step lasts. */
    public record Disk(long node, boolean full) implements Action {
        @Override
        public String text() {
            return "disk " + node + (full ? " full" : " eio");
        }
    }

    /**
     * One bit flipped in bytes {@code node} had synced (file, offset and bit drawn from {@code
     * pick}); if the node has not found it when the step ends, it is restarted and finds it then.
     */
    public record Corrupt(long node, long pick) implements Action {
        @Override
        public String text() {
            return "corrupt " + node + " pick " + pick;
        }
    }

    /**
     * {@code node}'s ticks run {@code percent} faster (negative: slower), as a drifting oscillator
     * would; back to the true rate when the step ends.
     */
    public record ClockRate(long node, int percent) implements Action {
        public ClockRate {
            if (percent <= -100 || percent > 1000) {
                throw new IllegalArgumentException("a clock rate change between -99% and +1000%, got " + percent + "%");
            }
        }

        @Override
        public String text() {
            return "clock " + node + " rate " + (percent >= 0 ? "+" : "") + percent + "%";
        }
    }

    /** {@code node}'s wall clock jumps by {@code millis} (an NTP step, a VM migration); it steps back when the step ends. */
    public record ClockJump(long node, long millis) implements Action {
        @Override
        public String text() {
            return "clock " + node + " jump " + (millis >= 0 ? "+" : "") + millis + "ms";
        }
    }

    /** Freeze {@code node} (a long GC pause). */
    public record Pause(long node) implements Action {
        @Override
        public String text() {
            return "pause " + node;
        }
    }

    /** {@code node}'s fsyncs and processing ten times slower. */
    public record Slow(long node) implements Action {
        @Override
        public String text() {
            return "slow " + node;
        }
    }

    /**
     * {@code node}'s fsyncs hang: each one started while the fault lasts returns only when it ends
     * (a device that stopped answering). Its log writer stalls; a leader must step down within
     * {@code diskStallTicks} ({@code RaftServerBuilder#diskStallTicks}).
     */
    public record Hang(long node) implements Action {
        @Override
        public String text() {
            return "disk " + node + " hang";
        }
    }

    /**
     * {@code node}'s disk reports only {@code SimHost.FILL_BYTES} free, below the runtime's
     * {@code minFreeDiskBytes}, while writes still succeed: as leader it must refuse new
     * proposals with DISK_FULL (the checker fails a write it acknowledges), replicate what its
     * log holds, and accept proposals again once the fill is lifted.
     */
    public record Fill(long node) implements Action {
        @Override
        public String text() {
            return "disk " + node + " fill";
        }
    }

    /**
     * Every fsync of {@code node} takes {@code SimHost.SLOW_SYNC_MICROS}, over the runtime's
     * {@code diskSlowMillis}: a leader must step down once the first one returns (the checker
     * bounds it and traces the measured virtual time).
     */
    public record SlowSync(long node) implements Action {
        @Override
        public String text() {
            return "disk " + node + " slow-fsync";
        }
    }

    /** {@code node} snapshots its state machine and compacts its log now. */
    public record Snapshot(long node) implements Action {
        @Override
        public String text() {
            return "snapshot " + node;
        }
    }

    /** The leader changes membership: {@code op} is add-learner, promote, remove or demote. */
    public record Membership(String op, long node) implements Action {
        public Membership {
            if (!List.of("add-learner", "promote", "remove", "demote").contains(op)) {
                throw new IllegalArgumentException("membership '" + op + "': use add-learner, promote, remove or demote");
            }
        }

        @Override
        public String text() {
            return "membership " + op + " " + node;
        }
    }

    /** The leader hands leadership over to {@code node}. */
    public record Transfer(long node) implements Action {
        @Override
        public String text() {
            return "transfer " + node;
        }
    }

    /**
     * {@code node} takes a backup into its backup root ({@code /sim/backups-N} on its disk, as
     * {@code raftkit backup} writes one on the node's machine) while it serves: a full one, or an
     * incremental one continuing the newest chain there.
     */
    public record Backup(long node, boolean incremental, boolean differential) implements Action {
        /** A full or an incremental backup. */
        public Backup(long node, boolean incremental) {
            this(node, incremental, false);
        }

        public Backup {
            if (incremental && differential) {
                throw new IllegalArgumentException("a backup is incremental or differential, not both");
            }
        }

        /** What is taken. */
        public dev.raftkit.storage.backup.BackupKind kind() {
            return differential ? dev.raftkit.storage.backup.BackupKind.DIFFERENTIAL
                    : incremental ? dev.raftkit.storage.backup.BackupKind.INCREMENTAL
                    : dev.raftkit.storage.backup.BackupKind.FULL;
        }

        @Override
        public String text() {
            return "backup " + node + " " + kind().word();
        }
    }

    /**
     * An operator restores the newest backup chain of {@code node}'s backup root (a copy of it, as
     * its disk holds it) on a spare machine and starts a node there: {@code plain}, to a point the
     * chain covers; {@code gap}, after losing one increment of the copy (the chain must then be
     * refused); {@code crash}, with a power cut at the restore's {@code pick}-th file operation
     * (no data directory may be left half-written; a second restore then succeeds); {@code live},
     * the running cluster rolled back to the chain's last index (hot recovery: one log entry every
     * replica switches its state at, the history recording it as a write of every key); {@code
     * concurrent}, the chain restored into {@code copies} spare directories in one call of the
     * multi-directory restore (the seeding of a new cluster), and {@code concurrent-crash}, the
     * same cut by a power loss at its {@code pick}-th file operation (no directory may be
     * published before all were written, a published one must be whole, and a second restore into
     * those left then succeeds). {@code copies} is 1 for every variant but the concurrent ones.
     */
    public record Restore(long node, String variant, long pick, int copies) implements Action {
        public static final List<String> VARIANTS = List.of("plain", "gap", "crash", "live");
        /** The concurrent variants, drawn by the nemesis in place of some plain and crash restores. */
        public static final List<String> CONCURRENT = List.of("concurrent", "concurrent-crash");
        /** The most directories one concurrent restore writes. */
        public static final int MAX_COPIES = 9;

        public Restore {
            if (!VARIANTS.contains(variant) && !CONCURRENT.contains(variant)) {
                throw new IllegalArgumentException("restore variant '" + variant + "': use plain, gap, crash, live,"
                        + " concurrent or concurrent-crash");
            }
            if (CONCURRENT.contains(variant) ? copies < 2 || copies > MAX_COPIES : copies != 1) {
                throw new IllegalArgumentException("restore " + node + " " + variant + ": " + copies + " directories;"
                        + (CONCURRENT.contains(variant) ? " a concurrent restore writes 2 to " + MAX_COPIES
                        : " only a concurrent restore writes more than 1"));
            }
        }

        /** A restore into one directory (every variant but the concurrent ones). */
        public Restore(long node, String variant, long pick) {
            this(node, variant, pick, 1);
        }

        @Override
        public String text() {
            return switch (variant) {
                case "plain" -> "restore " + node;
                case "live" -> "restore " + node + " live";
                case "concurrent" -> "restore " + node + " concurrent " + copies;
                case "concurrent-crash" -> "restore " + node + " concurrent " + copies + " crash pick " + pick;
                default -> "restore " + node + " " + variant + " pick " + pick;
            };
        }
    }

    /** The schedule in its text form, one step a line. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (Step s : steps) {
            sb.append(s.text()).append('\n');
        }
        return sb.toString();
    }

    /** Steps whose tick is before {@code ticks}. */
    public FaultSchedule before(long ticks) {
        return new FaultSchedule(steps.stream().filter(s -> s.tick() < ticks).toList());
    }

    /** The highest node id any step names, so a run can refuse a schedule for nodes it does not have. */
    long highestNode() {
        long max = 0;
        for (Step s : steps) {
            max = Math.max(max, highestNode(s));
        }
        return max;
    }

    /** The steps that name no node above {@code node} (for a run with fewer nodes). */
    public FaultSchedule upToNode(long node) {
        return new FaultSchedule(steps.stream().filter(s -> highestNode(s) <= node).toList());
    }

    private static long highestNode(Step s) {
        long max = s.action().node();
        if (s.action() instanceof Partition p) {
            for (long n : p.named()) {
                max = Math.max(max, n);
            }
        }
        return max;
    }

    /**
     * Parses the text form (see the class comment): blank lines and {@code #} comments are
     * skipped. Errors name the line.
     */
    public static FaultSchedule parse(String text) {
        List<Step> steps = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = stripComment(lines[i]);
            if (line.isEmpty()) {
                continue;
            }
            try {
                steps.add(parseStep(line));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("schedule line " + (i + 1) + " '" + line + "': " + e.getMessage(), e);
            }
        }
        return new FaultSchedule(steps);
    }

    static String stripComment(String line) {
        int hash = line.indexOf('#');
        return (hash >= 0 ? line.substring(0, hash) : line).trim();
    }

    /** One step: {@code at T ACTION [for N]}. */
    static Step parseStep(String line) {
        String[] w = line.trim().split("\\s+");
        if (w.length < 3 || !w[0].equals("at")) {
            throw new IllegalArgumentException("a step reads 'at TICK ACTION [for TICKS]'");
        }
        long tick = number(w[1], "tick");
        int end = w.length;
        long ticks = 0;
        if (w.length >= 5 && w[w.length - 2].equals("for")) {
            ticks = number(w[w.length - 1], "duration");
            end -= 2;
        }
        String[] a = Arrays.copyOfRange(w, 2, end);
        Action action = action(a);
        if (action.held() && ticks == 0) {
            throw new IllegalArgumentException("'" + a[0] + "' lasts: give 'for TICKS'");
        }
        if (!action.held() && ticks != 0) {
            throw new IllegalArgumentException("'" + a[0] + "' is instant: drop 'for'");
        }
        return new Step(tick, action, ticks);
    }

    private static Action action(String[] a) {
        String rest = String.join(" ", Arrays.copyOfRange(a, 1, a.length));
        return switch (a[0].toLowerCase(Locale.ROOT)) {
            case "partition" -> new Partition(rest);
            case "loss" -> new Loss(parsePercent(rest));
            case "duplicate" -> new Duplicate(parsePercent(rest));
            case "reorder" -> {
                arity(a, 1);
                yield new Reorder();
            }
            case "crash" -> {
                if (a.length == 4 && a[2].equals("at")) {
                    yield new CrashAt(nodeId(a[1], rest), a[3]);
                }
                if (a.length == 3 && a[2].equals("after-answer")) {
                    yield new Crash(nodeId(a[1], rest), true);
                }
                arity(a, 2);
                yield new Crash(nodeId(a[1], rest), false);
            }
            case "wipe" -> new Wipe(nodeId(one(a), rest));
            case "stale" -> new Stale(nodeId(one(a), rest));
            case "disk" -> {
                arity(a, 3);
                if (a[2].equals("hang")) {
                    yield new Hang(nodeId(a[1], rest));
                }
                if (a[2].equals("fill")) {
                    yield new Fill(nodeId(a[1], rest));
                }
                if (a[2].equals("slow-fsync")) {
                    yield new SlowSync(nodeId(a[1], rest));
                }
                if (!a[2].equals("eio") && !a[2].equals("full")) {
                    throw new IllegalArgumentException("disk N eio, disk N full, disk N hang, disk N fill, or disk N slow-fsync");
                }
                yield new Disk(nodeId(a[1], rest), a[2].equals("full"));
            }
            case "corrupt" -> {
                if (a.length == 2) {
                    yield new Corrupt(nodeId(a[1], rest), 0);
                }
                arity(a, 4);
                if (!a[2].equals("pick")) {
                    throw new IllegalArgumentException("corrupt N [pick P]");
                }
                yield new Corrupt(nodeId(a[1], rest), number(a[3], "pick"));
            }
            case "clock" -> {
                arity(a, 4);
                String v = a[3];
                if (a[2].equals("rate") && v.endsWith("%")) {
                    yield new ClockRate(nodeId(a[1], rest), (int) number(v.substring(v.startsWith("+") ? 1 : 0,
                            v.length() - 1), "rate"));
                }
                if (a[2].equals("jump") && v.endsWith("ms")) {
                    yield new ClockJump(nodeId(a[1], rest), number(v.substring(v.startsWith("+") ? 1 : 0,
                            v.length() - 2), "jump"));
                }
                throw new IllegalArgumentException("clock N rate +P%, or clock N jump +Mms");
            }
            case "pause" -> new Pause(nodeId(one(a), rest));
            case "slow" -> new Slow(nodeId(one(a), rest));
            case "snapshot" -> new Snapshot(nodeId(one(a), rest));
            case "membership" -> {
                arity(a, 3);
                yield new Membership(a[1], nodeId(a[2], rest));
            }
            case "transfer" -> new Transfer(nodeId(one(a), rest));
            case "backup" -> {
                arity(a, 3);
                if (!a[2].equals("full") && !a[2].equals("incremental") && !a[2].equals("differential")) {
                    throw new IllegalArgumentException("backup N full, or backup N incremental, or backup N differential");
                }
                yield new Backup(nodeId(a[1], rest), a[2].equals("incremental"), a[2].equals("differential"));
            }
            case "restore" -> {
                if (a.length == 2) {
                    yield new Restore(nodeId(a[1], rest), "plain", 0);
                }
                if (a.length == 3 && a[2].equals("live")) {
                    yield new Restore(nodeId(a[1], rest), "live", 0);
                }
                if (a[2].equals("concurrent")) {
                    String usage = "restore N concurrent K, or restore N concurrent K crash pick P (K directories, 2 to "
                            + Restore.MAX_COPIES + ")";
                    if (a.length != 4 && (a.length != 7 || !a[4].equals("crash") || !a[5].equals("pick"))) {
                        throw new IllegalArgumentException("'" + rest + "': " + usage);
                    }
                    long k = number(a[3], "number of directories");
                    if (k < 2 || k > Restore.MAX_COPIES) {
                        throw new IllegalArgumentException("'" + rest + "': " + k + " directories; " + usage);
                    }
                    yield a.length == 4 ? new Restore(nodeId(a[1], rest), "concurrent", 0, (int) k)
                            : new Restore(nodeId(a[1], rest), "concurrent-crash", number(a[6], "pick"), (int) k);
                }
                arity(a, 5);
                if (!a[3].equals("pick") || a[2].equals("plain")) {
                    throw new IllegalArgumentException("restore N, restore N live, restore N gap pick P, restore N crash"
                            + " pick P, restore N concurrent K, or restore N concurrent K crash pick P");
                }
                yield new Restore(nodeId(a[1], rest), a[2], number(a[4], "pick"));
            }
            default -> throw new IllegalArgumentException("unknown action '" + a[0] + "'; known: partition, loss,"
                    + " duplicate, reorder, crash, wipe, disk, corrupt, clock, pause, slow, snapshot, membership, transfer,"
                    + " backup, restore");
        };
    }

    private static String one(String[] a) {
        arity(a, 2);
        return a[1];
    }

    private static void arity(String[] a, int n) {
        if (a.length != n) {
            throw new IllegalArgumentException("'" + String.join(" ", a) + "': expected " + (n - 1) + " argument"
                    + (n == 2 ? "" : "s") + " after '" + a[0] + "'");
        }
    }

    private static int parsePercent(String s) {
        String t = s.trim();
        long p = number(t.endsWith("%") ? t.substring(0, t.length() - 1) : t, "percentage");
        return checkPercent((int) Math.min(p, 1000));
    }

    private static int checkPercent(int p) {
        if (p < 0 || p > 100) {
            throw new IllegalArgumentException("a percentage between 0 and 100, got " + p);
        }
        return p;
    }

    private static long number(String s, String what) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the " + what + " must be a whole number, got '" + s + "'");
        }
    }

    private static long nodeId(String s, String context) {
        long n = number(s, "node id");
        if (n < 1) {
            throw new IllegalArgumentException("node ids start at 1, got " + n + " in '" + context + "'");
        }
        return n;
    }

    private static List<Long> ids(String s, String shape) {
        List<Long> out = new ArrayList<>();
        for (String p : s.split("\\s*,\\s*")) {
            if (!p.isBlank()) {
                out.add(nodeId(p, shape));
            }
        }
        if (out.isEmpty()) {
            throw bad(shape, "a comma-separated list of node ids");
        }
        return out;
    }

    private static IllegalArgumentException bad(String shape, String expected) {
        return new IllegalArgumentException("partition '" + shape + "': expected " + expected);
    }
}
