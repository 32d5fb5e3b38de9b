package dev.raftkit.cli.certs;

import dev.raftkit.grpc.CertificateIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A cluster's certificate authority on disk, and the node, client and admin certificates it
 * signs: ECDSA P-256 keys as unencrypted PKCS#8 PEM files, certificates as PEM chains (leaf, then
 * the CA); every file readable only by its owner (0600), the directory too (0700) if created. Every leaf carries exactly one
 * {@link CertificateIdentity} URI ({@code raftkit://CLUSTER/ROLE/NAME}); node certificates also
 * name the hosts they serve on and may act as TLS server and client, client and admin
 * certificates only as TLS clients (extended key usage), so they cannot pose as a node's server.
 *
 * <p>Layout of the directory: {@code ca.pem}, {@code ca.key}, {@code node-ID.pem}/{@code .key},
 * {@code client-NAME.pem}/{@code .key}, {@code admin-NAME.pem}/{@code .key}. An existing CA in the
 * directory is reused, so certificates for a new node or a rotation come from the same CA.
 */
public final class CertificateMinter {

    /** One written certificate and key. */
    public record Issued(CertificateIdentity identity, Path certificate, Path key, boolean replaced) {
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final String clusterId;
    private final Duration validity;
    private final X509Certificate ca;
    private final PrivateKey caKey;
    private final boolean caCreated;

    private CertificateMinter(Path dir, String clusterId, Duration validity, X509Certificate ca, PrivateKey caKey,
                              boolean caCreated) {
        this.dir = dir;
        this.clusterId = clusterId;
        this.validity = validity;
        this.ca = ca;
        this.caKey = caKey;
        this.caCreated = caCreated;
    }

    /**
     * The CA of {@code clusterId} in {@code dir}: loaded if {@code ca.pem} and {@code ca.key} are
     * there, else created (with the directory, private to its owner).
     *
     * @param validity how long the certificates issued from now on are valid (the CA: ten times that)
     * @throws IOException if the directory or an existing CA cannot be read or written
     */
    public static CertificateMinter open(Path dir, String clusterId, Duration validity) throws IOException {
        Objects.requireNonNull(clusterId, "clusterId");
        if (validity.isNegative() || validity.isZero()) {
            throw new IllegalArgumentException("certificate validity must be positive, got " + validity);
        }
        createPrivateDirectories(dir);
        Path caPem = dir.resolve("ca.pem");
        Path caKeyFile = dir.resolve("ca.key");
        try {
            if (Files.exists(caPem) || Files.exists(caKeyFile)) {
                if (!Files.exists(caPem) || !Files.exists(caKeyFile)) {
                    throw new IOException(dir.toAbsolutePath() + " holds only one of ca.pem and ca.key; restore the"
                            + " other or remove both to create a new CA (which invalidates every certificate of the old one)");
                }
                X509Certificate ca;
                try (InputStream in = Files.newInputStream(caPem)) {
                    ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
                }
                return new CertificateMinter(dir, clusterId, validity, ca, readKey(caKeyFile), false);
            }
            KeyPair keys = keyPair();
            X500Name subject = new X500Name("CN=raftkit CA " + clusterId.replaceAll("[^A-Za-z0-9._ -]", "_")
                    .substring(0, Math.min(clusterId.length(), 48)));
            X509v3CertificateBuilder b = builder(subject, subject, keys, validity.multipliedBy(10));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
            X509Certificate ca = sign(b, keys.getPrivate());
            writePrivate(caKeyFile, pem(new JcaPKCS8Generator(keys.getPrivate(), null)));
            writePrivate(caPem, pem(ca));
            return new CertificateMinter(dir, clusterId, validity, ca, keys.getPrivate(), true);
        } catch (GeneralSecurityException | OperatorCreationException | RuntimeException e) {
            throw new IOException("cannot create or load the CA in " + dir.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    /** True if {@link #open} created the CA (rather than loading one). */
    public boolean caCreated() {
        return caCreated;
    }

    public Path caCertificate() {
        return dir.resolve("ca.pem");
    }

    public Path caKey() {
        return dir.resolve("ca.key");
    }

    /** Node {@code id}'s certificate for {@code hosts} (IP addresses or DNS names), as {@code node-ID.pem}. */
    public Issued node(long id, List<String> hosts) throws IOException {
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("a node certificate needs at least one host (IP address or DNS name)"
                    + " that clients and peers connect to");
        }
        return issue("node-" + id, CertificateIdentity.node(clusterId, id), hosts, true);
    }

    /** An application's certificate, as {@code client-NAME.pem}. */
    public Issued client(String name) throws IOException {
        return issue("client-" + checkName(name), new CertificateIdentity(clusterId, CertificateIdentity.Role.CLIENT, name),
                List.of(), false);
    }

    /** An operator's certificate, as {@code admin-NAME.pem}. */
    public Issued admin(String name) throws IOException {
        return issue("admin-" + checkName(name), new CertificateIdentity(clusterId, CertificateIdentity.Role.ADMIN, name),
                List.of(), false);
    }

    private static String checkName(String name) {
        if (!name.matches("[A-Za-z0-9._-]{1,64}") || name.startsWith(".")) {
            throw new IllegalArgumentException("a client or admin name is 1 to 64 letters, digits, '.', '_' or '-'"
                    + " (it becomes a file name), not '" + (name.length() > 64 ? name.substring(0, 64) + "…" : name) + "'");
        }
        return name;
    }

    private Issued issue(String file, CertificateIdentity identity, List<String> hosts, boolean server)
            throws IOException {
        Path certFile = dir.resolve(file + ".pem");
        Path keyFile = dir.resolve(file + ".key");
        boolean replaced = Files.exists(certFile) || Files.exists(keyFile);
        try {
            KeyPair keys = keyPair();
            X509v3CertificateBuilder b = builder(new X500Name("CN=" + file), X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()),
                    keys, validity);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            b.addExtension(Extension.extendedKeyUsage, false, server
                    ? new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth})
                    : new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
            List<GeneralName> names = new ArrayList<>();
            names.add(new GeneralName(GeneralName.uniformResourceIdentifier, identity.uri()));
            for (String h : hosts) {
                names.add(isIpAddress(h) ? new GeneralName(GeneralName.iPAddress, h) : new GeneralName(GeneralName.dNSName, h));
            }
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca));
            X509Certificate cert = sign(b, caKey);
            // Key first, each file replaced atomically: a node reloading its files never reads a
            // half-written one (and refuses a key that does not match its certificate).
            writePrivate(keyFile, pem(new JcaPKCS8Generator(keys.getPrivate(), null)));
            writePrivate(certFile, pem(cert, ca));
            return new Issued(identity, certFile, keyFile, replaced);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot issue " + identity.uri() + ": " + e.getMessage(), e);
        }
    }

    private static boolean isIpAddress(String host) {
        return host.matches("[0-9.]+") || host.contains(":");
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256, RANDOM);
        return g.generateKeyPair();
    }

    private static X509v3CertificateBuilder builder(X500Name subject, X500Name issuer, KeyPair keys, Duration validity) {
        Instant now = Instant.now();
        // Back-dated a little: a peer whose clock is slightly behind still accepts a fresh certificate.
        return new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, RANDOM),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject, keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    }

    private static PrivateKey readKey(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file); PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            if (!(o instanceof PrivateKeyInfo info)) {
                throw new IOException(file.toAbsolutePath() + " is not an unencrypted PKCS#8 private key");
            }
            return new JcaPEMKeyConverter().getPrivateKey(info);
        }
    }

    private static String pem(Object... objects) throws IOException {
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            for (Object o : objects) {
                w.writeObject(o);
            }
        }
        return s.toString();
    }

    private static void createPrivateDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir);
        }
    }

    /** Writes a file readable only by its owner (0600), replacing any old one atomically. */
    private static void writePrivate(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
"rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(tmp);
        } catch (FileAlreadyExistsException e) {
            throw new IOException(tmp + " appeared while writing; is another 'raftkit certs' running here?", e);
        }
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
            w.write(content);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
