package dev.raftkit.testkit.net;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreePortsTest {

    @Test
    void portsAreDistinctBindableAndBelowTheEphemeralRange() throws Exception {
        int ephemeral = FreePorts.ephemeralLow();
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            int port = FreePorts.next();
            assertTrue(seen.add(port), "port " + port + " handed out twice");
            if (ephemeral - 10_000 >= 1_000) {
                assertTrue(port >= 10_000 && port < ephemeral, "port " + port + " is in the ephemeral range from " + ephemeral);
            }
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1); // free, as promised
            }
        }
    }
}
