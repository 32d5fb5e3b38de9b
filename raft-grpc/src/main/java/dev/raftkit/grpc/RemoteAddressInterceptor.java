package dev.raftkit.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.InetSocketAddress;
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

    /** The caller's host (IP) in the current call, without the port: the key for log throttling. */
    static String host() {
        return host(REMOTE.get());
    }

    /**
     * The host part of {@code a} (its IP address), or "unknown" if none. Log throttles key on it
     * rather than on the whole address: a caller picks a new port with every connection.
     */
    static String host(SocketAddress a) {
        if (a instanceof InetSocketAddress i) {
            return i.getAddress() != null ? i.getAddress().getHostAddress() : i.getHostString();
        }
        return a == null ? "unknown" : a.getClass().getSimpleName();
    }
}
