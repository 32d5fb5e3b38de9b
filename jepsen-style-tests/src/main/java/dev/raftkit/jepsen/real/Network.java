package dev.raftkit.jepsen.real;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * Every directed peer link of the cluster, each through its own {@link LinkProxy}, and the
 * partition shapes the nemesis draws from. A partition is a set of directed links to black-hole;
 * {@link #heal()} restores them all.
 */
public final class Network implements AutoCloseable {

    /** A directed link: messages from {@code from} to {@code to}. */
    public record Link(long from, long to) {
        @Override
        public String toString() {
            return from + "->" + to;
        }
    }

    /** A named set of cut links. */
    public record Partition(String shape, String description, Set<Link> cut) {
    }

    private final Map<Link, LinkProxy> proxies = new TreeMap<>(
            (a, b) -> a.from != b.from ? Long.compare(a.from, b.from) : Long.compare(a.to, b.to));

    /** Creates a proxy for every ordered pair of {@code peerAddresses}' nodes. */
    public Network(Map<Long, InetSocketAddress> peerAddresses) throws IOException {
        try {
            for (long a : peerAddresses.keySet()) {
                for (long b : peerAddresses.keySet()) {
                    if (a != b) {
                        proxies.put(new Link(a, b), new LinkProxy(a, b, peerAddresses.get(b)));
                    }
                }
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /** What node {@code from} must dial to reach node {@code to}. */
    public synchronized String dial(long from, long to) {
        return proxies.get(new Link(from, to)).hostPort();
    }

    /**
     * Adds a node listening for peers at {@code listen}: proxies in both directions between it and
     * each of {@code others}, passing (a node joins a healed network).
     */
    public synchronized void addNode(long id, InetSocketAddress listen, Collection<Long> others) throws IOException {
        Map<Long, InetSocketAddress> targets = new TreeMap<>();
        proxies.forEach((link, p) -> targets.putIfAbsent(link.to, p.target()));
        for (long o : others) {
            proxies.put(new Link(id, o), new LinkProxy(id, o, targets.get(o)));
            proxies.put(new Link(o, id), new LinkProxy(o, id, listen));
        }
    }

    /** Closes every link to and from node {@code id} (it left the cluster). */
    public synchronized void removeNode(long id) {
        proxies.entrySet().removeIf(e -> {
            if (e.getKey().from == id || e.getKey().to == id) {
                e.getValue().close();
                return true;
            }
            return false;
        });
    }

    /** Black-holes every link in {@code cut} and passes every other. */
    public synchronized void apply(Set<Link> cut) {
        proxies.forEach((link, p) -> p.setMode(cut.contains(link) ? LinkProxy.Mode.BLACKHOLE : LinkProxy.Mode.PASS));
    }

    /** Every link passes, without delay. */
    public synchronized void heal() {
        proxies.values().forEach(p -> {
            p.setMode(LinkProxy.Mode.PASS);
            p.setDelayMillis(0);
        });
    }

    /** Adds latency to every link (a slow network rather than a cut one). */
    public synchronized void delayAll(int millis) {
        proxies.values().forEach(p -> p.setDelayMillis(millis));
    }

    /** Links currently not passing, for the report. */
    public synchronized List<Link> cutLinks() {
        List<Link> l = new ArrayList<>();
        proxies.forEach((k, p) -> {
            if (p.mode() != LinkProxy.Mode.PASS) {
                l.add(k);
            }
        });
        return l;
    }

    @Override
    public synchronized void close() {
        proxies.values().forEach(LinkProxy::close);
    }

    // ------------------------------------------------------------------------------- shapes

    /** Shapes that make sense for {@code n} nodes (ring and bridge need at least 5 to differ from others). */
    public static List<String> shapes(int n) {
        return n >= 5 ? List.of("isolated", "majority-minority", "bridge", "ring", "one-way")
                : List.of("isolated", "majority-minority", "bridge", "one-way");
    }

    /** Draws a partition of {@code shape} over {@code nodes}; {@code leader} (0: unknown) is favoured as a victim. */
    public static Partition draw(String shape, List<Long> nodes, long leader, Random rnd) {
        List<Long> order = new ArrayList<>(nodes);
        Collections.shuffle(order, rnd);
        if (leader != 0 && rnd.nextBoolean()) {
            // Half the time the leader is the one cut off: that is what exercises stale leaders.
            order.remove(leader);
            order.add(0, leader);
        }
        int n = order.size();
        Set<Link> cut = new LinkedHashSet<>();
        switch (shape) {
            case "isolated" -> {
                long x = order.get(0);
                separate(List.of(x), order.subList(1, n), cut);
                return new Partition(shape, "node " + x + " isolated", cut);
            }
            case "majority-minority" -> {
                List<Long> minority = order.subList(0, n / 2);
                List<Long> majority = order.subList(n / 2, n);
                separate(minority, majority, cut);
                return new Partition(shape, "minority " + minority + " | majority " + majority, cut);
            }
            case "bridge" -> {
                // Two halves that cannot talk, and one node that talks to both (it may be elected by
                // either side's votes; a classic for split-brain bugs).
                long bridge = order.get(n - 1);
                List<Long> left = order.subList(0, (n - 1) / 2);
                List<Long> right = order.subList((n - 1) / 2, n - 1);
                separate(left, right, cut);
                return new Partition(shape, left + " | " + right + " bridged by node " + bridge, cut);
            }
            case "ring" -> {
                // Each node hears only its two ring neighbours: every node sees a majority, no two
                // nodes see the same one.
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        int d = Math.abs(i - j);
                        if (i != j && d != 1 && d != n - 1) {
                            cut.add(new Link(order.get(i), order.get(j)));
                        }
                    }
                }
                return new Partition(shape, "ring " + order, cut);
            }
            case "one-way" -> {
                // The victim hears everyone but nobody hears it: a leader keeps being heard by no one,
                // a follower keeps campaigning into the void.
                long x = order.get(0);
                for (long o : order) {
                    if (o != x) {
                        cut.add(new Link(x, o));
                    }
                }
                return new Partition(shape, "node " + x + " cannot send (one-way)", cut);
            }
            default -> throw new IllegalArgumentException("unknown partition shape '" + shape + "'; known: "
                    + shapes(5));
        }
    }

    private static void separate(List<Long> a, List<Long> b, Set<Link> cut) {
        for (long x : a) {
            for (long y : b) {
                cut.add(new Link(x, y));
                cut.add(new Link(y, x));
            }
        }
    }
}
