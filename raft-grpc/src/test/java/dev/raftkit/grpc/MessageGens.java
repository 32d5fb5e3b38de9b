package dev.raftkit.grpc;

import dev.raftkit.core.ReadMode;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.Heartbeat;
import dev.raftkit.core.message.HeartbeatResponse;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.ReadIndexRequest;
import dev.raftkit.core.message.ReadIndexResponse;
import dev.raftkit.core.message.RequestVote;
import dev.raftkit.core.message.RequestVoteResponse;
import dev.raftkit.core.message.TimeoutNow;
import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Gens;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Generators of valid core messages of every kind, for codec and transport tests. */
final class MessageGens {

    private MessageGens() {
    }

    /**
     * Small values mostly (they collide and shrink well), sometimes the extremes of the range an
     * index may take on the wire ({@link EntryId#MAX_INDEX}).
     */
    static Gen<Long> counts() {
        return Gens.choose(Gens.longs(0, 20), Gens.longs(0, EntryId.MAX_INDEX));
    }

    static Gen<Long> nodeIds() {
        return Gens.choose(Gens.longs(1, 9), Gens.longs(1, Long.MAX_VALUE));
    }

    static Gen<byte[]> bytes(int max) {
        return Gens.lists(Gens.ints(-128, 127), 0, max).map(list -> {
            byte[] b = new byte[list.size()];
            for (int i = 0; i < b.length; i++) {
                b[i] = list.get(i).byteValue();
            }
            return b;
        });
    }

    static Gen<EntryId> entryIds(long maxTerm) {
        return source -> new EntryId(Gens.longs(0, maxTerm).generate(source), counts().generate(source));
    }

    static Gen<ConfState> confStates() {
        Gen<Set<Long>> voters = Gens.sets(Gens.longs(1, 9), 0, 5);
        Gen<Set<Long>> learners = Gens.sets(Gens.longs(10, 15), 0, 3);
        return source -> {
            Set<Long> in = voters.generate(source);
            Set<Long> out = Gens.booleans().generate(source) ? voters.generate(source) : Set.of();
            Set<Long> l = learners.generate(source);
            Set<Long> next = new LinkedHashSet<>();
            boolean joint = !out.isEmpty();
            if (joint && Gens.booleans().generate(source)) {
                for (long id : out) {
                    if (!in.contains(id)) {
                        next.add(id);
                    }
                }
            }
            boolean autoLeave = joint && Gens.booleans().generate(source);
            return new ConfState(in, out, l, next, autoLeave);
        };
    }

    static Gen<AppendEntries> appends(long from, long to, long term) {
        return source -> {
            EntryId prev = new EntryId(Gens.longs(0, term).generate(source), Gens.longs(0, 1000).generate(source));
            List<Entry> entries = new ArrayList<>();
            int n = Gens.ints(0, 6).generate(source);
            long t = Math.max(1, prev.term());
            for (int i = 1; i <= n && t <= term; i++) {
                if (Gens.ints(0, 3).generate(source) == 0 && t < term) {
                    t++;
                }
                EntryType type = Gens.oneOf(EntryType.NORMAL, EntryType.CONF_CHANGE).generate(source);
                entries.add(new Entry(t, prev.index() + i, type, bytes(16).generate(source)));
            }
            return new AppendEntries(from, to, term, new LogSlice(prev, entries), counts().generate(source));
        };
    }

    /** Any message, every kind equally likely, with valid fields. */
    static Gen<Message> messages() {
        return source -> {
            long from = nodeIds().generate(source);
            long to = from == Long.MAX_VALUE ? 1 : from + Gens.longs(1, 3).generate(source);
            to = to < 0 ? 1 : to;
            long term = Gens.choose(Gens.longs(0, 8), Gens.longs(0, EntryId.MAX_TERM)).generate(source);
            int kind = Gens.ints(0, 9).generate(source);
            return switch (kind) {
                case 0 -> appends(from, to, term).generate(source);
                case 1 -> new AppendEntriesResponse(from, to, term, Gens.booleans().generate(source),
                        counts().generate(source), entryIds(EntryId.MAX_TERM).generate(source),
                        Gens.booleans().generate(source));
                case 2 -> new RequestVote(from, to, term, entryIds(EntryId.MAX_TERM).generate(source),
                        Gens.booleans().generate(source), Gens.booleans().generate(source));
                case 3 -> new RequestVoteResponse(from, to, term, Gens.booleans().generate(source),
                        Gens.booleans().generate(source));
                case 4 -> new Heartbeat(from, to, term, counts().generate(source), Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE).generate(source),
                        term >= 1 && Gens.ints(0, 3).generate(source) == 0
                                ? new EntryId(Gens.longs(1, term).generate(source), Gens.longs(1, 1000).generate(source)) : EntryId.ZERO);
                case 5 -> new HeartbeatResponse(from, to, term, Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE).generate(source),
                        Gens.booleans().generate(source));
                case 6 -> new InstallSnapshot(from, to, term,
                        new SnapshotMeta(entryIds(term).generate(source), confStates().generate(source)));
                case 7 -> new TimeoutNow(from, to, term);
                case 8 -> new ReadIndexRequest(from, to, term, Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE).generate(source),
                        Gens.oneOf(ReadMode.LINEARIZABLE, ReadMode.LEASE).generate(source));
                default -> new ReadIndexResponse(from, to, term, Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE).generate(source),
                        counts().generate(source));
            };
        };
    }
}
