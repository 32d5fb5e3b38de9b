package dev.raftkit.storage;

import java.nio.file.Path;

/**
 * Run in a child JVM by {@link StartupChecksTest}: tries to open the log in {@code args[0]} as a
 * second server process would, and prints {@code OPENED} or {@code REFUSED: <message>}.
 */
public final class LockProbe {

    private LockProbe() {
    }

    public static void main(String[] args) throws Exception {
        try (SegmentedLogStorage log = SegmentedLogStorage.open(Path.of(args[0]),
                SegmentedLogStorage.Options.defaults().withSegmentBytes(1 << 20).withPreallocate(false))) {
            System.out.println("OPENED at " + log.lastIndex());
        } catch (dev.raftkit.spi.StorageException e) {
            System.out.println("REFUSED: " + e.getMessage());
        }
    }
}
