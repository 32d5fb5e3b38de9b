package dev.raftkit.grpc;

import dev.raftkit.grpc.proto.RaftAdminServiceGrpc;
import dev.raftkit.grpc.proto.RaftClientServiceGrpc;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Establishes who is calling, from the certificate of the TLS session, and refuses the call before
 * any service sees it when that caller may not make it. The caller's {@link CertificateIdentity}
 * is then available to the service as {@link #identity()}.
 *
 * <p>Rules, on a TLS port:
 * <ul>
 *   <li>A client certificate must carry exactly one {@code raftkit://} identity of this cluster;
 *       otherwise every call is refused ({@code UNAUTHENTICATED} for a certificate that proves no
 *       identity, {@code PERMISSION_DENIED} for another cluster's).</li>
 *   <li>Peer port: only node certificates. The peer service then accepts a message only under the
 *       node id the certificate proves.</li>
 *   <li>Client port: admin RPCs ({@link #ADMIN_METHODS}) only with an admin certificate; the other
 *       calls with any certificate of the cluster. Node certificates may make client calls (a node
 *       can already propose anything through Raft, so this grants nothing new) but not admin calls:
 *       membership and leadership are an operator's decisions, and a stolen node key must not let
 *       its holder reshape the cluster.</li>
 * </ul>
 *
 * <p>Without a client certificate (plaintext, or TLS that does not require one) nothing is proven:
 * the peer port admits the call (a plaintext cluster trusts its network), the client port admits
 * client calls and refuses admin calls unless the node was started with {@code insecureAdmin}.
 *
 * <p>Every refusal is logged once per kind and caller host per 30 s, in one bounded line.
 */
final class IdentityInterceptor implements ServerInterceptor {

    private static final Logger LOG = LoggerFactory.getLogger(IdentityInterceptor.class);

    private static final Context.Key<CertificateIdentity> IDENTITY = Context.key("raftkit-certificate-identity");

    /**
     * Full names of the client-port methods that need the admin role: membership changes, leadership
     * transfer, and every method of the admin service (backups, peer addresses).
     */
    static final Set<String> ADMIN_METHODS = Set.of(
            RaftClientServiceGrpc.getChangeMembershipMethod().getFullMethodName(),
            RaftClientServiceGrpc.getTransferLeadershipMethod().getFullMethodName());

    /**
     * Admin-service methods one node calls on another during a live restore (copying a staged
     * image, proposing the switch at the leader): a node certificate may call them as an admin can.
     */
    static final Set<String> NODE_TO_NODE_METHODS = Set.of(
            RaftAdminServiceGrpc.getStageStateMethod().getFullMethodName(),
            RaftAdminServiceGrpc.getFetchStagedMethod().getFullMethodName(),
            RaftAdminServiceGrpc.getSwitchStateMethod().getFullMethodName());

    /** Which listener this guards. */
    enum Port {
        /** Raft messages and snapshots between nodes. */
        PEER,
        /** Clients and operators. */
        CLIENT
    }

    private final String clusterId;
    private final long selfId;
    private final Port port;
    private final boolean insecureAdmin;
    private final LogThrottle throttle = new LogThrottle();

    /**
     * @param clusterId     certificates of other clusters are refused
     * @param selfId        this node's id, for log lines
     * @param port          which rules apply
     * @param insecureAdmin let callers without a certificate make admin calls (client port only)
     */
    IdentityInterceptor(String clusterId, long selfId, Port port, boolean insecureAdmin) {
        this.clusterId = clusterId;
        this.selfId = selfId;
        this.port = port;
        this.insecureAdmin = insecureAdmin;
    }

    /** The identity proven by the current call's certificate; null when the caller presented none. */
    static CertificateIdentity identity() {
        return IDENTITY.get();
    }

    /** True if {@code fullMethodName} needs the admin role. */
    static boolean isAdmin(String fullMethodName) {
        return ADMIN_METHODS.contains(fullMethodName)
                || fullMethodName.startsWith(RaftAdminServiceGrpc.SERVICE_NAME + "/");
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        X509Certificate presented = session == null ? null : peerCertificate(session);
        CertificateIdentity id = null;
        if (presented != null) {
            try {
                id = CertificateIdentity.of(presented);
            } catch (IllegalArgumentException e) {
                return refuse(call, remote, "no-identity", Status.UNAUTHENTICATED, "node " + selfId + " refused "
                        + method + " from " + remote + ": " + e.getMessage());
            }
            if (!id.clusterId().equals(clusterId)) {
                return refuse(call, remote, "other-cluster", Status.PERMISSION_DENIED, "node " + selfId + " of cluster '"
                        + CertificateIdentity.bounded(clusterId) + "' refused " + method + " from " + remote
                        + ": its certificate is " + id + ", for another cluster; use a certificate minted for this cluster");
            }
        }
        if (port == Port.PEER) {
            if (session != null && (id == null || id.role() != CertificateIdentity.Role.NODE)) {
                return refuse(call, remote, "peer-not-node", Status.PERMISSION_DENIED, "node " + selfId
                        + " refused " + method + " on its peer port from " + remote + ": "
                        + (id == null ? "the caller presented no certificate" : "its certificate is " + id)
                        + "; only node certificates (" + CertificateIdentity.SCHEME + "://CLUSTER/node/ID) may send peer messages");
            }
        } else if (isAdmin(method)) {
            if (id == null && !insecureAdmin) {
                return refuse(call, remote, "admin-anonymous", Status.PERMISSION_DENIED, "node " + selfId + " refused the admin call "
                        + method + " from " + remote + ": the caller presented no certificate, so it cannot be"
                        + " proven an admin; call with an admin certificate (" + CertificateIdentity.SCHEME
                        + "://CLUSTER/admin/NAME, see 'raftkit certs') over mutual TLS, or start the node with"
                        + " --insecure-admin on a network where everyone is trusted");
            }
            if (id != null && id.role() != CertificateIdentity.Role.ADMIN
                    && !(id.role() == CertificateIdentity.Role.NODE && NODE_TO_NODE_METHODS.contains(method))) {
                return refuse(call, remote, "admin-role", Status.PERMISSION_DENIED, "node " + selfId + " refused the admin call "
                        + method + " from " + remote + ": its certificate is " + id + ", not an admin's; admin"
                        + " calls need an admin certificate (" + CertificateIdentity.SCHEME + "://CLUSTER/admin/NAME)");
            }
        }
        return Contexts.interceptCall(Context.current().withValue(IDENTITY, id), call, headers, next);
    }

    private static X509Certificate peerCertificate(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, SocketAddress remote, String kind,
                                                 Status status, String why) {
        // Keyed by host, not host:port: a caller opening a new connection per attempt must not get
        // a log line per attempt.
        String host = remote instanceof InetSocketAddress a ? a.getHostString() : String.valueOf(remote);
        if (throttle.shouldLog(kind + ":" + host)) {
            LOG.warn(why);
        } else {
            LOG.debug(why);
        }
        call.close(status.withDescription(why), new Metadata());
        return new ServerCall.Listener<>() {
        };
    }
}
