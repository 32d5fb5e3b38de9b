package dev.raftkit.grpc;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC credentials of one {@link TlsConfig}, transport-neutral ({@link ServerCredentials},
 * {@link ChannelCredentials}), whose key, certificate and CA are re-read from their files every
 * {@link TlsConfig#reloadPeriod()} when they changed (into gRPC's {@link AdvancedTlsX509KeyManager}
 * and {@link AdvancedTlsX509TrustManager}): new connections use the new files, established ones
 * keep the certificate they were opened with. Files that do not load are refused with one log
 * line and the previous material stays in use.
 *
 * <p>Servers verify a client's certificate chain only (a client's address is not in its
 * certificate); what the certificate may do is checked per call from its
 * {@link CertificateIdentity}. Channels also verify the server's host name or IP address.
 *
 * <p>Reloads run on one daemon thread shared by the process; {@link #close()} stops this
 * instance's reloads.
 */
final class TlsCredentials implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TlsCredentials.class);

    private static final ScheduledExecutorService RELOADER = reloader();

    private final TlsConfig config;
    private final ServerCredentials server;
    private final ChannelCredentials channel;
    private final List<Closeable> reloads = new ArrayList<>();

    private TlsCredentials(TlsConfig config) {
        this.config = config;
        if (config == null) {
            server = InsecureServerCredentials.create();
            channel = InsecureChannelCredentials.create();
            return;
        }
        config.checkReadable();
        try {
            AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
            AdvancedTlsX509TrustManager serverTrust = AdvancedTlsX509TrustManager.newBuilder()
                    .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION).build();
            AdvancedTlsX509TrustManager channelTrust = AdvancedTlsX509TrustManager.newBuilder()
                    .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
                    .build();
            Reload reload = new Reload(config, keys, serverTrust, channelTrust);
            reload.load();
            // Our own schedule rather than the managers' built-in one, which refuses periods under a
            // minute and logs through java.util.logging.
            long period = config.reloadPeriod().toMillis();
            java.util.concurrent.ScheduledFuture<?> task = RELOADER.scheduleWithFixedDelay(reload::check, period, period,
                    TimeUnit.MILLISECONDS);
            reloads.add(() -> task.cancel(false));
            server = TlsServerCredentials.newBuilder().keyManager(keys).trustManager(serverTrust)
                    .clientAuth(config.requireClientAuth() ? TlsServerCredentials.ClientAuth.REQUIRE
                            : TlsServerCredentials.ClientAuth.OPTIONAL)
                    .build();
            channel = TlsChannelCredentials.newBuilder().keyManager(keys).trustManager(channelTrust).build();
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            close();
            throw new UncheckedIOException(new IOException("cannot load the TLS material (certificate "
                    + config.certChain() + ", key " + config.privateKey() + ", CA " + config.trustedCa() + "): "
                    + e.getMessage() + "; the files must be PEM and the key an unencrypted PKCS#8 key"
                    + " ('raftkit certs' writes such files)", e));
        }
    }

    /** Credentials for {@code config}, or plaintext ones if it is null. */
    static TlsCredentials of(TlsConfig config) {
        return new TlsCredentials(config);
    }

    /** The configuration these credentials come from; null for plaintext. */
    TlsConfig config() {
        return config;
    }

    boolean isTls() {
        return config != null;
    }

    ServerCredentials server() {
        return server;
    }

    ChannelCredentials channel() {
        return channel;
    }

    /** Stops re-reading the files; connections already open are not affected. */
    @Override
    public void close() {
        for (Closeable c : reloads) {
            try {
                c.close();
            } catch (IOException ignored) {
                // Closing only cancels a scheduled task; it has nothing to report.
            }
        }
        reloads.clear();
    }

    /** Re-reads the files when one of them changed (by modification time), keeping the old material if they do not load. */
    private static final class Reload {
        private final TlsConfig config;
        private final AdvancedTlsX509KeyManager keys;
        private final AdvancedTlsX509TrustManager[] trust;
        private long certTime;
        private long keyTime;
        private long caTime;
        private String lastFailure;

        Reload(TlsConfig config, AdvancedTlsX509KeyManager keys, AdvancedTlsX509TrustManager... trust) {
            this.config = config;
            this.keys = keys;
            this.trust = trust;
        }

        void load() throws IOException, GeneralSecurityException {
            long cert = config.certChain().toFile().lastModified();
            long key = config.privateKey().toFile().lastModified();
            long ca = config.trustedCa().toFile().lastModified();
            java.security.cert.X509Certificate[] chain;
            java.security.PrivateKey privateKey;
            try (java.io.InputStream in = java.nio.file.Files.newInputStream(config.certChain())) {
                chain = io.grpc.util.CertificateUtils.getX509Certificates(in);
            }
            try (java.io.InputStream in = java.nio.file.Files.newInputStream(config.privateKey())) {
                privateKey = io.grpc.util.CertificateUtils.getPrivateKey(in);
            }
            if (chain.length == 0) {
                throw new GeneralSecurityException(config.certChain() + " holds no certificate");
            }
            checkPair(chain[0], privateKey);
            keys.updateIdentityCredentials(chain, privateKey);
            for (AdvancedTlsX509TrustManager t : trust) {
                t.updateTrustCredentials(config.trustedCa().toFile());
            }
            certTime = cert;
            keyTime = key;
            caTime = ca;
        }

        /**
         * Refuses a key that does not belong to the certificate: while an operator replaces the two
         * files one after the other, a reload may see the new key with the old certificate.
         */
        private void checkPair(java.security.cert.X509Certificate cert, java.security.PrivateKey key)
                throws GeneralSecurityException {
            String algorithm = switch (key.getAlgorithm()) {
                case "EC" -> "SHA256withECDSA";
                case "RSA" -> "SHA256withRSA";
                case "Ed25519", "EdDSA" -> "Ed25519";
                default -> null;
            };
            if (algorithm == null) {
                return;
            }
            byte[] probe = "raftkit key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            java.security.Signature sign = java.security.Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            java.security.Signature verify = java.security.Signature.getInstance(algorithm);
            verify.initVerify(cert.getPublicKey());
            verify.update(probe);
            if (!verify.verify(signature)) {
                throw new GeneralSecurityException("the private key " + config.privateKey()
                        + " does not belong to the certificate in " + config.certChain());
            }
        }

        void check() {
            if (config.certChain().toFile().lastModified() == certTime
                    && config.privateKey().toFile().lastModified() == keyTime
                    && config.trustedCa().toFile().lastModified() == caTime) {
                return;
            }
            try {
                load();
                lastFailure = null;
                LOG.info("TLS material reloaded from {} (key {}, CA {}); new connections use it", config.certChain(),
                        config.privateKey(), config.trustedCa());
            } catch (IOException | GeneralSecurityException | RuntimeException e) {
                String why = CertificateIdentity.bounded(String.valueOf(e.getMessage()));
                if (!why.equals(lastFailure)) {
                    lastFailure = why;
                    LOG.warn("cannot reload the TLS material from {} (key {}, CA {}): {}; still using the previous"
                            + " material, trying again every {} ms", config.certChain(), config.privateKey(),
                            config.trustedCa(), why, config.reloadPeriod().toMillis());
                }
            }
        }
    }

    private static ScheduledExecutorService reloader() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                Endpoints.Threads.daemonFactory("raftkit-tls-reload"));
        t.setRemoveOnCancelPolicy(true);
        return t;
    }
}
