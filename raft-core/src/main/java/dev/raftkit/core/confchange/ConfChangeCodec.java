package dev.raftkit.core.confchange;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The payload of a {@code CONF_CHANGE} entry: {@code [version:1][transition:1][count:4]} then
 * {@code count × [type:1][nodeId:8]}, big-endian. Documented in {@code docs/storage-format.md}.
 */
public final class ConfChangeCodec {

    private static final byte VERSION = 1;
    private static final int MAX_STEPS = 1024;

    private ConfChangeCodec() {
    }

    public static byte[] encode(ConfChange change) {
        ByteBuffer buf = ByteBuffer.allocate(6 + 9 * change.steps().size());
        buf.put(VERSION).put((byte) change.transition().ordinal()).putInt(change.steps().size());
        for (ConfChange.Step step : change.steps()) {
            buf.put((byte) step.type().ordinal()).putLong(step.nodeId());
        }
        return buf.array();
    }

    /**
     * Decodes a payload.
     *
     * @throws IllegalArgumentException saying what is wrong with the payload
     */
    public static ConfChange decode(byte[] data) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(data);
            byte version = buf.get();
            if (version != VERSION) {
                throw new IllegalArgumentException("unknown configuration change version " + version);
            }
            ConfChange.Transition transition = ConfChange.Transition.values()[buf.get()];
            int count = buf.getInt();
            if (count < 0 || count > MAX_STEPS) {
                throw new IllegalArgumentException("configuration change with " + count + " steps");
            }
            List<ConfChange.Step> steps = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                steps.add(new ConfChange.Step(ConfChange.Type.values()[buf.get()], buf.getLong()));
            }
            if (buf.hasRemaining()) {
                throw new IllegalArgumentException(buf.remaining() + " trailing bytes after configuration change");
            }
            return new ConfChange(steps, transition);
        } catch (BufferUnderflowException | ArrayIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("truncated or malformed configuration change of "
                    + data.length + " bytes", e);
        }
    }
}
