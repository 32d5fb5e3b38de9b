package dev.raftkit.grpc;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.RaftException.Reason;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * How a Raftkit reason crosses gRPC when a call fails with a status rather than an answer, and
 * how the clients turn a failed call back into a {@link RaftException}. A service names the
 * reason in a trailer ({@value #REASON_KEY}) where the status code alone is ambiguous
 * (FAILED_PRECONDITION is both "another cluster" and "could not take the backup"); otherwise the
 * code decides.
 */
public final class GrpcErrors {

    /** The trailer naming a {@link Reason}. */
    public static final String REASON_KEY = "raftkit-reason";

    private static final Metadata.Key<String> REASON = Metadata.Key.of(REASON_KEY, Metadata.ASCII_STRING_MARSHALLER);

    private GrpcErrors() {
    }

    /** A call's failure carrying {@code reason} in its trailers, for a service to answer with. */
    public static StatusRuntimeException refusal(Status status, Reason reason, String description) {
        Metadata trailers = new Metadata();
        trailers.put(REASON, reason.name());
        return status.withDescription(description).asRuntimeException(trailers);
    }

    /**
     * The reason a failed call stands for: its trailer's, if it names one this client knows, or
     * else the status code's.
     */
    static Reason reasonOf(Status status, Metadata trailers) {
        String named = trailers == null ? null : trailers.get(REASON);
        if (named != null) {
            try {
                return Reason.valueOf(named);
            } catch (IllegalArgumentException e) {
                return Reason.UNSUPPORTED; // a newer server's reason
            }
        }
        return switch (status.getCode()) {
            case UNAUTHENTICATED, PERMISSION_DENIED -> Reason.UNAUTHORIZED;
            case UNIMPLEMENTED -> Reason.UNSUPPORTED;
            case DEADLINE_EXCEEDED -> Reason.TIMED_OUT;
            case UNAVAILABLE, CANCELLED, ABORTED, RESOURCE_EXHAUSTED -> Reason.UNAVAILABLE;
            case INVALID_ARGUMENT, OUT_OF_RANGE, NOT_FOUND, ALREADY_EXISTS -> Reason.INVALID;
            case FAILED_PRECONDITION, INTERNAL, UNKNOWN, DATA_LOSS -> Reason.FAILED;
            case OK -> throw new IllegalArgumentException("a call that succeeded has no refusal reason");
        };
    }

    /**
     * {@code t}, a call's failure, as the exception a Raftkit caller catches; {@code context} says
     * what was asked of whom ("node 2 could not take a snapshot").
     */
    static RaftException toRaftException(Throwable t, String context) {
        if (t instanceof RaftException r) {
            return r;
        }
        Status s = Status.fromThrowable(t);
        Reason reason = reasonOf(s, Status.trailersFromThrowable(t));
        return new RaftException(reason, 0, context + ": " + describe(s), t);
    }

    /** A status as a person reads it: its code, and its description if it has one. */
    static String describe(Status s) {
        return s.getCode() + (s.getDescription() == null ? "" : " (" + s.getDescription() + ")");
    }
}
