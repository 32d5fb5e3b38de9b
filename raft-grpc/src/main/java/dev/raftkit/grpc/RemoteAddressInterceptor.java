package dev.raftkit.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.SocketAddress;

/** Makes the caller's address available to the service, for log lines that name who was refused. */
final class RemoteAddressInterceptor implements ServerInterceptor {

    static final Context.Key<SocketAddress> REMOTE = Context.key("raftkit-remote-address");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        return Contexts.interceptCall(Context.current().withValue(REMOTE, remote), call, headers, next);
    }

    /** The caller's address in the current call, or "unknown address". */
    static String remote() {
        SocketAddress a = REMOTE.get();
        return a == null ? "unknown address" : a.toString();
    }
}
