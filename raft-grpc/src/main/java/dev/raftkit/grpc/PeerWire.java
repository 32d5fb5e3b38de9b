package dev.raftkit.grpc;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.Message;
import dev.raftkit.grpc.proto.AppendEntriesProto;
import dev.raftkit.grpc.proto.EntryIdProto;
import dev.raftkit.grpc.proto.EntryProto;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.grpc.proto.RaftPeerGrpc;
import dev.raftkit.grpc.proto.StreamSummary;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;

/**
 * The message stream's wire form ({@code PeerEnvelope} of {@code raft.proto}), written and read
 * without the generated message objects for AppendEntries, the one message whose size grows with
 * the load.
 *
 * <p>Encoding an append through the generated builders made a builder, an {@code EntryProto} and
 * a {@code ByteString} per entry per follower; decoding one made a builder, an {@code EntryProto}
 * and a copy of the payload per entry, and {@link MessageCodec} then copied the payload again into
 * the {@link Entry}. Here an append is written straight from the core's entries into one array
 * of its exact size, and read straight from the received bytes into {@link RawEntries}: one copy
 * of each payload, no object per entry but its array. The bytes are exactly those the generated
 * code writes (fields in number order, defaults left out; {@code PeerWireTest} compares them), so
 * a node built either way, or any protobuf client, reads them.
 *
 * <p>Reading takes the fast path only for an envelope in that canonical form. Anything else a
 * protobuf parser must accept — fields out of order or repeated (scalars: the last wins; messages:
 * merged), unknown fields, another body — is parsed by the generated parser instead, so every
 * sender is read exactly as protobuf reads it; {@link MessageCodec} validates both alike.
 */
final class PeerWire {

    /** The field number of {@code append_entries} in {@code PeerEnvelope}. */
    private static final int ENVELOPE_APPEND = 10;
    private static final byte[] EMPTY = new byte[0];

    /** The client's side of {@code RaftPeer.Stream}: each request is an already encoded envelope. */
    static final MethodDescriptor<byte[], StreamSummary> STREAM_OUT = RaftPeerGrpc.getStreamMethod()
            .toBuilder(new EncodedMarshaller(), RaftPeerGrpc.getStreamMethod().getResponseMarshaller())
            .build();

    /** The server's side of {@code RaftPeer.Stream}: each request read into an {@link Incoming}. */
    static final MethodDescriptor<Incoming, StreamSummary> STREAM_IN = RaftPeerGrpc.getStreamMethod()
            .toBuilder(new IncomingMarshaller(), RaftPeerGrpc.getStreamMethod().getResponseMarshaller())
            .build();

    private PeerWire() {
    }

    /**
     * An envelope as received: its header and body, and for an append read on the fast path its
     * entries apart ({@code envelope}'s append then holds only {@code prev} and {@code commit}).
     *
     * @param entries the append's entries read from the bytes, or null: the envelope holds them
     */
    record Incoming(PeerEnvelope envelope, RawEntries entries) {
    }

    /**
     * An append's entries as they were on the wire, unchecked: {@link MessageCodec} validates them
     * before any becomes an {@link Entry}. Parallel arrays, so a message of any length costs a few
     * objects and one array per payload.
     */
    static final class RawEntries {
        private long[] terms;
        private long[] indexes;
        private int[] types;
        private byte[][] data;
        private int count;

        RawEntries(int capacity) {
            int c = Math.max(capacity, 4);
            terms = new long[c];
            indexes = new long[c];
            types = new int[c];
            data = new byte[c][];
        }

        /** The entries of a generated message (the fallback path), with their payloads copied. */
        static RawEntries of(AppendEntriesProto a) {
            RawEntries r = new RawEntries(a.getEntriesCount());
            for (int i = 0; i < a.getEntriesCount(); i++) {
                EntryProto p = a.getEntries(i);
                r.add(p.getTerm(), p.getIndex(), p.getTypeValue(), p.getData().toByteArray());
            }
            return r;
        }

