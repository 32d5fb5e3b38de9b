package dev.raftkit.core;

import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.confchange.ConfChangeCodec;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The initial log of a brand-new cluster: one committed single-server change per founding voter,
 * at term 1 (as etcd does). Every founder writes the same entries, so Log Matching holds from the
 * start, and a node added later learns the founding configuration from the log like any other.
 */
public final class Bootstrap {

    private Bootstrap() {
    }

    /** Entries 1..n at term 1, adding each voter in id order. */
    public static List<Entry> entries(Set<Long> voters) {
        if (voters.isEmpty()) {
            throw new IllegalArgumentException("a cluster needs at least one voter");
        }
        List<Entry> entries = new ArrayList<>();
        long index = 1;
        for (long id : new TreeSet<>(voters)) {
            entries.add(new Entry(1, index++, EntryType.CONF_CHANGE, ConfChangeCodec.encode(ConfChange.addVoter(id))));
        }
        return entries;
    }

    /** The hard state that goes with {@link #entries}: term 1, no vote, all founding entries committed. */
    public static HardState hardState(Set<Long> voters) {
        return new HardState(1, 0, voters.size());
    }
}
