package dev.raftkit.grpc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS for a node's gRPC endpoints, from PEM files.
 *
 * <p>The node presents {@code certChain} (its certificate first, then intermediates) with
 * {@code privateKey} (PKCS#8 PEM, unencrypted) both as a server and, for mutual TLS, as a client,
 * and trusts only peers whose certificates chain to {@code trustedCa}. With
 * {@code requireClientAuth} a server refuses every connection whose client does not present such
 * a certificate: a cluster then admits only nodes holding a certificate signed by its CA.
 * Clients verify the server's name (host name or IP address in the certificate's subject
 * alternative names) against the address they connect to.
 */
public record TlsConfig(Path certChain, Path privateKey, Path trustedCa, boolean requireClientAuth) {

    public TlsConfig {
        Objects.requireNonNull(certChain, "certChain");
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(trustedCa, "trustedCa");
    }

    /** Mutual TLS: both sides present certificates signed by {@code trustedCa}. */
    public static TlsConfig mutual(Path certChain, Path privateKey, Path trustedCa) {
        return new TlsConfig(certChain, privateKey, trustedCa, true);
    }

    /** Checks that the three files exist and are readable, naming the one that is not. */
    void checkReadable() {
        check(certChain, "certificate chain");
        check(privateKey, "private key");
        check(trustedCa, "trusted CA certificate");
    }

    private static void check(Path file, String what) {
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("TLS " + what + " file " + file.toAbsolutePath()
                    + " does not exist or is not readable; fix the path in the node's TLS configuration");
        }
    }
}