        void add(long term, long index, int type, byte[] payload) {
            if (count == terms.length) {
                int c = count * 2;
                terms = Arrays.copyOf(terms, c);
                indexes = Arrays.copyOf(indexes, c);
                types = Arrays.copyOf(types, c);
                data = Arrays.copyOf(data, c);
            }
            terms[count] = term;
            indexes[count] = index;
            types[count] = type;
            data[count] = payload;
            count++;
        }

        int count() {
            return count;
        }

        long term(int i) {
            return terms[i];
        }

        long index(int i) {
            return indexes[i];
        }

        /** The {@code EntryTypeProto} number, unchecked. */
        int type(int i) {
            return types[i];
        }

        byte[] data(int i) {
            return data[i];
        }
    }

    // ------------------------------------------------------------------------------------ encode

    /** The wire bytes of {@code m} stamped with {@code clusterId}: those {@link MessageCodec#encode} makes. */
    static byte[] encode(String clusterId, Message m) {
        if (!(m instanceof AppendEntries a)) {
            return MessageCodec.encode(clusterId, m).toByteArray();
        }
        List<Entry> entries = a.slice().entries();
        int prevSize = entryIdSize(a.slice().prev().term(), a.slice().prev().index());
        int appendSize = CodedOutputStream.computeTagSize(1) + CodedOutputStream.computeUInt32SizeNoTag(prevSize) + prevSize
                + uint64Size(3, a.commit());
        int[] entrySizes = new int[entries.size()];
        for (int i = 0; i < entrySizes.length; i++) {
            Entry e = entries.get(i);
            int s = uint64Size(1, e.term()) + uint64Size(2, e.index())
                    + CodedOutputStream.computeEnumSize(3, typeNumber(e.type()))
                    + (e.data().length == 0 ? 0 : CodedOutputStream.computeByteArraySize(4, e.data()));
            entrySizes[i] = s;
            appendSize += CodedOutputStream.computeTagSize(2) + CodedOutputStream.computeUInt32SizeNoTag(s) + s;
        }
        int size = (clusterId.isEmpty() ? 0 : CodedOutputStream.computeStringSize(1, clusterId))
                + uint64Size(2, m.from()) + uint64Size(3, m.to()) + uint64Size(4, m.term())
                + CodedOutputStream.computeTagSize(ENVELOPE_APPEND) + CodedOutputStream.computeUInt32SizeNoTag(appendSize)
                + appendSize;
        byte[] out = new byte[size];
        CodedOutputStream o = CodedOutputStream.newInstance(out);
        try {
            if (!clusterId.isEmpty()) {
                o.writeString(1, clusterId);
            }
            writeUInt64(o, 2, m.from());
            writeUInt64(o, 3, m.to());
            writeUInt64(o, 4, m.term());
            o.writeTag(ENVELOPE_APPEND, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            o.writeUInt32NoTag(appendSize);
            o.writeTag(1, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            o.writeUInt32NoTag(prevSize);
            writeUInt64(o, 1, a.slice().prev().term());
            writeUInt64(o, 2, a.slice().prev().index());
            for (int i = 0; i < entrySizes.length; i++) {
                Entry e = entries.get(i);
                o.writeTag(2, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                o.writeUInt32NoTag(entrySizes[i]);
                writeUInt64(o, 1, e.term());
                writeUInt64(o, 2, e.index());
                o.writeEnum(3, typeNumber(e.type()));
                if (e.data().length > 0) {
                    o.writeByteArray(4, e.data());
                }
            }
            writeUInt64(o, 3, a.commit());
            o.checkNoSpaceLeft();
        } catch (IOException e) {
            // A miscounted size: a bug here, never the input's fault.
            throw new IllegalStateException("encoding an append to node " + m.to() + " overran its computed size", e);
        }
        return out;
    }

    private static int typeNumber(EntryType type) {
        return type == EntryType.NORMAL ? 1 : 2;
    }

    private static int entryIdSize(long term, long index) {
        return uint64Size(1, term) + uint64Size(2, index);
    }

    /** Proto3 leaves a zero scalar out. */
    private static int uint64Size(int field, long value) {
        return value == 0 ? 0 : CodedOutputStream.computeUInt64Size(field, value);
    }

    private static void writeUInt64(CodedOutputStream o, int field, long value) throws IOException {
        if (value != 0) {
            o.writeUInt64(field, value);
        }
    }

    // ------------------------------------------------------------------------------------ decode

    /**
     * The envelope in {@code buf[0, length)}: on the fast path for a canonical append, else by
     * the generated parser.
     *
     * @throws IOException (an {@link InvalidProtocolBufferException}) if the bytes are not a {@code PeerEnvelope}
     */
    static Incoming parse(byte[] buf, int length) throws IOException {
        Incoming fast = parseCanonicalAppend(buf, length);
        return fast != null ? fast : new Incoming(PeerEnvelope.parser().parseFrom(buf, 0, length), null);
    }

    /** A canonical append read straight from the bytes, or null if they are anything else. */
    private static Incoming parseCanonicalAppend(byte[] buf, int length) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(buf, 0, length);
        PeerEnvelope.Builder header = PeerEnvelope.newBuilder();
        int lastField = 0;
        RawEntries entries = null;
        AppendEntriesProto.Builder append = null;
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                break;
            }
            int field = WireFormat.getTagFieldNumber(tag);
            if (field <= lastField || entries != null) {
                return null;  // out of order, repeated, or anything after the body
            }
            lastField = field;
            switch (tag) {
                case (1 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> header.setClusterId(in.readStringRequireUtf8());
                case (2 << 3) | WireFormat.WIRETYPE_VARINT -> header.setFrom(in.readUInt64());
                case (3 << 3) | WireFormat.WIRETYPE_VARINT -> header.setTo(in.readUInt64());
                case (4 << 3) | WireFormat.WIRETYPE_VARINT -> header.setTerm(in.readUInt64());
                case (ENVELOPE_APPEND << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
                    int limit = in.pushLimit(in.readRawVarint32());
                    append = AppendEntriesProto.newBuilder();
                    entries = readAppend(in, append);
                    if (entries == null) {
                        return null;
                    }
                    in.popLimit(limit);
                }
                default -> {
                    return null;  // another body, an unknown field, or a field of the wrong wire type
                }
            }
        }
        if (entries == null) {
            return null;
        }
        return new Incoming(header.setAppendEntries(append).build(), entries);
    }

    /** The body of a canonical append, its prev and commit into {@code append}; null if not canonical. */
    private static RawEntries readAppend(CodedInputStream in, AppendEntriesProto.Builder append) throws IOException {
        RawEntries entries = new RawEntries(8);
        boolean prev = false;
        boolean commit = false;
        while (true) {
            int tag = in.readTag();
            if (tag == 0) {
                return entries;
            }
            if (commit) {
                return null;  // commit (field 3) comes last
            }
            switch (tag) {
                case (1 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
                    if (prev || entries.count() > 0) {
                        return null;
                    }
                    prev = true;
                    int limit = in.pushLimit(in.readRawVarint32());
                    EntryIdProto id = readEntryId(in);
                    if (id == null) {
                        return null;
                    }
                    in.popLimit(limit);
                    append.setPrev(id);
                }
                case (2 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
                    int limit = in.pushLimit(in.readRawVarint32());
                    if (!readEntry(in, entries)) {
                        return null;
                    }
                    in.popLimit(limit);
                }
                case (3 << 3) | WireFormat.WIRETYPE_VARINT -> {
                    commit = true;
                    append.setCommit(in.readUInt64());
                }
                default -> {
                    return null;
                }
            }
        }
    }

    /** An entry id in canonical form, or null. */
    private static EntryIdProto readEntryId(CodedInputStream in) throws IOException {
        EntryIdProto.Builder id = EntryIdProto.newBuilder();
        int lastField = 0;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field <= lastField) {
                return null;
            }
            lastField = field;
            switch (tag) {
                case (1 << 3) | WireFormat.WIRETYPE_VARINT -> id.setTerm(in.readUInt64());
                case (2 << 3) | WireFormat.WIRETYPE_VARINT -> id.setIndex(in.readUInt64());
                default -> {
                    return null;
                }
            }
        }
        return id.build();
    }

    private static boolean readEntry(CodedInputStream in, RawEntries entries) throws IOException {
        long term = 0;
        long index = 0;
        int type = 0;
        byte[] data = EMPTY;
        int lastField = 0;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field <= lastField) {
                return false;
            }
            lastField = field;
            switch (tag) {
                case (1 << 3) | WireFormat.WIRETYPE_VARINT -> term = in.readUInt64();
                case (2 << 3) | WireFormat.WIRETYPE_VARINT -> index = in.readUInt64();
                case (3 << 3) | WireFormat.WIRETYPE_VARINT -> type = in.readEnum();
                case (4 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> data = in.readByteArray();
                default -> {
                    return false;
                }
            }
        }
        entries.add(term, index, type, data);
        return true;
    }

    // ------------------------------------------------------------------------------- marshallers

    /** An encoded envelope as gRPC's framer wants it: its length known, drained in one write. */
    private static final class EncodedMarshaller implements MethodDescriptor.Marshaller<byte[]> {
        @Override
        public InputStream stream(byte[] value) {
            return new EncodedStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            throw new UnsupportedOperationException("the client side of the message stream only sends");
        }
    }

    /** The bytes as a stream gRPC's framer drains into its buffer in one write. */
    private static final class EncodedStream extends ByteArrayInputStream implements KnownLength, Drainable {
        EncodedStream(byte[] bytes) {
            super(bytes);
        }

        @Override
        public synchronized int drainTo(OutputStream target) throws IOException {
            int n = count - pos;
            target.write(buf, pos, n);
            pos = count;
            return n;
        }
    }

    /**
     * Reads a received envelope. The bytes are read into a buffer of this thread (an event loop
     * thread parses one message at a time, and nothing parsed refers to the buffer afterwards);
     * failures are {@link io.grpc.StatusRuntimeException}s, which {@link MalformedRequestGuard}
     * turns into a refusal.
     */
    private static final class IncomingMarshaller implements MethodDescriptor.Marshaller<Incoming> {
        private static final int MAX_KEPT_BUFFER = 1 << 20;
        private final ThreadLocal<byte[]> buffers = ThreadLocal.withInitial(() -> new byte[8192]);

        @Override
        public InputStream stream(Incoming value) {
            throw new UnsupportedOperationException("the server side of the message stream only receives");
        }

        @Override
        public Incoming parse(InputStream stream) {
            try (stream) {
                byte[] buf = buffers.get();
                int known = stream.available();  // gRPC's streams know their length (KnownLength)
                if (known > buf.length) {
                    buf = new byte[known];
                }
                int length = 0;
                while (true) {
                    if (length == buf.length) {
                        int b = stream.read();  // full: grow only if there is more
                        if (b < 0) {
                            break;
                        }
                        buf = Arrays.copyOf(buf, buf.length * 2);
                        buf[length++] = (byte) b;
                        continue;
                    }
                    int n = stream.read(buf, length, buf.length - length);
                    if (n < 0) {
                        break;
                    }
                    length += n;
                }
                if (buf.length <= MAX_KEPT_BUFFER) {
                    buffers.set(buf);
                }
                return PeerWire.parse(buf, length);
            } catch (InvalidProtocolBufferException e) {
                throw Status.INTERNAL.withDescription("invalid PeerEnvelope: " + e.getMessage()).withCause(e)
                        .asRuntimeException();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
