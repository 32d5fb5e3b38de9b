package dev.raftkit.cli.bench;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;

/**
 * This machine's loopback round trip, measured like the shared {@code RttProbe}: a client thread
 * sends a fixed-size message over TCP (TCP_NODELAY, blocking sockets) and an echo thread returns it.
 */
public final class LoopbackRtt {

    /** Round-trip percentiles in microseconds and round trips per second. */
    public record Result(double p50Micros, double p99Micros, double perSecond, long samples) {
    }

    private LoopbackRtt() {
    }

    /** Ping-pongs {@code size}-byte messages for {@code warmupSeconds}, then measures for {@code seconds}. */
    public static Result measure(int size, double warmupSeconds, double seconds) throws IOException {
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread echo = new Thread(() -> {
                try (Socket s = ss.accept()) {
                    s.setTcpNoDelay(true);
                    DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
                    OutputStream out = s.getOutputStream();
                    byte[] b = new byte[size];
                    while (true) {
                        in.readFully(b);
                        out.write(b);
                        out.flush();
                    }
                } catch (IOException e) {
                    // the client closed: done
                }
            }, "bench-rtt-echo");
            echo.setDaemon(true);
            echo.start();
            try (Socket c = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
                c.setTcpNoDelay(true);
                InputStream raw = c.getInputStream();
                DataInputStream in = new DataInputStream(new BufferedInputStream(raw));
                OutputStream out = c.getOutputStream();
                byte[] msg = new byte[size];
                byte[] back = new byte[size];
                long warmEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
                while (System.nanoTime() < warmEnd) {
                    out.write(msg);
                    out.flush();
                    in.readFully(back);
                }
                long[] lat = new long[1 << 16];
                int n = 0;
                long t0 = System.nanoTime();
                long end = t0 + (long) (seconds * 1e9);
                long s;
                while ((s = System.nanoTime()) < end) {
                    out.write(msg);
                    out.flush();
                    in.readFully(back);
                    if (n == lat.length) {
                        lat = Arrays.copyOf(lat, n * 2);
                    }
                    lat[n++] = System.nanoTime() - s;
                }
                double elapsed = (System.nanoTime() - t0) / 1e9;
                if (n == 0) {
                    return new Result(Double.NaN, Double.NaN, 0, 0);
                }
                long[] l = Arrays.copyOf(lat, n);
                Arrays.sort(l);
                return new Result(l[n / 2] / 1e3, l[(int) Math.min(n - 1, (long) (n * 0.99))] / 1e3, n / elapsed, n);
            }
        }
    }
}
