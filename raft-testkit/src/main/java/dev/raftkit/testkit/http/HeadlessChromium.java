package dev.raftkit.testkit.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Debian's Chromium, headless, for tests that check what a page shows once its scripts have run
 * (the HTTP port's status page). Started with the flags this sandboxed machine needs (no sandbox,
 * no GPU, no background networking: the network is closed) and a fresh profile directory.
 * Install it with {@code apt-get install -y chromium}; tests skip with an assumption when
 * {@link #available()} is false.
 */
public final class HeadlessChromium {

    /** Where Debian's package puts it. */
    public static final Path BINARY = Path.of("/usr/bin/chromium");

    private HeadlessChromium() {
    }

    /** True if Chromium is installed here. */
    public static boolean available() {
        return Files.isExecutable(BINARY);
    }

    /**
     * The DOM Chromium builds from {@code url} after five seconds of virtual time (the page's
     * script has run), with a new profile under {@code scratch}. Blocks up to a minute.
     *
     * @throws IOException if Chromium cannot start or does not finish within a minute
     */
    public static String dumpDom(Path scratch, String url) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(scratch, "chromium");
        Process p = new ProcessBuilder(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=5000", "--dump-dom", url)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("chromium did not finish loading " + url + " within 60 s");
        }
        return dom;
    }
}
