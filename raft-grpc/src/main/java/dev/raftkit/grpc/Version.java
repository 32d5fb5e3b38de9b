package dev.raftkit.grpc;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Raftkit's version as this module was built, from the Maven-filtered {@code version.properties}
 * beside this class: what a server reports in its status and on its HTTP port. Any thread.
 */
public final class Version {

    /** Read once: the file cannot change while the jar is loaded. */
    private static final String CURRENT = read();

    private Version() {
    }

    /** The version, for example {@code 0.1.0-SNAPSHOT}; {@code ""} if the file is missing (an unfiltered build). */
    public static String current() {
        return CURRENT;
    }

    private static String read() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "");
            // Left unfiltered (run from an IDE's own build), the placeholder says nothing true.
            return v.startsWith("${") ? "" : v;
        } catch (IOException e) {
            return "";
        }
    }
}
