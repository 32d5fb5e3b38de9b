package dev.raftkit.core;

import dev.raftkit.core.confchange.ConfState;
import java.util.Map;

/**
 * A snapshot of a node's state for observers, tests and operators.
 *
 * @param progress the leader's view of each member ({@code "REPLICATE match=… next=…"}); empty on
 *                 followers
 * @param recovering true while the node recovers lost state: it grants no vote, never campaigns, and
 *                   its acknowledgements do not count (see {@link HardState})
 */
public record Status(long id, long term, long vote, Role role, long leader, long commit, long applied,
                     long lastIndex, long firstIndex, ConfState conf, long leadTransferee,
                     Map<Long, String> progress, boolean recovering) {
}
