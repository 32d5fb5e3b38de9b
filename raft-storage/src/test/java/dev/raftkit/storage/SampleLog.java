package dev.raftkit.storage;

import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfChangeCodec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A log for damage tests: 160 seeded entries (a tenth of them configuration changes, terms rising
 * now and then), the first 100 synced, compacted through entry 20, then the rest appended, so it
 * spans closed segments and the open one when segments are small. The caller sets the hard state
 * and syncs.
 */
final class SampleLog {

    private SampleLog() {
    }

    /** Writes the entries into {@code log}; returns them (the last one's term is the log's term). */
    static List<Entry> write(SegmentedLogStorage log, Random rnd) throws IOException {
        List<Entry> written = new ArrayList<>();
        long term = 1;
        for (long i = 1; i <= 160; i++) {
            term += rnd.nextInt(20) == 0 ? 1 : 0;
            byte[] data;
            EntryType type = EntryType.NORMAL;
            if (rnd.nextInt(10) == 0) {
                type = EntryType.CONF_CHANGE;
                data = ConfChangeCodec.encode(ConfChange.addVoter(1 + rnd.nextInt(9)));
            } else {
                data = new byte[rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(120)];
                rnd.nextBytes(data);
            }
            written.add(new Entry(term, i, type, data));
        }
        log.append(written.subList(0, 100));
        log.sync();
        log.compact(new SnapshotMeta(written.get(19).id(), ConfState.ofVoters(Set.of(1L, 2L, 3L))));
        log.append(written.subList(100, 160));
        return written;
    }
}
