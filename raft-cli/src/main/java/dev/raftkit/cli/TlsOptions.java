package dev.raftkit.cli;

import dev.raftkit.grpc.CertificateIdentity;
import dev.raftkit.grpc.TlsConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code --tls-cert/--tls-key/--tls-ca}: mutual TLS for a node's ports or for a client, all three
 * or none. A node then admits only peers and clients holding a certificate signed by the CA, and
 * lets each do what its certificate's {@code raftkit://CLUSTER/ROLE/NAME} name allows (node,
 * client or admin; {@code raftkit certs} mints them). The files are re-read every
 * {@code --tls-reload-seconds} and used for new connections when they changed.
 */
final class TlsOptions {

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate chain (this node's, client's or admin's certificate first; see raftkit certs)."
                    + " With --tls-key and --tls-ca.")
    Path cert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key (unencrypted PKCS#8) of --tls-cert.")
    Path key;

    @Option(names = "--tls-ca", paramLabel = "FILE", description = "PEM certificate of the CA every node and client must chain to.")
    Path ca;

    @Option(names = "--tls-reload-seconds", paramLabel = "S", defaultValue = "60",
            description = "How often the three TLS files are checked for changes; new connections use changed files"
                    + " without a restart (default 60).")
    long reloadSeconds;

    /** The TLS settings, or null for plaintext; refuses a partial set or a missing file. */
    TlsConfig config(CommandLine cl) {
        if (cert == null && key == null && ca == null) {
            return null;
        }
        if (cert == null || key == null || ca == null) {
            throw new ParameterException(cl, "TLS needs all three of --tls-cert, --tls-key and --tls-ca (missing: "
                    + (cert == null ? "--tls-cert " : "") + (key == null ? "--tls-key " : "")
                    + (ca == null ? "--tls-ca" : "").trim() + ")");
        }
        readable(cl, cert, "--tls-cert");
        readable(cl, key, "--tls-key");
        readable(cl, ca, "--tls-ca");
        if (reloadSeconds < 1 || reloadSeconds > 86_400) {
            throw new ParameterException(cl, "--tls-reload-seconds must be in 1..86400, got " + reloadSeconds);
        }
        return TlsConfig.mutual(cert, key, ca).withReloadPeriod(Duration.ofSeconds(reloadSeconds));
    }

    /**
     * Refuses to run node {@code id} of {@code clusterId} with a certificate that does not name it:
     * its peers would refuse every message it sends.
     */
    void checkNodeCertificate(CommandLine cl, String clusterId, long id) {
        CertificateIdentity proven;
        try (InputStream in = Files.newInputStream(cert)) {
            proven = CertificateIdentity.of((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        } catch (IOException | CertificateException | ClassCastException e) {
            throw new ParameterException(cl, "--tls-cert: cannot read a certificate from " + cert.toAbsolutePath()
                    + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--tls-cert " + cert.toAbsolutePath() + ": " + e.getMessage());
        }
        CertificateIdentity expected = CertificateIdentity.node(clusterId, id);
        if (!proven.equals(expected)) {
            throw new ParameterException(cl, "--tls-cert " + cert.toAbsolutePath() + " is the certificate of " + proven
                    + ", but this is node " + id + " of cluster '" + clusterId + "' (" + expected.uri()
                    + "); give this node its own certificate (raftkit certs writes node-" + id + ".pem)");
        }
    }

    private static void readable(CommandLine cl, Path file, String option) {
        if (!Files.isReadable(file)) {
            throw new ParameterException(cl, option + ": " + file.toAbsolutePath() + " does not exist or is not readable");
        }
    }
}
