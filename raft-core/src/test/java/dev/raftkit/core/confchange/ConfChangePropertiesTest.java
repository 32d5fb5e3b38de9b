package dev.raftkit.core.confchange;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.raftkit.core.HardState;
import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftCore;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.runtime.MemoryLogStorage;
import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Configuration changes (§4) against a dumb oracle: each node's role after a change is decided by
 * the last step that names it, and a change is valid exactly when the rules of §4.1 / §4.3 say so.
 */
class ConfChangePropertiesTest {

    private static final Gen<ConfChange.Step> STEPS = Gens.pairs(
            Gens.oneOf(ConfChange.Type.ADD_VOTER, ConfChange.Type.ADD_LEARNER, ConfChange.Type.REMOVE),
            Gens.longs(1, 6)).map(p -> new ConfChange.Step(p.first(), p.second()));

    /** Simple changes, joint ones (implicit and explicit), leave-joint, and arbitrary ones. */
    private static final Gen<ConfChange> CHANGES = Gens.choose(
            STEPS.map(s -> new ConfChange(List.of(s), ConfChange.Transition.AUTO)),
            Gens.pairs(Gens.lists(STEPS, 0, 4), Gens.oneOf(ConfChange.Transition.values()))
                    .map(p -> new ConfChange(p.first(), p.second())),
            Gens.constant(ConfChange.leaveJoint()));

    private static final Gen<List<ConfChange>> SCRIPTS = Gens.lists(CHANGES, 0, 30);

    enum Role { VOTER, LEARNER }

    /**
     * The oracle: what {@code change} should make of {@code conf}, or empty if it must be rejected.
     * Written from the rules, not from {@link Changer}'s code.
     */
    static Optional<ConfState> expected(ConfState conf, ConfChange change) {
        if (change.steps().isEmpty()) {
            if (!conf.isJoint()) {
                return Optional.empty();
            }
            Set<Long> learners = new TreeSet<>(conf.learners());
            learners.addAll(conf.learnersNext());
            return Optional.of(new ConfState(conf.voters(), Set.of(), learners, Set.of(), false));
        }
        if (conf.isJoint()) {
            return Optional.empty(); // no change of any kind while joint, except leaving
        }
        Map<Long, Role> roles = new TreeMap<>();
        conf.voters().forEach(id -> roles.put(id, Role.VOTER));
        conf.learners().forEach(id -> roles.put(id, Role.LEARNER));
        for (ConfChange.Step step : change.steps()) {
            switch (step.type()) {
                case ADD_VOTER -> roles.put(step.nodeId(), Role.VOTER);
                case ADD_LEARNER -> roles.put(step.nodeId(), Role.LEARNER);
                case REMOVE -> roles.remove(step.nodeId());
            }
        }
        Set<Long> voters = new TreeSet<>();
        Set<Long> learners = new TreeSet<>();
        roles.forEach((id, r) -> (r == Role.VOTER ? voters : learners).add(id));
        if (voters.isEmpty()) {
            return Optional.empty();
        }
        if (change.entersJoint()) {
            if (conf.voters().isEmpty()) {
                return Optional.empty();
            }
            // Outgoing voters that become learners keep voting in the outgoing half until it is left.
            Set<Long> learnersNext = new TreeSet<>(learners);
            learnersNext.retainAll(conf.voters());
            learners.removeAll(learnersNext);
            return Optional.of(new ConfState(voters, conf.voters(), learners, learnersNext, change.autoLeave()));
        }
        Set<Long> changed = new HashSet<>(voters);
        changed.addAll(conf.voters());
        Set<Long> kept = new HashSet<>(voters);
        kept.retainAll(conf.voters());
        changed.removeAll(kept);
        if (changed.size() > 1) {
            return Optional.empty();
        }
        return Optional.of(new ConfState(voters, Set.of(), learners, Set.of(), false));
    }

    /** Runs {@code script} from the empty configuration; returns every configuration reached. */
    static List<ConfState> run(List<ConfChange> script) {
        List<ConfState> reached = new ArrayList<>();
        ConfState conf = ConfState.EMPTY;
        for (ConfChange change : script) {
            Optional<ConfState> want = expected(conf, change);
            ConfState got;
            try {
                got = Changer.apply(conf, change);
            } catch (IllegalArgumentException rejected) {
                if (want.isPresent()) {
                    fail("rejected a valid change " + change + " on " + conf + " (expected " + want.get() + ")",
                            rejected);
                }
                continue;
            }
            if (want.isEmpty()) {
                fail("accepted an invalid change " + change + " on " + conf + ", giving " + got);
            }
            assertEquals(want.get(), got, "applying " + change + " to " + conf);
            conf = got;
            reached.add(conf);
        }
        return reached;
    }

    @Test
    void changesAgreeWithTheRoleOracleAndInvalidOnesAreRejected() {
        Property.check("Changer.apply = role oracle; invalid changes throw IAE", SCRIPTS, script -> run(script));
    }

