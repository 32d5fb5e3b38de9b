package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The segmented log reports its file system's free space and directory for the runtime's watermark. */
class LogUsableSpaceTest {

    private static final Path DIR = Path.of("/disk/log");

    @Test
    void theLogReportsWhatItsFileSystemHasFree() throws Exception {
        SimFileIo fs = new SimFileIo().mkdirsDurable(DIR.getParent());
        try (SegmentedLogStorage log = SegmentedLogStorage.open(fs, DIR, SegmentedLogStorage.Options.defaults()
                .withSegmentBytes(64 * 1024).withPreallocate(false))) {
            assertEquals(Long.MAX_VALUE, log.usableSpace());
            fs.usableSpace(12_345);
            assertEquals(12_345, log.usableSpace());
            assertEquals(DIR.toString(), log.location());
        }
    }
}
