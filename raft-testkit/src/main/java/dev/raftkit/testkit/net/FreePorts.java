package dev.raftkit.testkit.net;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback ports for a cluster whose nodes must know each other's addresses before any of them
 * listens (a test cluster, the demo). The usual trick, bind port 0, read the port, close, races:
 * the kernel hands the same port to the next outgoing connection (any gRPC client in the process),
 * and the node's own bind then fails. These ports are drawn below the kernel's ephemeral range
 * ({@code /proc/sys/net/ipv4/ip_local_port_range}), which outgoing connections never use; each is
 * checked free on loopback and never handed out twice by this process.
 *
 * <p>Any thread; blocks only for the probe's bind.
 */
public final class FreePorts {

    /** Lowest port drawn: above the registered services most machines run. */
    private static final int LOW = 10_000;
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /** A loopback port free now, below the ephemeral range where one is known; else one the kernel picks. */
    public static int next() throws IOException {
        int high = ephemeralLow() - 1;
        if (high - LOW >= 1_000) {
            for (int attempt = 0; attempt < 200; attempt++) {
                int port = ThreadLocalRandom.current().nextInt(LOW, high + 1);
                if (GIVEN.add(port) && bindable(port)) {
                    return port;
                }
            }
        }
        // No room below the ephemeral range (or none free): the kernel's choice, racy as it is.
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            GIVEN.add(s.getLocalPort());
            return s.getLocalPort();
        }
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }

    /** The first port of the kernel's ephemeral range: Linux's file, else the IANA range's start. */
    static int ephemeralLow() {
        try {
            String[] range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return Integer.parseInt(range[0]);
        } catch (IOException | RuntimeException unknown) {
            return 49_152;
        }
    }
}
