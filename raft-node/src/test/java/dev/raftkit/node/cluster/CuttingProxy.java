package dev.raftkit.node.cluster;

import com.google.common.util.concurrent.RateLimiter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of a node's peer port that can slow the bytes towards the node to a given
 * rate and cut every connection through it at once (a broken link in the middle of a transfer),
 * then refuse new connections until {@link #reopen()}. Test code: a thread per direction of a
 * connection.
 */
final class CuttingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile RateLimiter rate;
    private volatile boolean refusing;
    private volatile boolean closed;

    CuttingProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "cutting-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    /** From now on, at most {@code bytesPerSecond} towards the node. */
    void throttle(long bytesPerSecond) {
        rate = RateLimiter.create(bytesPerSecond);
    }

    /** Cuts every connection now, and refuses new ones until {@link #reopen()}. */
    void cutNow() {
        cutAll();
    }

    /** Accepts connections again after a cut. */
    void reopen() {
        rate = null;
        refusing = false;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            if (refusing) {
                quietly(client);
                continue;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(target, 2000);
            } catch (IOException e) {
                quietly(client);
                quietly(upstream);
                continue;
            }
            open.add(client);
            open.add(upstream);
            pump(client, upstream, true);
            pump(upstream, client, false);
        }
    }

    private void pump(Socket from, Socket to, boolean towardsNode) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 << 10];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    RateLimiter r = rate;
                    if (towardsNode && r != null) {
                        r.acquire(n);
                    }
                    if (refusing) {
                        return; // cut meanwhile
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // the other side went away, or we cut it
            } finally {
                quietly(from);
                quietly(to);
            }
        }, "cutting-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private synchronized void cutAll() {
        refusing = true;
        for (Socket s : open) {
            try {
                s.setSoLinger(true, 0); // a reset, as a broken link looks to both ends
            } catch (IOException e) {
                // closing anyway
            }
            quietly(s);
        }
        open.clear();
    }

    private static void quietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // nothing to do
        }
        open.forEach(CuttingProxy::quietly);
    }
}
