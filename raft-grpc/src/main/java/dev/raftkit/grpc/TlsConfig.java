package dev.raftkit.grpc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * TLS for a node's gRPC endpoints, or for a client, from PEM files.
 *
 * <p>The holder presents {@code certChain} (its certificate first, then intermediates) with
 * {@code privateKey} (PKCS#8 PEM, unencrypted) both as a server and, for mutual TLS, as a client,
 * and trusts only peers whose certificates chain to {@code trustedCa}. With
 * {@code requireClientAuth} a server refuses every connection whose client does not present such
 * a certificate. Clients verify the server's name (host name or IP address in the certificate's
 * subject alternative names) against the address they connect to.
 *
 * <p>What a certificate may do is named in it ({@link CertificateIdentity}: node, client or admin
 * of one cluster); {@code raftkit certs} mints a CA and such certificates.
 *
 * <p>The three files are read again every {@code reloadPeriod} and, when changed, used for new
 * connections: certificates are rotated by replacing the files, without a restart. Write the new
 * key before (or atomically with) the new certificate: a reload that reads a key that does not
 * match its certificate keeps the old pair and tries again next period.
 */
public record TlsConfig(Path certChain, Path privateKey, Path trustedCa, boolean requireClientAuth,
                        Duration reloadPeriod) {

    /** How often the files are checked for changes unless told otherwise. */
    public static final Duration DEFAULT_RELOAD_PERIOD = Duration.ofMinutes(1);

    /** Checks that no path is missing and the reload period is positive. */
    public TlsConfig {
        Objects.requireNonNull(certChain, "certChain");
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(trustedCa, "trustedCa");
        Objects.requireNonNull(reloadPeriod, "reloadPeriod");
        if (reloadPeriod.isNegative() || reloadPeriod.isZero()) {
            throw new IllegalArgumentException("the TLS reload period must be positive, got " + reloadPeriod);
        }
    }

    /** TLS whose files are checked for changes every {@link #DEFAULT_RELOAD_PERIOD}. */
    public TlsConfig(Path certChain, Path privateKey, Path trustedCa, boolean requireClientAuth) {
        this(certChain, privateKey, trustedCa, requireClientAuth, DEFAULT_RELOAD_PERIOD);
    }

    /** Mutual TLS: both sides present certificates signed by {@code trustedCa}. */
    public static TlsConfig mutual(Path certChain, Path privateKey, Path trustedCa) {
        return new TlsConfig(certChain, privateKey, trustedCa, true);
    }

    /** The same files, checked for changes every {@code period}. */
    public TlsConfig withReloadPeriod(Duration period) {
        return new TlsConfig(certChain, privateKey, trustedCa, requireClientAuth, period);
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
