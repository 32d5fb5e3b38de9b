package dev.raftkit.runtime;

import dev.raftkit.core.RaftException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedder's {@link RaftMetrics} as the stages call it: a call that throws is dropped and
 * logged once per kind, so a broken metrics sink neither stops a node nor floods its log. When the
 * embedder gave {@link RaftMetrics#NONE}, {@link #enabled} is false and the stages skip the
 * timestamps and sums they would take only for a measurement.
 */
final class SafeMetrics {

    private static final Logger LOG = LoggerFactory.getLogger(SafeMetrics.class);

    private enum Kind { ATTACH, LOG_SYNCED, COMMITTED, APPLIED, APPLY_BATCH, ELECTION, LEADER, REFUSED,
        SNAPSHOT_CREATED, SNAPSHOT_SENT, SNAPSHOT_BYTES_SENT, SNAPSHOT_RESUMED, SNAPSHOT_FROM_PEER, SNAPSHOT_INSTALLED, DISK_STALLED, FOLLOWERS }

    private final long id;
    private final RaftMetrics m;
    /** False for {@link RaftMetrics#NONE}: a final field, so a disabled measurement costs one test. */
    final boolean enabled;
    private final AtomicBoolean[] logged = new AtomicBoolean[Kind.values().length];

    SafeMetrics(long id, RaftMetrics metrics) {
        this.id = id;
        this.m = metrics;
        this.enabled = metrics != RaftMetrics.NONE;
        for (int i = 0; i < logged.length; i++) {
            logged[i] = new AtomicBoolean();
        }
    }

    private void thrown(Kind kind, RuntimeException e) {
        if (logged[kind.ordinal()].compareAndSet(false, true)) {
            LOG.warn("node {}: the RaftMetrics implementation {} threw in {}; this measurement is dropped, the node"
                    + " goes on (logged once per kind; fix the metrics sink)", id, m.getClass().getName(), kind, e);
        }
    }

    void attach(Supplier<RaftGauges> gauges) {
        if (enabled) {
            try {
                m.attach(gauges);
            } catch (RuntimeException e) {
                thrown(Kind.ATTACH, e);
            }
        }
    }

    void logSynced(long nanos, int entries, long bytes) {
        if (enabled) {
            try {
                m.logSynced(nanos, entries, bytes);
            } catch (RuntimeException e) {
                thrown(Kind.LOG_SYNCED, e);
            }
        }
    }

    void committed(long nanos) {
        if (enabled) {
            try {
                m.committed(nanos);
            } catch (RuntimeException e) {
                thrown(Kind.COMMITTED, e);
            }
        }
    }

    void applied(long nanos, int entries) {
        if (enabled) {
            try {
                m.applied(nanos, entries);
            } catch (RuntimeException e) {
                thrown(Kind.APPLIED, e);
            }
        }
    }

    void applyBatch(long nanos, int commands) {
        if (enabled) {
            try {
                m.applyBatch(nanos, commands);
            } catch (RuntimeException e) {
                thrown(Kind.APPLY_BATCH, e);
            }
        }
    }

    void electionStarted(long term) {
        if (enabled) {
            try {
                m.electionStarted(term);
            } catch (RuntimeException e) {
                thrown(Kind.ELECTION, e);
            }
        }
    }

    void leaderChanged(long leader, long term) {
        if (enabled) {
            try {
                m.leaderChanged(leader, term);
            } catch (RuntimeException e) {
                thrown(Kind.LEADER, e);
            }
        }
    }

    /** Counts {@code t} if it is a refusal ({@link RaftException}); anything else is not one. */
    void refused(Throwable t) {
        if (enabled && t instanceof RaftException r) {
            try {
                m.refused(r.reason());
            } catch (RuntimeException e) {
                thrown(Kind.REFUSED, e);
            }
        }
    }

    void snapshotCreated(long nanos, long bytes) {
        if (enabled) {
            try {
                m.snapshotCreated(nanos, bytes);
            } catch (RuntimeException e) {
                thrown(Kind.SNAPSHOT_CREATED, e);
            }
        }
    }

    void snapshotSent(long peer, long nanos, long bytes) {
        if (enabled) {
            try {
                m.snapshotSent(peer, nanos, bytes);
            } catch (RuntimeException e) {
                thrown(Kind.SNAPSHOT_SENT, e);
            }
        }
    }

    void snapshotBytesSent(long peer, long bytes, long resentBytes) {
        if (enabled) {
            try {
                m.snapshotBytesSent(peer, bytes, resentBytes);
            } catch (RuntimeException e) {
                thrown(Kind.SNAPSHOT_BYTES_SENT, e);
            }
        }
    }

    void snapshotResumed(long peer, long offset, long sizeBytes) {
        if (enabled) {
            try {
                m.snapshotResumed(peer, offset, sizeBytes);
            } catch (RuntimeException e) {
                thrown(Kind.SNAPSHOT_RESUMED, e);
            }
        }
    }

    void snapshotReceivedFromPeer(long peer, long bytes) {
        if (enabled) {
            try {
                m.snapshotReceivedFromPeer(peer, bytes);
            } catch (RuntimeException e) {
                thrown(Kind.SNAPSHOT_FROM_PEER, e);
            }
        }
    }

    void snapshotInstalled(long nanos, long bytes) {
        if (enabled) {
            try {
                m.snapshotInstalled(nanos, bytes);
            } catch (RuntimeException e) {
                thrown(Kind.SNAPSHOT_INSTALLED, e);
            }
        }
    }

    void diskStalled() {
        if (enabled) {
            try {
                m.diskStalled();
            } catch (RuntimeException e) {
                thrown(Kind.DISK_STALLED, e);
            }
        }
    }

    void followersChanged(Set<Long> followers) {
        if (enabled) {
            try {
                m.followersChanged(followers);
            } catch (RuntimeException e) {
                thrown(Kind.FOLLOWERS, e);
            }
        }
    }
}
