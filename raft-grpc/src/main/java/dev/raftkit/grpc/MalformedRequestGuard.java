package dev.raftkit.grpc;

import io.grpc.Attributes;
import io.grpc.BindableService;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses requests whose bytes do not parse, with {@code INVALID_ARGUMENT} and at most one
 * throttled log line per remote host and interval.
 *
 * <p>Why a wrapper: gRPC parses a request before any interceptor sees it, and when parsing fails
 * it closes the call with {@code UNKNOWN} ("Application error processing RPC") and logs the
 * exception with its stack trace, once per message: a stream of garbage becomes a stream of stack
 * traces, and the caller learns nothing. {@link #guard} rewrites a service so gRPC hands each
 * request over as raw bytes; this class parses them with the method's own marshaller and turns a
 * failure into a clear refusal. Valid requests reach the service exactly as before (the same
 * method names, so executors chosen by name still apply, and the same response marshallers).
 */
final class MalformedRequestGuard {

    private static final Logger LOG = LoggerFactory.getLogger(MalformedRequestGuard.class);

    /** Hands the request's bytes over unparsed (the guard parses them). */
    private static final MethodDescriptor.Marshaller<InputStream> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(InputStream value) {
            return value;
        }

        @Override
        public InputStream parse(InputStream stream) {
            return stream;
        }
    };

    private MalformedRequestGuard() {
    }

    /** {@code service} with every method's requests parsed by the guard; see the class comment. */
    static ServerServiceDefinition guard(BindableService service, String what, LogThrottle throttle) {
        return guard(service.bindService(), what, throttle);
    }

    /** {@code service} with every method's requests parsed by the guard; see the class comment. */
    static ServerServiceDefinition guard(ServerServiceDefinition service, String what, LogThrottle throttle) {
        List<ServerMethodDefinition<?, ?>> wrapped = new ArrayList<>();
        List<MethodDescriptor<?, ?>> descriptors = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            ServerMethodDefinition<InputStream, ?> w = wrap(m, what, throttle);
            wrapped.add(w);
            descriptors.add(w.getMethodDescriptor());
        }
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(
                new ServiceDescriptor(service.getServiceDescriptor().getName(), descriptors));
        wrapped.forEach(b::addMethod);
        return b.build();
    }

    private static <Q, R> ServerMethodDefinition<InputStream, R> wrap(ServerMethodDefinition<Q, R> original,
                                                                       String what, LogThrottle throttle) {
        MethodDescriptor<Q, R> method = original.getMethodDescriptor();
        MethodDescriptor<InputStream, R> raw = method.toBuilder(RAW, method.getResponseMarshaller()).build();
        ServerCallHandler<Q, R> handler = original.getServerCallHandler();
        ServerCallHandler<InputStream, R> guarded = (call, headers) -> {
            TypedCall<Q, R> typed = new TypedCall<>(call, method);
            ServerCall.Listener<Q> listener = handler.startCall(typed, headers);
            return new ParsingListener<>(typed, method, listener, what, throttle);
        };
        return ServerMethodDefinition.create(raw, guarded);
    }

    /** The service's view of a raw call: the original method descriptor; close at most once. */
    private static final class TypedCall<Q, R> extends ServerCall<Q, R> {
        private final ServerCall<InputStream, R> call;
        private final MethodDescriptor<Q, R> method;
        private volatile boolean closed;

        TypedCall(ServerCall<InputStream, R> call, MethodDescriptor<Q, R> method) {
            this.call = call;
            this.method = method;
        }

        @Override
        public void request(int numMessages) {
            call.request(numMessages);
        }

        @Override
        public void sendHeaders(Metadata headers) {
            call.sendHeaders(headers);
        }

        @Override
        public void sendMessage(R message) {
            call.sendMessage(message);
        }

        @Override
        public boolean isReady() {
            return call.isReady();
        }

        @Override
        public synchronized void close(Status status, Metadata trailers) {
            // The guard may have closed the call already; the service then learns it was
            // cancelled, and its own late close must not fail.
            if (!closed) {
                closed = true;
                call.close(status, trailers);
            }
        }

        @Override
        public boolean isCancelled() {
            return call.isCancelled();
        }

        @Override
        public void setMessageCompression(boolean enabled) {
            call.setMessageCompression(enabled);
        }

        @Override
        public void setCompression(String compressor) {
            call.setCompression(compressor);
        }

        @Override
        public void setOnReadyThreshold(int numBytes) {
            call.setOnReadyThreshold(numBytes);
        }

        @Override
        public SecurityLevel getSecurityLevel() {
            return call.getSecurityLevel();
        }

        @Override
        public Attributes getAttributes() {
            return call.getAttributes();
        }

        @Override
        public String getAuthority() {
            return call.getAuthority();
        }

        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
            return method;
        }
    }

    /** Parses each request; on the first that fails, refuses the call and tells the service it ended. */
    private static final class ParsingListener<Q, R> extends ServerCall.Listener<InputStream> {
        private final TypedCall<Q, R> call;
        private final MethodDescriptor<Q, R> method;
        private final ServerCall.Listener<Q> delegate;
        private final String what;
        private final LogThrottle throttle;
        private boolean refused;

        ParsingListener(TypedCall<Q, R> call, MethodDescriptor<Q, R> method, ServerCall.Listener<Q> delegate,
                        String what, LogThrottle throttle) {
            this.call = call;
            this.method = method;
            this.delegate = delegate;
            this.what = what;
            this.throttle = throttle;
        }

        @Override
        public void onMessage(InputStream bytes) {
            if (refused) {
                close(bytes);
                return;
            }
            Q request;
            try {
                request = method.parseRequest(bytes);
            } catch (RuntimeException e) {
                close(bytes);
                refuse(e);
                return;
            }
            delegate.onMessage(request);
        }

        private void refuse(RuntimeException e) {
            refused = true;
            String remote = String.valueOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
            String host = RemoteAddressInterceptor.host(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String reason = cause.getMessage() == null ? cause.getClass().getSimpleName()
                    : Untrusted.quote(cause.getMessage());
            String name = method.getFullMethodName();
            String why = what + " refused a malformed " + name + " request from " + remote
                    + ": its bytes are not a valid protobuf message (" + reason + "); the caller must speak this "
                    + "version's protocol (raft.proto, client.proto, admin.proto)";
            if (throttle.shouldLog("malformed:" + host)) {
                LOG.warn(why);
            } else {
                LOG.debug(why);
            }
            call.close(Status.INVALID_ARGUMENT.withDescription(why), new Metadata());
            // The service sees the call end as a cancellation (a stream observer gets onError), so
            // whatever it holds for the call (a snapshot writer) is released.
            delegate.onCancel();
        }

        private static void close(InputStream bytes) {
            try {
                bytes.close();
            } catch (IOException ignored) {
                // Nothing to release beyond the buffer.
            }
        }

        @Override
        public void onHalfClose() {
            if (!refused) {
                delegate.onHalfClose();
            }
        }

        @Override
        public void onCancel() {
            if (!refused) {
                delegate.onCancel();
            }
        }

        @Override
        public void onComplete() {
            if (!refused) {
                delegate.onComplete();
            }
        }

        @Override
        public void onReady() {
            if (!refused) {
                delegate.onReady();
            }
        }
    }
}
