package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The quorum maths against brute force (STYLE 8): the committed index by trying every candidate
 * index, the vote outcome by enumerating every way the missing voters could still answer.
 */
class QuorumPropertiesTest {

    /** Few ids, so halves of a joint configuration overlap and votes collide. */
    private static final Gen<Set<Long>> IDS = Gens.sets(Gens.longs(1, 7), 0, 7).map(TreeSet::new);

    /** Acknowledged index per id 1..8 (8 is never a voter: outsiders must not count). */
    private static final Gen<Map<Long, Long>> ACKS = Gens.lists(Gens.longs(0, 6), 8, 8).map(values -> {
        Map<Long, Long> acks = new HashMap<>();
        for (int i = 0; i < values.size(); i++) {
            acks.put((long) i + 1, values.get(i));
        }
        return acks;
    });

    /** A vote per id 1..8: 0 missing, 1 yes, 2 no. */
    private static final Gen<Map<Long, Boolean>> VOTES = Gens.lists(Gens.ints(0, 2), 8, 8).map(values -> {
        Map<Long, Boolean> votes = new HashMap<>();
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) != 0) {
                votes.put((long) i + 1, values.get(i) == 1);
            }
        }
        return votes;
    });

    record Case<T>(Set<Long> incoming, Set<Long> outgoing, T input) {
    }

    private static <T> Gen<Case<T>> cases(Gen<T> input) {
        return source -> new Case<>(IDS.generate(source), IDS.generate(source), input.generate(source));
    }

    // ---------------------------------------------------------------------------------------
    // Oracles.

    /** Does a majority (more than half) of {@code ids} hold an acknowledgement of at least {@code i}? */
    private static boolean majorityAcked(Set<Long> ids, Map<Long, Long> acks, long i) {
        if (ids.isEmpty()) {
            return true;
        }
        long count = ids.stream().filter(id -> acks.getOrDefault(id, 0L) >= i).count();
        return 2 * count > ids.size();
    }

    /** The largest index that every half has acknowledged by a majority, by trying each index. */
    private static long bruteCommitted(List<Set<Long>> halves, Map<Long, Long> acks) {
        if (halves.stream().allMatch(Set::isEmpty)) {
            return Long.MAX_VALUE;
        }
        long best = 0;
        for (long i = 0; i <= 6; i++) {
            final long index = i;
            if (halves.stream().allMatch(h -> majorityAcked(h, acks, index))) {
                best = i;
            }
        }
        return best;
    }

    private static boolean wins(Set<Long> ids, Map<Long, Boolean> votes) {
        if (ids.isEmpty()) {
            return true;
        }
        long yes = ids.stream().filter(id -> Boolean.TRUE.equals(votes.get(id))).count();
        return 2 * yes > ids.size();
    }

    /**
     * Enumerates every completion of the missing votes of the voters of all halves: WON if every
     * completion wins every half, LOST if none does, PENDING otherwise.
     */
    private static VoteResult bruteVote(List<Set<Long>> halves, Map<Long, Boolean> votes) {
        Set<Long> all = new TreeSet<>();
        halves.forEach(all::addAll);
        List<Long> missing = new ArrayList<>();
        for (long id : all) {
            if (!votes.containsKey(id)) {
                missing.add(id);
            }
        }
        int winning = 0;
        int completions = 1 << missing.size();
        for (int mask = 0; mask < completions; mask++) {
            Map<Long, Boolean> complete = new HashMap<>(votes);
            for (int b = 0; b < missing.size(); b++) {
                complete.put(missing.get(b), (mask & (1 << b)) != 0);
            }
            if (halves.stream().allMatch(h -> wins(h, complete))) {
                winning++;
            }
        }
        return winning == completions ? VoteResult.WON : winning == 0 ? VoteResult.LOST : VoteResult.PENDING;
    }

    // ---------------------------------------------------------------------------------------
    // Properties.

    @Test
    void majorityCommittedIndexIsTheLargestIndexAMajorityAcked() {
        Property.check("majority committed index = brute force", Gens.pairs(IDS, ACKS), p -> {
            MajorityConfig c = new MajorityConfig(p.first());
            assertEquals(bruteCommitted(List.of(p.first()), p.second()),
                    c.committedIndex(id -> p.second().getOrDefault(id, 0L)), "config " + c);
        });
    }

    @Test
    void majorityQuorumIsTheSmallestSizeWhoseSubsetsAllIntersect() {
        Property.check("quorum size: smallest k with 2k > n", IDS, ids -> {
            int n = ids.size();
            int k = 0;
            while (2 * k <= n) {
                k++;
            }
            assertEquals(k, new MajorityConfig(ids).quorum());
        });
    }

    @Test
    void majorityVoteResultMatchesEveryCompletionOfTheMissingVotes() {
        Property.check("majority vote result = brute force", Gens.pairs(IDS, VOTES), p -> {
            MajorityConfig c = new MajorityConfig(p.first());
            assertEquals(bruteVote(List.of(p.first()), p.second()), c.voteResult(p.second()),
                    "config " + c + " votes " + p.second());
        });
    }

    @Test
    void jointCommittedIndexIsTheMinimumOfItsHalvesAndMatchesBruteForce() {
        Property.check("joint committed index = min of halves = brute force", cases(ACKS), c -> {
            JointConfig joint = JointConfig.of(c.incoming(), c.outgoing());
            AckedIndexer acked = id -> c.input().getOrDefault(id, 0L);
            long committed = joint.committedIndex(acked);
            assertEquals(Math.min(joint.incoming().committedIndex(acked), joint.outgoing().committedIndex(acked)),
                    committed, "joint " + joint);
            assertEquals(bruteCommitted(List.of(c.incoming(), c.outgoing()), c.input()), committed, "joint " + joint);
        });
    }

    @Test
    void jointVoteResultMatchesEveryCompletionOfTheMissingVotes() {
        Property.check("joint vote result = brute force", cases(VOTES), c -> {
            JointConfig joint = JointConfig.of(c.incoming(), c.outgoing());
            assertEquals(bruteVote(List.of(c.incoming(), c.outgoing()), c.input()), joint.voteResult(c.input()),
                    "joint " + joint + " votes " + c.input());
        });
    }

    @Test
    void jointConfigWithAnEmptyOutgoingHalfBehavesLikeItsIncomingHalf() {
        Property.check("joint with empty outgoing = incoming", cases(Gens.pairs(ACKS, VOTES)), c -> {
            JointConfig joint = JointConfig.of(c.incoming(), Set.of());
            MajorityConfig in = new MajorityConfig(c.incoming());
            AckedIndexer acked = id -> c.input().first().getOrDefault(id, 0L);
            assertEquals(in.committedIndex(acked), joint.committedIndex(acked));
            assertEquals(in.voteResult(c.input().second()), joint.voteResult(c.input().second()));
            assertEquals(new TreeSet<>(c.incoming()), joint.ids());
            for (long id = 1; id <= 8; id++) {
                assertEquals(c.incoming().contains(id), joint.contains(id), "contains " + id);
            }
        });
    }

    // ---------------------------------------------------------------------------------------
    // The empty-configuration conventions, stated once.

    @Test
    void emptyMajorityCommitsEverythingAndWinsEveryVote() {
        MajorityConfig empty = new MajorityConfig(Set.of());
        assertEquals(Long.MAX_VALUE, empty.committedIndex(id -> 0));
        assertEquals(VoteResult.WON, empty.voteResult(Map.of()));
        assertEquals(VoteResult.WON, empty.voteResult(Map.of(1L, false)));
        assertEquals(1, empty.quorum());
    }

    @Test
    void emptyJointConfigCommitsEverythingAndWinsEveryVote() {
        JointConfig empty = JointConfig.of(Set.of(), Set.of());
        assertEquals(Long.MAX_VALUE, empty.committedIndex(id -> 0));
        assertEquals(VoteResult.WON, empty.voteResult(Map.of()));
        assertEquals(Set.of(), empty.ids());
    }

    @Test
    void jointIdsAreTheUnionOfBothHalves() {
        JointConfig joint = JointConfig.of(Set.of(1L, 2L), Set.of(2L, 3L));
        assertEquals(Set.of(1L, 2L, 3L), joint.ids());
        assertEquals("[1, 2]&&[2, 3]", joint.toString());
        assertEquals("[1, 2]", JointConfig.of(Set.of(1L, 2L), Set.of()).toString());
    }
}
