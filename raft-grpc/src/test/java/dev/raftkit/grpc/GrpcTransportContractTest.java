package dev.raftkit.grpc;

import dev.raftkit.spi.Transport;
import dev.raftkit.spi.TransportContractTest;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The {@link Transport} contract for {@link GrpcTransport}, in plaintext and with mutual TLS. */
class GrpcTransportContractTest {

    /** Adapts a {@link GrpcNetwork} to the contract's network. */
    abstract static class OverGrpc extends TransportContractTest {
        abstract GrpcNetwork grpcNetwork() throws Exception;

        @Override
        protected Network newNetwork() throws Exception {
            GrpcNetwork grpc = grpcNetwork();
            return new Network() {
                @Override
                public Transport start(long id, Transport.Inbound inbound) throws Exception {
                    return grpc.start(id, inbound);
                }

                @Override
                public void addDeadPeer(long id) throws Exception {
                    grpc.addDeadPeer(id);
                }

                @Override
                public void close() {
                    grpc.close();
                }
            };
        }
    }

    @Nested
    class Plaintext extends OverGrpc {
        @Override
        GrpcNetwork grpcNetwork() {
            return new GrpcNetwork("contract", id -> null);
        }
    }

    @Nested
    class MutualTls extends OverGrpc {
        @TempDir
        Path certs;

        @Override
        GrpcNetwork grpcNetwork() throws Exception {
            TestCertificates ca = new TestCertificates(certs, "cluster");
            return new GrpcNetwork("contract-tls", id -> {
                try {
                    return ca.node("contract-tls", id);
                } catch (Exception e) {
                    throw new IllegalStateException("cannot make a certificate for node " + id, e);
                }
            });
        }
    }
}