    @Test
    void everyReachedConfigurationSatisfiesTheInvariants() {
        Property.check("reached configurations keep the invariants", SCRIPTS, script -> {
            for (ConfState c : run(script)) {
                Changer.checkInvariants(c);
                // Spelled out as well, so a weakened checkInvariants cannot hide a bad configuration.
                for (long id : c.learners()) {
                    assertTrue(!c.isVoter(id) && !c.learnersNext().contains(id), "learner " + id + " in " + c);
                }
                assertTrue(c.votersOutgoing().containsAll(c.learnersNext()), "learnersNext in " + c);
                assertTrue(c.isJoint() || (!c.autoLeave() && c.learnersNext().isEmpty()), "non-joint " + c);
                assertTrue(!c.voters().isEmpty(), "no voters in " + c);
            }
        });
    }

    @Test
    void simpleChangesChangeAtMostOneVoter() {
        Gen<ConfChange> simple = STEPS.map(s -> new ConfChange(List.of(s), ConfChange.Transition.AUTO));
        Property.check("a simple change moves at most one voter", Gens.pairs(SCRIPTS, Gens.lists(simple, 1, 10)), p -> {
            List<ConfState> reached = run(p.first());
            ConfState conf = reached.isEmpty() ? ConfState.EMPTY : reached.get(reached.size() - 1);
            for (ConfChange change : p.second()) {
                ConfState next;
                try {
                    next = Changer.simple(conf, change.steps());
                } catch (IllegalArgumentException rejected) {
                    continue;
                }
                Set<Long> diff = new TreeSet<>(conf.voters());
                diff.addAll(next.voters());
                Set<Long> both = new TreeSet<>(conf.voters());
                both.retainAll(next.voters());
                diff.removeAll(both);
                assertTrue(diff.size() <= 1, conf + " -> " + next);
                assertTrue(!next.isJoint(), "simple change made a joint configuration " + next);
                conf = next;
            }
        });
    }

    @Test
    void changingSeveralVotersWithoutJointConsensusIsRejected() {
        ConfState three = ConfState.ofVoters(Set.of(1L, 2L, 3L));
        List<ConfChange.Step> two = List.of(new ConfChange.Step(ConfChange.Type.ADD_VOTER, 4L),
                new ConfChange.Step(ConfChange.Type.REMOVE, 1L));
        assertThrows(IllegalArgumentException.class, () -> Changer.simple(three, two));
        ConfState joint = Changer.enterJoint(three, false, two);
        assertThrows(IllegalArgumentException.class, () -> Changer.simple(joint, List.of()));
        assertThrows(IllegalArgumentException.class, () -> Changer.enterJoint(joint, true, two));
        assertThrows(IllegalArgumentException.class, () -> Changer.leaveJoint(three));
        assertThrows(IllegalArgumentException.class,
                () -> Changer.enterJoint(ConfState.EMPTY, true, List.of(two.get(0))));
    }

    @Test
    void checkInvariantsRejectsEachBrokenInvariant() {
        Set<Long> v = Set.of(1L, 2L);
        assertThrows(IllegalArgumentException.class,
                () -> Changer.checkInvariants(new ConfState(v, Set.of(), Set.of(1L), Set.of(), false)));
        assertThrows(IllegalArgumentException.class,
                () -> Changer.checkInvariants(new ConfState(v, Set.of(3L), Set.of(3L), Set.of(), false)));
        assertThrows(IllegalArgumentException.class,
                () -> Changer.checkInvariants(new ConfState(v, Set.of(3L), Set.of(3L), Set.of(3L), false)));
        assertThrows(IllegalArgumentException.class,
                () -> Changer.checkInvariants(new ConfState(v, Set.of(3L), Set.of(), Set.of(4L), false)));
        assertThrows(IllegalArgumentException.class,
                () -> Changer.checkInvariants(new ConfState(v, Set.of(), Set.of(), Set.of(), true)));
        Changer.checkInvariants(new ConfState(v, Set.of(3L), Set.of(4L), Set.of(3L), true));
    }

    @Test
    void reachedConfigurationsRoundTripThroughRestore() {
        Property.check("restore(c) == c for every reached configuration", SCRIPTS, script -> {
            for (ConfState c : run(script)) {
                assertEquals(c, Changer.restore(c), "restore of " + c + " via " + Changer.restorePlan(c));
            }
        });
    }

    @Test
    void reachedConfigurationsRoundTripThroughSnapshotMetadata() {
        Property.forAll(SCRIPTS).name("a node restarted from snapshot metadata has its configuration")
                .tries(Math.max(1, Integer.getInteger(Property.TRIES_PROPERTY, Property.DEFAULT_TRIES) / 4))
                .check(script -> {
                    List<ConfState> reached = run(script);
                    if (reached.isEmpty()) {
                        return;
                    }
                    ConfState c = reached.get(reached.size() - 1);
                    MemoryLogStorage storage = new MemoryLogStorage();
                    storage.installSnapshot(new SnapshotMeta(new EntryId(3, 10), c));
                    storage.setHardState(new HardState(3, 0, 10));
                    long self = c.members().iterator().next();
                    RaftCore node = new RaftCore(RaftConfig.builder(self).build(), storage);
                    assertEquals(c, node.conf(), "configuration after restart from a snapshot of " + c);
                });
    }

