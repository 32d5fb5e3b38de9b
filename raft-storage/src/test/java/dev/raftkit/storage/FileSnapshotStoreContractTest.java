package dev.raftkit.storage;

import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.spi.SnapshotStoreContractTest;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** {@link FileSnapshotStore} meets the {@link SnapshotStore} contract on the real file system. */
class FileSnapshotStoreContractTest extends SnapshotStoreContractTest {

    @TempDir
    Path dir;

    @Override
    protected SnapshotStore create() throws Exception {
        return FileSnapshotStore.open(dir.resolve("snapshots"));
    }

    @Override
    protected SnapshotStore reopen(SnapshotStore store) throws Exception {
        store.close();
        return create();
    }
}
