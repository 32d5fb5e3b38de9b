package dev.raftkit.storage;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.EntryId;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.TreeSet;

/**
 * Binary forms of the core's small records, big-endian, as documented in
 * {@code docs/storage-format.md}. A {@link SnapshotMeta} is
 * {@code [term:8][index:8]} then its {@link ConfState}: four id sets (voters, votersOutgoing,
 * learners, learnersNext), each {@code [count:4] count × [id:8]}, then {@code [autoLeave:1]}.
 */
final class Codecs {

    private Codecs() {
    }

    /**
     * {@code [term:8][vote:8][commit:8]}, then {@code [1:1]} only if the node is recovering lost
     * state; a 24-byte hard state (every file written before the flag existed) is not recovering.
     */
    static byte[] hardState(HardState hs) {
        ByteBuffer buf = ByteBuffer.allocate(hs.recovering() ? 25 : 24)
                .putLong(hs.term()).putLong(hs.vote()).putLong(hs.commit());
        if (hs.recovering()) {
            buf.put((byte) 1);
        }
        return buf.array();
    }

    static HardState hardState(byte[] b) {
        if (b.length != 24 && b.length != 25) {
            throw new IllegalArgumentException(b.length + " bytes instead of 24 or 25");
        }
        ByteBuffer buf = ByteBuffer.wrap(b);
        HardState hs = new HardState(buf.getLong(), buf.getLong(), buf.getLong(), b.length == 25);
        if (b.length == 25 && b[24] != 1) {
            throw new IllegalArgumentException("recovering byte " + b[24]);
        }
        return hs;
    }

    static int snapshotMetaBytes(SnapshotMeta m) {
        ConfState c = m.conf();
        return 16 + 16 + 8 * (c.voters().size() + c.votersOutgoing().size() + c.learners().size()
                + c.learnersNext().size()) + 1;
    }

    static void putSnapshotMeta(ByteBuffer buf, SnapshotMeta m) {
        buf.putLong(m.term()).putLong(m.index());
        ConfState c = m.conf();
        putIds(buf, c.voters());
        putIds(buf, c.votersOutgoing());
        putIds(buf, c.learners());
        putIds(buf, c.learnersNext());
        buf.put((byte) (c.autoLeave() ? 1 : 0));
    }

    /** @throws IllegalArgumentException (or a buffer exception) if the bytes are not a valid meta */
    static SnapshotMeta getSnapshotMeta(ByteBuffer buf) {
        long term = buf.getLong();
        long index = buf.getLong();
        Set<Long> voters = getIds(buf);
        Set<Long> outgoing = getIds(buf);
        Set<Long> learners = getIds(buf);
        Set<Long> next = getIds(buf);
        byte auto = buf.get();
        if (auto != 0 && auto != 1) {
            throw new IllegalArgumentException("autoLeave byte " + auto);
        }
        return new SnapshotMeta(new EntryId(term, index), new ConfState(voters, outgoing, learners, next, auto == 1));
    }

    private static void putIds(ByteBuffer buf, Set<Long> ids) {
        buf.putInt(ids.size());
        for (long id : ids) {
            buf.putLong(id);
        }
    }

    private static Set<Long> getIds(ByteBuffer buf) {
        int n = buf.getInt();
        if (n < 0 || n > buf.remaining() / 8) {
            throw new IllegalArgumentException("id set of " + n + " members");
        }
        Set<Long> ids = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            ids.add(buf.getLong());
        }
        return ids;
    }
}
