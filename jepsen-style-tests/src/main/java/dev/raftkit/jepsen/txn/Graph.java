package dev.raftkit.jepsen.txn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The dependency graph in compressed sparse rows, each edge with the key and values that justify
 * it (so that a cycle can be explained without searching the history again); strongly connected
 * components by an iterative Tarjan; shortest constrained cycles by breadth-first search. Not
 * thread-safe; used by one check.
 */
final class Graph {

    /** Edges as added: parallel arrays, grown by doubling. */
    private int[] eFrom = new int[1024];
    private int[] eTo = new int[1024];
    private byte[] eType = new byte[1024];
    private int[] eKey = new int[1024];
    private long[] eV1 = new long[1024];
    private long[] eV2 = new long[1024];
    private int edges;

    final int n;
    /** After {@link #freeze()}: the out-edges of node v are {@code order[start[v]] .. order[start[v+1]-1]}. */
    private int[] start;
    private int[] order;

    Graph(int n) {
        this.n = n;
    }

    void add(int from, int to, EdgeType type, int key, long v1, long v2) {
        if (edges == eFrom.length) {
            int cap = edges * 2;
            eFrom = Arrays.copyOf(eFrom, cap);
            eTo = Arrays.copyOf(eTo, cap);
            eType = Arrays.copyOf(eType, cap);
            eKey = Arrays.copyOf(eKey, cap);
            eV1 = Arrays.copyOf(eV1, cap);
            eV2 = Arrays.copyOf(eV2, cap);
        }
        eFrom[edges] = from;
        eTo[edges] = to;
        eType[edges] = (byte) type.ordinal();
        eKey[edges] = key;
        eV1[edges] = v1;
        eV2[edges] = v2;
        edges++;
    }

    int edgeCount() {
        return edges;
    }

    /** Builds the rows (a counting sort on the source). */
    void freeze() {
        start = new int[n + 1];
        for (int i = 0; i < edges; i++) {
            start[eFrom[i] + 1]++;
        }
        for (int v = 0; v < n; v++) {
            start[v + 1] += start[v];
        }
        int[] fill = Arrays.copyOf(start, n);
        order = new int[edges];
        for (int i = 0; i < edges; i++) {
            order[fill[eFrom[i]]++] = i;
        }
    }

    /** The first position of node {@code v}'s out-edges (pass positions to {@link #edgeAt}). */
    int outStart(int v) {
        return start[v];
    }

    /** One past the last position of node {@code v}'s out-edges. */
    int outEnd(int v) {
        return start[v + 1];
    }

    /** The edge id at position {@code i}. */
    int edgeAt(int i) {
        return order[i];
    }

    int from(int e) {
        return eFrom[e];
    }

    int to(int e) {
        return eTo[e];
    }

    EdgeType type(int e) {
        return EdgeType.values()[eType[e]];
    }

    int key(int e) {
        return eKey[e];
    }

    long v1(int e) {
        return eV1[e];
    }

    long v2(int e) {
        return eV2[e];
    }

    /**
     * Strongly connected components with more than one node, by Tarjan's algorithm on an explicit
     * stack (a history of 10^5 transactions in one chain would overflow the call stack). Returns
     * {@code comp}, the component number of each node ({@code -1} for nodes alone in theirs), and
     * fills {@code members} with each component's nodes.
     */
    int[] components(List<int[]> members) {
        int[] index = new int[n];
        int[] low = new int[n];
        Arrays.fill(index, -1);
        boolean[] onStack = new boolean[n];
        int[] stack = new int[n];
        int sp = 0;
        int[] callNode = new int[n];
        int[] callEdge = new int[n];
        int[] comp = new int[n];
        Arrays.fill(comp, -1);
        int counter = 0;
        for (int root = 0; root < n; root++) {
            if (index[root] >= 0) {
                continue;
            }
            int depth = 0;
            callNode[0] = root;
            callEdge[0] = start[root];
            index[root] = low[root] = counter++;
            stack[sp++] = root;
            onStack[root] = true;
            while (depth >= 0) {
                int v = callNode[depth];
                if (callEdge[depth] < start[v + 1]) {
                    int w = eTo[order[callEdge[depth]++]];
                    if (index[w] < 0) {
                        index[w] = low[w] = counter++;
                        stack[sp++] = w;
                        onStack[w] = true;
                        depth++;
                        callNode[depth] = w;
                        callEdge[depth] = start[w];
                    } else if (onStack[w]) {
                        low[v] = Math.min(low[v], index[w]);
                    }
                    continue;
                }
                if (low[v] == index[v]) {
                    int size = 0;
                    while (stack[sp - 1 - size] != v) {
                        size++;
                    }
                    size++;
                    int[] nodes = Arrays.copyOfRange(stack, sp - size, sp);
                    sp -= size;
                    for (int x : nodes) {
                        onStack[x] = false;
                    }
                    if (size > 1) {
                        for (int x : nodes) {
                            comp[x] = members.size();
                        }
                        Arrays.sort(nodes);
                        members.add(nodes);
                    }
                }
                depth--;
                if (depth >= 0) {
                    int parent = callNode[depth];
                    low[parent] = Math.min(low[parent], low[v]);
                }
            }
        }
        return comp;
    }

    // Breadth-first search state, reused across searches: a state is (node, phase) with phase 0 or
    // 1 (whether the path has used the edge type a search requires); stamps avoid clearing arrays.
    private int[] seen;
    private int[] parentEdge;
    private int[] parentState;
    private int stamp;
    private int[] queue;

    /**
     * The shortest path from {@code src} to {@code dst} ({@code src != dst}) inside component
     * {@code c}, over edges whose type is in {@code mask}, that (if {@code need} is non-zero) uses at
     * least one edge whose type is in {@code need}; as a list of edge ids, or null if there is none.
     * {@code budget[0]} is decremented per edge looked at, and the search gives up at zero.
     */
    List<Integer> shortestPath(int src, int dst, int c, int[] comp, int mask, int need, long[] budget) {
        if (seen == null) {
            seen = new int[2 * n];
            parentEdge = new int[2 * n];
            parentState = new int[2 * n];
            queue = new int[2 * n];
        }
        stamp++;
        int head = 0;
        int tail = 0;
        int s0 = src * 2;
        seen[s0] = stamp;
        queue[tail++] = s0;
        int goal = need == 0 ? dst * 2 : dst * 2 + 1;
        while (head < tail && budget[0] > 0 && seen[goal] != stamp) {
            int s = queue[head++];
            int v = s >> 1;
            int phase = s & 1;
            for (int i = start[v]; i < start[v + 1]; i++) {
                budget[0]--;
                int e = order[i];
                int bit = 1 << eType[e];
                int w = eTo[e];
                if ((bit & mask) == 0 || comp[w] != c) {
                    continue;
                }
                int next = w * 2 + (need != 0 && (phase == 1 || (bit & need) != 0) ? 1 : 0);
                if (seen[next] != stamp) {
                    seen[next] = stamp;
                    parentEdge[next] = e;
                    parentState[next] = s;
                    queue[tail++] = next;
                }
            }
        }
        if (seen[goal] != stamp) {
            return null;
        }
        List<Integer> path = new ArrayList<>();
        for (int s = goal; s != s0; s = parentState[s]) {
            path.add(parentEdge[s]);
        }
        Collections.reverse(path);
        return path;
    }
}
