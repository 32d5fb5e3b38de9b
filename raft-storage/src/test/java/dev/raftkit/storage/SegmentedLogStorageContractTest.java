package dev.raftkit.storage;

import dev.raftkit.spi.LogStorage;
import dev.raftkit.spi.LogStorageContractTest;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SegmentedLogStorage} meets the {@link LogStorage} contract on the real file system, with
 * segments small enough that the tests cross segment boundaries, and reopening after every sync.
 */
class SegmentedLogStorageContractTest extends LogStorageContractTest {

    @TempDir
    Path dir;

    SegmentedLogStorage.Options options() {
        return SegmentedLogStorage.Options.defaults().withSegmentBytes(4096).withCacheBytes(1 << 20);
    }

    @Override
    protected LogStorage create() throws Exception {
        return SegmentedLogStorage.open(dir.resolve("log"), options());
    }

    @Override
    protected LogStorage reopen(LogStorage log) throws Exception {
        log.close();
        return create();
    }

    /** Without cache or preallocation, with a compaction margin: every read goes to disk. */
    @Nested
    class Uncached extends LogStorageContractTest {
        @Override
        protected LogStorage create() throws Exception {
            return SegmentedLogStorage.open(dir.resolve("log2"), SegmentedLogStorage.Options.defaults()
                    .withSegmentBytes(4096).withCacheBytes(0).withPreallocate(false).withCompactionMargin(3));
        }

        @Override
        protected LogStorage reopen(LogStorage log) throws Exception {
            log.close();
            return create();
        }
    }
}
