package dev.raftkit.core.log;

import dev.raftkit.runtime.MemoryLogStorage;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.spi.LogStorageContractTest;

/** {@link MemoryLogStorage} meets the {@link LogStorage} contract. */
class MemoryLogStorageContractTest extends LogStorageContractTest {

    @Override
    protected LogStorage create() {
        return new MemoryLogStorage();
    }
}
