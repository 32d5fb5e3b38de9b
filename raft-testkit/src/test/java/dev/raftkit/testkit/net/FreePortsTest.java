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
        int[] ephemeral = FreePorts.ephemeralRange();
        boolean roomOutside = Math.max(0, ephemeral[0] - 10_000) + (65_535 - ephemeral[1]) >= 1_000;
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            int port = FreePorts.next();
            assertTrue(seen.add(port), "port " + port + " handed out twice");
            if (roomOutside) {
                assertTrue(port < ephemeral[0] || port > ephemeral[1],
                        "port " + port + " is in the ephemeral range " + ephemeral[0] + "-" + ephemeral[1]);
            }
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1); // free, as promised
            }
        }
    }
}
