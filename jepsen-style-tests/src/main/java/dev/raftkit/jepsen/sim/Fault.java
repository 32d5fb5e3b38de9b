package dev.raftkit.jepsen.sim;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The kinds of trouble the simulator's nemesis can cause. */
public enum Fault {
    /** Cut links: an isolated node, a majority/minority split, a bridge, a ring, or a one-way link. */
    PARTITION,
    /** Drop a fraction of messages for a while. */
    LOSS,
    /** Deliver some messages twice. */
    DUPLICATE,
    /** Widen message delays so messages overtake each other. */
    REORDER,
    /** Crash a node (losing everything not fsync'd) and restart it later from its durable state. */
    CRASH,
    /**
     * Crash a node, empty its data directory and restart it under the same id; or restart it on
     * an older copy of its data directory, taken when the step began (at most one node at a time,
     * and only while every other member is up and caught up).
     */
    WIPE,
    /**
     * The disk of one node at a time fails: EIO on every write and fsync, or a full disk
     * (ENOSPC), for a while; or latent corruption, a bit flipped in data it had synced (a log
     * segment, its hard state or meta, a snapshot), found when the file is next read or at the
     * next start. The node must stop or refuse to start, saying why (never serve, vote on or
     * acknowledge what it lost); the simulated operator then restarts it once the device works,
     * or replaces a damaged data directory with an empty one (the node rejoins recovering).
     */
    DISK,
    /**
     * A node's clock misbehaves for a while: its ticks run up to 5% fast or slow (within the drift
     * the leader lease allows, {@code leaseDriftTicks} of {@code electionTicks}), or its wall clock
     * jumps (which stamps the leader's entries, and so the log time sessions expire by).
     */
    CLOCK,
    /** Freeze a node for a while (a long GC pause); time catches up when it resumes. */
    PAUSE,
    /** Make a node's disk and processing slow for a while. */
    SLOW,
    /**
     * Snapshot a node's state machine and compact its log at random points and every 100 entries,
     * over 4 KiB log segments so that compaction drops entries and lagging followers are sent
     * snapshots.
     */
    SNAPSHOT,
    /** Remove and re-add voters, add learners and promote them. */
    MEMBERSHIP,
    /** Ask the leader to hand over to another voter. */
    TRANSFER,
    /**
     * Take full and incremental backups from a node while it serves (into a backup root on its
     * disk, so its crashes, wipes and stale copies reach them), and restore the newest chain on a
     * spare machine: the restored node must hold the cluster's state at the index restored; a
     * chain missing an increment must be refused; a restore cut by a power loss leaves no data
     * directory, and the next one succeeds; a restore into several directories at once writes
     * them all alike and publishes none before all are written.
     */
    BACKUP;

    /** The form {@link #parse} reads: {@code all}, {@code none}, or the kinds comma-separated. */
    public static String format(Set<Fault> faults) {
        return faults.isEmpty() ? "none" : faults.size() == values().length ? "all"
                : String.join(",", faults.stream().map(f -> f.name().toLowerCase(Locale.ROOT)).toList());
    }

    /** Parses a comma-separated list such as {@code partition,crash} or {@code all} / {@code none}. */
    public static Set<Fault> parse(String spec) {
        EnumSet<Fault> out = EnumSet.noneOf(Fault.class);
        for (String part : spec.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (p.isEmpty() || p.equals("none")) {
                continue;
            }
            if (p.equals("all")) {
                return EnumSet.allOf(Fault.class);
            }
            try {
                out.add(Fault.valueOf(p.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown fault '" + part.trim() + "'; known: all, none, "
                        + String.join(", ", java.util.Arrays.stream(values()).map(f -> f.name().toLowerCase(Locale.ROOT)).toList()));
            }
        }
        return out;
    }
}
