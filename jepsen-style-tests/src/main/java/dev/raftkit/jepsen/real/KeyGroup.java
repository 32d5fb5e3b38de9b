package dev.raftkit.jepsen.real;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Keys of one client group: a few active at a time; each retires after its quota of uses, so no
 * key's history grows past what a checker searches quickly. Shared by the key-value and the
 * transactional workloads; thread-safe.
 */
final class KeyGroup {
    private final String prefix;
    private final int opsPerKey;
    private final List<String> active = new ArrayList<>();
    private final Map<String, Integer> counts = new HashMap<>();
    private final Set<String> used = new LinkedHashSet<>();
    private int next;

    KeyGroup(String prefix, int activeKeys, int opsPerKey) {
        this.prefix = prefix;
        this.opsPerKey = opsPerKey;
        for (int i = 0; i < activeKeys; i++) {
            active.add(fresh());
        }
    }

    private String fresh() {
        String k = String.format("%s-k%04d", prefix, next++);
        used.add(k);
        return k;
    }

    synchronized String pick(Random rnd) {
        int i = rnd.nextInt(active.size());
        String k = active.get(i);
        int c = counts.merge(k, 1, Integer::sum);
        if (c >= opsPerKey) {
            active.set(i, fresh());
        }
        return k;
    }

    synchronized List<String> used() {
        return new ArrayList<>(used);
    }
}
