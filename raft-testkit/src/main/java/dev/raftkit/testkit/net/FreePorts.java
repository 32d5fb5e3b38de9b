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
 * ({@code /proc/sys/net/ipv4/ip_local_port_range}), which outgoing connections never use, or above
 * it where it starts too low to leave room; each is checked free on loopback and never handed out
 * twice by this process.
 *
 * <p>Any thread; blocks only for the probe's bind.
 */
public final class FreePorts {

    /** Lowest port drawn: above the registered services most machines run. */
    private static final int LOW = 10_000;
    private static final int MAX_PORT = 65_535;
    private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /**
     * A loopback port free now and not handed out before by this process: outside the ephemeral
     * range where there is room for one (below it, or above it when a machine's range starts
     * low); else one the kernel picks, which can race an outgoing connection as described above.
     */
    public static int next() throws IOException {
        int[] range = ephemeralRange();
        int below = Math.max(0, range[0] - LOW);        // ports LOW .. range[0]-1
        int above = Math.max(0, MAX_PORT - range[1]);   // ports range[1]+1 .. MAX_PORT
        if (below + above >= 1_000) {
            for (int attempt = 0; attempt < 200; attempt++) {
                int pick = ThreadLocalRandom.current().nextInt(below + above);
                int port = pick < below ? LOW + pick : range[1] + 1 + (pick - below);
                if (GIVEN.add(port) && bindable(port)) {
                    return port;
                }
            }
        }
        // No room outside the ephemeral range (or none free there): the kernel's choice. It may
        // offer a port it offered before once that probe is closed, so ask until it is a new one.
        for (int attempt = 0; attempt < 1_000; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                if (GIVEN.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            }
        }
        throw new IOException("no free loopback port this process has not handed out already, after 1000 tries;"
                + " the machine is out of ports: close the clusters that hold them");
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

    /**
     * The kernel's ephemeral range, first and last port: Linux's file, else the IANA range
     * (49152-65535), which a machine that does not say is most likely to use.
     */
    static int[] ephemeralRange() {
        try {
            String[] range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return new int[] {Integer.parseInt(range[0]), Integer.parseInt(range[1])};
        } catch (IOException | RuntimeException unknown) {
            return new int[] {49_152, MAX_PORT};
        }
    }
}
