package dev.raftkit.cli;

import dev.raftkit.grpc.TlsConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code --tls-cert/--tls-key/--tls-ca}: mutual TLS for a node's ports or for a client, all three
 * or none. A node then admits only peers and clients holding a certificate signed by the CA.
 */
final class TlsOptions {

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate chain (this node's or client's certificate first). With --tls-key and --tls-ca.")
    Path cert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key (unencrypted PKCS#8) of --tls-cert.")
    Path key;

    @Option(names = "--tls-ca", paramLabel = "FILE", description = "PEM certificate of the CA every node and client must chain to.")
    Path ca;

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
        return TlsConfig.mutual(cert, key, ca);
    }

    private static void readable(CommandLine cl, Path file, String option) {
        if (!Files.isReadable(file)) {
            throw new ParameterException(cl, option + ": " + file.toAbsolutePath() + " does not exist or is not readable");
        }
    }
}
