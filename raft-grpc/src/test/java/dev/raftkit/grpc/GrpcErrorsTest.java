package dev.raftkit.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.RaftException.Reason;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

class GrpcErrorsTest {

    @Test
    void aNamedReasonCrossesInTheTrailersAndWinsOverTheCode() {
        StatusRuntimeException sent = GrpcErrors.refusal(Status.FAILED_PRECONDITION, Reason.WRONG_CLUSTER,
                "node 1 belongs to cluster 'a', not 'b'");

        RaftException e = GrpcErrors.toRaftException(sent, "could not take a snapshot at the node at h:1");

        assertEquals(Reason.WRONG_CLUSTER, e.reason());
        assertEquals(false, e.retryable());
        assertTrue(e.getMessage().startsWith("could not take a snapshot at the node at h:1: FAILED_PRECONDITION"),
                e.getMessage());
        assertTrue(e.getMessage().contains("belongs to cluster 'a'"), e.getMessage());
        assertSame(sent, e.getCause());
    }

    @Test
    void withoutATrailerTheCodeDecides() {
        assertEquals(Reason.FAILED, reasonOf(Status.FAILED_PRECONDITION));
        assertEquals(Reason.UNAUTHORIZED, reasonOf(Status.PERMISSION_DENIED));
        assertEquals(Reason.UNAUTHORIZED, reasonOf(Status.UNAUTHENTICATED));
        assertEquals(Reason.UNSUPPORTED, reasonOf(Status.UNIMPLEMENTED));
        assertEquals(Reason.TIMED_OUT, reasonOf(Status.DEADLINE_EXCEEDED));
        assertEquals(Reason.UNAVAILABLE, reasonOf(Status.UNAVAILABLE));
        assertEquals(Reason.INVALID, reasonOf(Status.INVALID_ARGUMENT));
        assertTrue(Reason.UNAVAILABLE.retryable());
    }

    @Test
    void aReasonThisClientDoesNotKnowIsAVersionMismatch() {
        Metadata trailers = new Metadata();
        trailers.put(Metadata.Key.of(GrpcErrors.REASON_KEY, Metadata.ASCII_STRING_MARSHALLER), "FROM_THE_FUTURE");

        assertEquals(Reason.UNSUPPORTED, GrpcErrors.reasonOf(Status.FAILED_PRECONDITION, trailers));
    }

    @Test
    void aRaftExceptionPassesThroughUnchanged() {
        RaftException original = new RaftException(Reason.NOT_LEADER, 3, "node 1 does not lead");

        assertSame(original, GrpcErrors.toRaftException(original, "anything"));
    }

    private static Reason reasonOf(Status s) {
        return GrpcErrors.toRaftException(s.withDescription("d").asRuntimeException(), "x").reason();
    }
}
