package dev.raftkit.cli.node;

import dev.raftkit.core.ReadMode;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvResult;
import dev.raftkit.kv.KvStateMachine;
import dev.raftkit.node.BackupPolicy;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStateMachine;
import dev.raftkit.sql.TableArtifactKey;
import dev.raftkit.sql.TableArtifactStore;
import dev.raftkit.storage.backup.BackupKey;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Which state machine a {@link dev.raftkit.node.RaftNode} of the CLI runs, and the little a node needs to know about it
 * beyond the {@link StateMachine} interface: how to build one for a data directory, and how to ask
 * it for its full-content digest through the read path (so the digest is taken on the apply
 * thread, the only thread a state machine like {@link SqlStateMachine} may be used from).
 */
public enum StateMachineKind {

    /** The replicated key-value store ({@code statemachine-kv}). */
    KV {
        @Override
        public StateMachine create(Path dataDir) {
            return new KvStateMachine();
        }

        @Override
        public StateMachine createScratch() {
            return new KvStateMachine();
        }

        @Override
        public byte[] digestQuery() {
            return KvOps.digest();
        }

        @Override
        public Digest digestOf(byte[] result) {
            KvResult.Digest d = KvOps.digestOf(result);
            return new Digest(d.appliedIndex(), HexFormat.of().formatHex(d.sha256()));
        }
    },

    /**
     * Replicated SQL on SQLite ({@code statemachine-sql}); {@code BACKUP DATABASE TO 'n'} writes
     * its file image to {@code <dataDir>/sql-backups/n.sqlite} on every node, and {@code BACKUP
     * TABLE t TO 'n'} its table artifact {@code n.rktable} to {@code <backup root>/sql-tables}
     * (or, on a node without a backup root, {@code <dataDir>/sql-backups}).
     */
    SQL {
        @Override
        public StateMachine create(Path dataDir) {
            return new SqlStateMachine(dataDir.resolve("sql-backups"));
        }

        @Override
        public StateMachine create(Path dataDir, String clusterId, BackupPolicy backups) {
            Path images = dataDir.resolve("sql-backups");
            return new SqlStateMachine(images, new TableArtifactStore(tableArtifactDir(dataDir, backups), clusterId,
                    backups.key() == null ? null : tableArtifactKey(backups.key())));
        }

        @Override
        public StateMachine createScratch() {
            return new SqlStateMachine(); // BACKUP DATABASE is only recorded: a check writes no files
        }

        @Override
        public byte[] digestQuery() {
            return SqlOps.digest();
        }

        @Override
        public Digest digestOf(byte[] result) {
            SqlResult.Ok ok = SqlOps.ok(result);
            return new Digest(ok.index(), SqlOps.digestOf(result));
        }
    };

    /** A state machine's full-content digest as of an applied index: equal digests, equal data. */
    public record Digest(long appliedIndex, String hex) {
        /** The first 16 hex digits, for people to compare. */
        public String shortHex() {
            return hex.substring(0, Math.min(16, hex.length()));
        }
    }

    /** A new, empty state machine for a node whose data lives in {@code dataDir}. */
    public abstract StateMachine create(Path dataDir);

    /**
     * A new, empty state machine for node of cluster {@code clusterId} with data in {@code dataDir}
     * and these backup settings (the SQL store keeps its table artifacts under the backup root,
     * sealed with the backup key); the key-value store ignores them.
     */
    public StateMachine create(Path dataDir, String clusterId, BackupPolicy backups) {
        return create(dataDir);
    }

    /** The directory under a backup root where a SQL node keeps its table artifacts. */
    public static final String SQL_TABLES_DIR = "sql-tables";

    /** Where a SQL node keeps its table artifacts: under its backup root if it has one, else in its data directory. */
    public static Path tableArtifactDir(Path dataDir, BackupPolicy backups) {
        return backups.enabled() ? backups.root().resolve(SQL_TABLES_DIR) : dataDir.resolve("sql-backups");
    }

    /** The key table artifacts are sealed with on a node with backup key {@code key} (the shell opens them with it). */
    public static TableArtifactKey tableArtifactKey(BackupKey key) {
        return TableArtifactKey.of(key.derive("raftkit sql table artifact"));
    }

    /**
     * A new, empty state machine of this kind that writes no files of its own, for rebuilding a
     * backup's state to check its digest (a restore, {@code backup verify --deep}).
     */
    public abstract StateMachine createScratch();

    /** A read-only query answering the digest (send it with {@code RaftServer.read}). */
    public abstract byte[] digestQuery();

    /** The digest in the answer to {@link #digestQuery()}. */
    public abstract Digest digestOf(byte[] result);

    /**
     * {@code server}'s own digest (a stale read on that node: what it has applied, not what the
     * cluster has committed).
     *
     * @throws IllegalStateException if the node does not answer within 10 s
     */
    public Digest digest(RaftServer server) {
        try {
            return digestOf(server.read(digestQuery(), ReadMode.STALE).get(10, TimeUnit.SECONDS));
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("node " + server.id() + " did not answer its digest: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking node " + server.id() + " for its digest", e);
        }
    }

    /** The name on the command line: {@code kv}, {@code sql}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The kind named {@code name} on the command line.
     *
     * @throws IllegalArgumentException naming the kinds there are
     */
    public static StateMachineKind parse(String name) {
        for (StateMachineKind k : values()) {
            if (k.cliName().equals(name.trim().toLowerCase(Locale.ROOT))) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown state machine '" + name + "'; use "
                + Arrays.stream(values()).map(StateMachineKind::cliName).collect(Collectors.joining(" or ")));
    }
}
