package dev.raftkit.sql;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What a client sends: statements to execute as one replicated transaction, statements to run
 * as a read, or a request for the database's content digest. Encoded with a versioned header
 * (see {@link SqlWire}); build them with {@link SqlOps}.
 */
public sealed interface SqlRequest {

    byte EXECUTE = 1;
    byte QUERY = 2;
    byte DIGEST = 3;

    /** Statements applied through the log, all or nothing. */
    record Execute(List<SqlStatement> statements) implements SqlRequest {
        public Execute {
            statements = List.copyOf(statements);
        }
    }

    /** Read-only statements, run on one node with the runtime's read modes. */
    record Query(List<SqlStatement> statements) implements SqlRequest {
        public Query {
            statements = List.copyOf(statements);
        }
    }

    /** The full-content digest of the database (as a read): one row, column {@code digest}. */
    record Digest() implements SqlRequest {
    }

    default byte[] encode() {
        if (this instanceof Execute e) {
            return encodeStatements(EXECUTE, e.statements());
        }
        if (this instanceof Query q) {
            return encodeStatements(QUERY, q.statements());
        }
        return SqlWire.encode(DIGEST, out -> { });
    }

    private static byte[] encodeStatements(byte kind, List<SqlStatement> statements) {
        return SqlWire.encode(kind, out -> {
            out.writeInt(statements.size());
            for (SqlStatement s : statements) {
                SqlWire.writeString(out, s.sql());
                out.writeInt(s.params().size());
                for (Object p : s.params()) {
                    SqlWire.writeValue(out, p);
                }
            }
        });
    }

    /** Decodes a request; {@link SqlCodecException} if the bytes are not one. */
    static SqlRequest decode(byte[] bytes) {
        ByteBuffer in = SqlWire.open(bytes, "request");
        try {
            byte kind = in.get();
            SqlRequest r = switch (kind) {
                case EXECUTE -> new Execute(readStatements(in));
                case QUERY -> new Query(readStatements(in));
                case DIGEST -> new Digest();
                default -> throw new SqlCodecException("unknown SQL request kind " + kind);
            };
            SqlWire.end(in, "request");
            return r;
        } catch (BufferUnderflowException e) {
            throw SqlWire.truncated("request");
        }
    }

    private static List<SqlStatement> readStatements(ByteBuffer in) {
        int n = SqlWire.readCount(in);
        List<SqlStatement> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String sql = SqlWire.readString(in);
            int np = SqlWire.readCount(in);
            List<Object> params = new ArrayList<>(np);
            for (int j = 0; j < np; j++) {
                params.add(SqlWire.readValue(in));
            }
            out.add(new SqlStatement(sql, params));
        }
        return out;
    }
}
