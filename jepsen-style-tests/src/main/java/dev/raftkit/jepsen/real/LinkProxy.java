package dev.raftkit.jepsen.real;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A fault-injecting TCP proxy for one directed peer link: node {@code from} dials this proxy
 * (its {@code --peers} entry for {@code to} names the proxy's port) and the proxy dials node
 * {@code to}. Peer traffic is client-streaming ({@code from}'s Raft messages travel on
 * {@code from}'s own connection), so stalling this one proxy cuts the messages from {@code from}
 * to {@code to} and nothing else: that is what makes one-way partitions possible.
 *
 * <p>Modes: {@link Mode#PASS} forwards (after {@link #delayMillis} if set); {@link Mode#BLACKHOLE}
 * stops forwarding in both byte directions but keeps connections open, like a switch that silently
 * drops packets (TCP back-pressure holds the rest; on heal the buffered bytes flow on, as a late
 * retransmission would); {@link Mode#DROP} resets every connection and refuses new ones, like a
 * host that is down.
 *
 * <p>Threads: one accept thread, two pump threads per connection (at most {@value #MAX_CONNECTIONS}
 * connections). Every wait is bounded so {@link #close()} ends them all promptly.
 */
public final class LinkProxy implements AutoCloseable {

    /** What the link does with traffic. */
    public enum Mode { PASS, BLACKHOLE, DROP }

    static final int MAX_CONNECTIONS = 16;

    private final long from;
    private final long to;
    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Object lock = new Object();
    private volatile Mode mode = Mode.PASS;
    private volatile int delayMillis;
    private volatile boolean closed;

    /** Listens on a free loopback port and forwards to {@code target}. */
    public LinkProxy(long from, long to, InetSocketAddress target) throws IOException {
        this.from = from;
        this.to = to;
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "proxy-" + from + "->" + to);
        t.setDaemon(true);
        t.start();
    }

    /** Where it forwards to: the receiving node's peer listener. */
    public InetSocketAddress target() {
        return target;
    }

    /** host:port that node {@code from} should dial to reach node {@code to}. */
    public String hostPort() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    public Mode mode() {
        return mode;
    }

    /** Changes the mode; {@link Mode#DROP} resets open connections at once. */
    public void setMode(Mode m) {
        synchronized (lock) {
            mode = m;
            lock.notifyAll();
        }
        if (m == Mode.DROP) {
            closeConnections();
        }
    }

    /** Extra latency per forwarded chunk (0: none), at most 2 s. */
    public void setDelayMillis(int millis) {
        delayMillis = Math.max(0, Math.min(2000, millis));
    }

    private void acceptLoop() {
        while (!closed) {
            Socket in;
            try {
                in = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (mode == Mode.DROP || sockets.size() >= 2 * MAX_CONNECTIONS) {
                closeQuietly(in);
                continue;
            }
            Socket out = new Socket();
            try {
                out.connect(target, 1000);
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
            } catch (IOException e) {
                // The target node is down (killed, or not started yet): the dialler sees a reset.
                closeQuietly(in);
                closeQuietly(out);
                continue;
            }
            sockets.add(in);
            sockets.add(out);
            startPump(in, out, "up");
            startPump(out, in, "down");
        }
    }

    private void startPump(Socket src, Socket dst, String dir) {
        Thread t = new Thread(() -> pump(src, dst), "proxy-" + from + "->" + to + "-" + dir);
        t.setDaemon(true);
        t.start();
    }

    private void pump(Socket src, Socket dst) {
        byte[] buf = new byte[16 * 1024];
        try (InputStream in = src.getInputStream(); OutputStream out = dst.getOutputStream()) {
            while (!closed) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                if (!awaitPassable()) {
                    break;
                }
                int d = delayMillis;
                if (d > 0) {
                    Thread.sleep(d);
                }
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (SocketException e) {
            // Reset by a DROP, by close(), or by a killed node: the connection is gone either way.
        } catch (IOException e) {
            // Same: the other side went away.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(src);
            closeQuietly(dst);
            sockets.remove(src);
            sockets.remove(dst);
        }
    }

    /** Waits while black-holed (in bounded slices); false if the connection must go. */
    private boolean awaitPassable() throws InterruptedException {
        synchronized (lock) {
            while (mode == Mode.BLACKHOLE && !closed) {
                lock.wait(200);
            }
        }
        return !closed && mode != Mode.DROP;
    }

    private void closeConnections() {
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (lock) {
            lock.notifyAll();
        }
        closeQuietly(server);
        closeConnections();
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // Nothing to do: closing is best effort.
        }
    }

    @Override
    public String toString() {
        return "link " + from + "->" + to + " (" + mode + (delayMillis > 0 ? ", +" + delayMillis + " ms" : "") + ")";
    }
}