    @Test
    void codecRoundTripsEveryChange() {
        Gen<ConfChange.Step> anyStep = Gens.pairs(Gens.oneOf(ConfChange.Type.values()), Gens.longs(1, Long.MAX_VALUE))
                .map(p -> new ConfChange.Step(p.first(), p.second()));
        Gen<ConfChange> any = Gens.pairs(Gens.lists(anyStep, 0, 8), Gens.oneOf(ConfChange.Transition.values()))
                .map(p -> new ConfChange(p.first(), p.second()));
        Property.check("decode(encode(c)) == c", any, c -> {
            byte[] bytes = ConfChangeCodec.encode(c);
            assertEquals(6 + 9 * c.steps().size(), bytes.length);
            assertEquals(c, ConfChangeCodec.decode(bytes));
        });
    }

    /** A valid encoding, then damaged: bytes overwritten, cut short or extended. */
    private static final Gen<byte[]> DAMAGED = source -> {
        ConfChange c = CHANGES.generate(source);
        byte[] valid = ConfChangeCodec.encode(c);
        List<Byte> bytes = new ArrayList<>();
        for (byte b : valid) {
            bytes.add(b);
        }
        int edits = source.nextInt(0, 4);
        for (int i = 0; i < edits; i++) {
            switch (source.nextInt(0, 2)) {
                case 0 -> {
                    if (!bytes.isEmpty()) {
                        int at = source.nextInt(0, bytes.size() - 1);
                        bytes.set(at, (byte) source.nextInt(Byte.MIN_VALUE, Byte.MAX_VALUE));
                    }
                }
                case 1 -> {
                    if (!bytes.isEmpty()) {
                        bytes.subList(source.nextInt(0, bytes.size() - 1), bytes.size()).clear();
                    }
                }
                default -> bytes.add((byte) source.nextInt(Byte.MIN_VALUE, Byte.MAX_VALUE));
            }
        }
        byte[] out = new byte[bytes.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = bytes.get(i);
        }
        return out;
    };

    @Test
    void codecRejectsMalformedPayloadsWithIllegalArgumentExceptionOnly() {
        Property.check("decode: a canonical change or IllegalArgumentException", DAMAGED, bytes -> {
            ConfChange decoded;
            try {
                decoded = ConfChangeCodec.decode(bytes);
            } catch (IllegalArgumentException rejected) {
                return;
            }
            // Accepted: then it is exactly the encoding of what was decoded (no slack, no trailing bytes).
            assertArrayEquals(bytes, ConfChangeCodec.encode(decoded));
        });
    }

    @Test
    void codecRejectsEachKindOfMalformation() {
        byte[] ok = ConfChangeCodec.encode(ConfChange.addVoter(7));
        assertEquals(ConfChange.addVoter(7), ConfChangeCodec.decode(ok));
        for (int cut = 0; cut < ok.length; cut++) {
            byte[] shorter = java.util.Arrays.copyOf(ok, cut);
            assertThrows(IllegalArgumentException.class, () -> ConfChangeCodec.decode(shorter), "cut at " + cut);
        }
        assertThrows(IllegalArgumentException.class, () -> ConfChangeCodec.decode(java.util.Arrays.copyOf(ok, ok.length + 1)));
        byte[] version = ok.clone();
        version[0] = 2;
        assertThrows(IllegalArgumentException.class, () -> ConfChangeCodec.decode(version));
        byte[] transition = ok.clone();
        transition[1] = 3;
        assertThrows(IllegalArgumentException.class, () -> ConfChangeCodec.decode(transition));
        byte[] type = ok.clone();
        type[6] = 3;
        assertThrows(IllegalArgumentException.class, () -> ConfChangeCodec.decode(type));
        byte[] negativeCount = ok.clone();
        negativeCount[2] = (byte) 0x80;
        assertThrows(IllegalArgumentException.class, () -> ConfChangeCodec.decode(negativeCount));
        byte[] hugeCount = ok.clone();
        hugeCount[3] = 0x04;
        hugeCount[4] = 0x01;
        hugeCount[5] = 0x00; // 1025 steps: over the cap, rejected before allocating
        assertThrows(IllegalArgumentException.class, () -> ConfChangeCodec.decode(hugeCount));
        byte[] zeroId = ConfChangeCodec.encode(new ConfChange(List.of(), ConfChange.Transition.AUTO));
        assertEquals(ConfChange.leaveJoint(), ConfChangeCodec.decode(zeroId));
        byte[] nodeZero = ok.clone();
        nodeZero[14] = 0;
        assertThrows(IllegalArgumentException.class, () -> ConfChangeCodec.decode(nodeZero));
    }
}
