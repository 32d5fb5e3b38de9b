package dev.raftkit.node.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of a node's peer port that can cut every connection through it after a
 * given number of bytes towards the node (a broken link in the middle of a transfer), and then
 * refuse new connections until {@link #reopen()}. Test code: a thread per direction of a connection.
 */
final class CuttingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong forwarded = new AtomicLong();
    private final CountDownLatch cut = new CountDownLatch(1);
    private volatile long cutAt = Long.MAX_VALUE;
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

    /** Cuts every connection once {@code bytes} more bytes went towards the node. */
    void cutAfter(long bytes) {
        forwarded.set(0);
        cutAt = bytes;
    }

    boolean awaitCut(Duration timeout) throws InterruptedException {
        return cut.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Accepts connections again after a cut. */
    void reopen() {
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
                    if (towardsNode) {
                        long total = forwarded.addAndGet(n);
                        if (total >= cutAt) {
                            int allowed = (int) Math.max(0, n - (total - cutAt));
                            out.write(buf, 0, allowed);
                            out.flush();
                            cutAll();
                            return;
                        }
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
        if (cutAt == Long.MAX_VALUE) {
            return;
        }
        cutAt = Long.MAX_VALUE;
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
        cut.countDown();
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
