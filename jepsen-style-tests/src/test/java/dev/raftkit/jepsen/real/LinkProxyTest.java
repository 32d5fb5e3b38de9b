package dev.raftkit.jepsen.real;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy against a loopback echo server: passes, black-holes (and resumes), drops. */
class LinkProxyTest {

    private ServerSocket echo;
    private Thread echoThread;
    private LinkProxy proxy;

    @BeforeEach
    void startEcho() throws IOException {
        echo = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        echoThread = new Thread(() -> {
            for (int i = 0; i < 10; i++) { // bounded: the tests open at most a few connections
                try {
                    Socket s = echo.accept();
                    Thread t = new Thread(() -> {
                        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                            in.transferTo(out);
                        } catch (IOException e) {
                            // the test closed it
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        echoThread.setDaemon(true);
        echoThread.start();
        proxy = new LinkProxy(1, 2, new InetSocketAddress(InetAddress.getLoopbackAddress(), echo.getLocalPort()));
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        echo.close();
    }

    private Socket dial() throws IOException {
        String[] hp = proxy.hostPort().split(":");
        Socket s = new Socket(hp[0], Integer.parseInt(hp[1]));
        // Generous for bytes that must arrive (a loaded machine is slow); tests that expect
        // silence shorten it first.
        s.setSoTimeout(5000);
        return s;
    }

    @Test
    void passesBytesBothWays() throws IOException {
        try (Socket s = dial()) {
            s.getOutputStream().write(42);
            assertEquals(42, s.getInputStream().read());
        }
    }

    @Test
    void aBlackHoleHoldsTrafficUntilHealedAndThenDeliversIt() throws IOException {
        try (Socket s = dial()) {
            s.getOutputStream().write(1);
            assertEquals(1, s.getInputStream().read());
            proxy.setMode(LinkProxy.Mode.BLACKHOLE);
            s.getOutputStream().write(2);
            s.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read(), "nothing may pass a black hole");
            proxy.setMode(LinkProxy.Mode.PASS);
            s.setSoTimeout(5000);
            assertEquals(2, s.getInputStream().read(), "held bytes flow on after healing");
        }
    }

    @Test
    void dropResetsOpenConnections() throws IOException {
        try (Socket s = dial()) {
            s.getOutputStream().write(1);
            assertEquals(1, s.getInputStream().read());
            proxy.setMode(LinkProxy.Mode.DROP);
            s.setSoTimeout(300);
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                try {
                    return s.getInputStream().read() < 0; // closed by the proxy
                } catch (SocketTimeoutException e) {
                    return false; // still open: keep waiting
                } catch (IOException e) {
                    return true; // reset by the proxy
                }
            });
        }
    }
}
