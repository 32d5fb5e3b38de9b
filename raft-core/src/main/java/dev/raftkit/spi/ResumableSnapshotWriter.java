package dev.raftkit.spi;

import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32C;

/**
 * Writes a snapshot received from a peer so that an interrupted transfer can resume: the bytes
 * are kept, with a checksummed record per chunk, in a partial file named by the snapshot's
 * identity (index, term, size and CRC32C), and a later transfer of the same snapshot continues
 * from {@link #resumeOffset()} instead of byte 0.
 *
 * <ul>
 *   <li><b>Thread:</b> one thread (the transport's snapshot pool) from begin to commit, abort or
 *       suspend.
 *   <li><b>Blocking:</b> yes, on I/O ({@link #checkpoint()} forces to disk).
 *   <li><b>Durability:</b> when {@link #checkpoint()} returns, every byte written so far is
 *       recorded as verified, and {@link #suspend()} keeps them (durably) for the next transfer; a
 *       store may batch the forcing of checkpoints, so a power cut may lose the last few, never
 *       more than it forced and never trusting what it did not (resuming re-checks the bytes).
 *       Bytes written after the last checkpoint are dropped on resume. {@code commit()} makes the
 *       snapshot durable and visible as {@link SnapshotWriter} says.
 *   <li><b>Exceptions:</b> an {@link IOException} from a write or checkpoint leaves the partial
 *       as of the last checkpoint; {@code commit()} throws {@link StorageException} (and discards
 *       the partial) if the bytes are not the size and CRC32C the sender announced.
 * </ul>
 */
public interface ResumableSnapshotWriter extends SnapshotWriter {

    /**
     * Bytes of the image already durable and verified (by their chunk records) when this writer
     * was opened, or since {@link #restart()}: the next byte written goes at this offset.
     */
    long resumeOffset();

    /** Records the bytes written since the last checkpoint as one verified chunk (durable as above). */
    void checkpoint() throws IOException;

    /** Forgets the partial's bytes and starts at offset 0 (a sender that starts over). */
    void restart() throws IOException;

    /**
     * Ends this transfer without committing and keeps the checkpointed bytes for a later one;
     * safe to call more than once. Stores that cannot resume discard them instead.
     */
    void suspend();

    /**
     * A writer that cannot resume: it starts at 0, and suspending it aborts {@code writer}. Its
     * commit checks the bytes written against {@code sizeBytes} and {@code crc32c} first.
     */
    static ResumableSnapshotWriter fromScratch(SnapshotWriter writer, long sizeBytes, int crc32c) {
        return new ResumableSnapshotWriter() {
            private final CRC32C crc = new CRC32C();
            private final OutputStream target = writer.output();
            private long written;
            private final OutputStream out = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    target.write(b);
                    crc.update(b);
                    written++;
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    target.write(b, off, len);
                    crc.update(b, off, len);
                    written += len;
                }

                @Override
                public void flush() throws IOException {
                    target.flush();
                }
            };

            @Override
            public long resumeOffset() {
                return 0;
            }

            @Override
            public void checkpoint() {
                // Nothing survives an interruption here: there is nothing to record.
            }

            @Override
            public void restart() throws IOException {
                if (written != 0) {
                    throw new IOException("this snapshot writer cannot restart after " + written + " bytes");
                }
            }

            @Override
            public void suspend() {
                writer.abort();
            }

            @Override
            public OutputStream output() {
                return out;
            }

            @Override
            public SnapshotDescriptor commit() throws IOException {
                if (written != sizeBytes || (int) crc.getValue() != crc32c) {
                    writer.abort();
                    throw new StorageException("a received snapshot of " + written + " bytes with CRC32C "
                            + Integer.toHexString((int) crc.getValue()) + " where the sender announced " + sizeBytes
                            + " bytes with CRC32C " + Integer.toHexString(crc32c) + "; discarded");
                }
                return writer.commit();
            }

            @Override
            public void abort() {
                writer.abort();
            }

            @Override
            public void close() {
                writer.close();
            }
        };
    }
}
