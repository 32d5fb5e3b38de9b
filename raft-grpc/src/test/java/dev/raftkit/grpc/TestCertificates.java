package dev.raftkit.grpc;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes a certificate authority and node, client and admin certificates at test time
 * (BouncyCastle), written as PEM files the way an operator would provide them: the chain, its
 * PKCS#8 key, the CA. Certificates name 127.0.0.1 and localhost, so clients verify them on
 * loopback, and carry their {@code raftkit://} identity as a URI subject alternative name.
 */
public final class TestCertificates {

    private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

    private final Path dir;
    private final String name;
    private final KeyPair caKeys;
    private final X509Certificate ca;
    private final Path caFile;

    /** A new CA called {@code name}, writing its files under {@code dir}. */
    public TestCertificates(Path dir, String name) throws Exception {
        this.dir = Files.createDirectories(dir.resolve(name));
        this.name = name;
        this.caKeys = keyPair();
        X500Name subject = new X500Name("CN=" + name + " test CA");
        X509v3CertificateBuilder b = builder(subject, subject, caKeys);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        this.ca = sign(b, caKeys.getPrivate());
        this.caFile = this.dir.resolve("ca.pem");
        writePem(caFile, ca);
    }

    public Path caFile() {
        return caFile;
    }

    /** Node {@code id}'s certificate ({@code raftkit://CLUSTER/node/ID}), for server and client use. */
    public TlsConfig node(String cluster, long id) throws Exception {
        return issue("node-" + id, CertificateIdentity.node(cluster, id).uri());
    }

    /** A client application's certificate ({@code raftkit://CLUSTER/client/NAME}). */
    public TlsConfig client(String cluster, String name) throws Exception {
        return issue("client-" + name, new CertificateIdentity(cluster, CertificateIdentity.Role.CLIENT, name).uri());
    }

    /** An operator's certificate ({@code raftkit://CLUSTER/admin/NAME}). */
    public TlsConfig admin(String cluster, String name) throws Exception {
        return issue("admin-" + name, new CertificateIdentity(cluster, CertificateIdentity.Role.ADMIN, name).uri());
    }

    /**
     * A certificate signed by this CA naming 127.0.0.1 and localhost plus the URI subject alternative
     * names {@code uris} (none, several, malformed: whatever a test needs), written to
     * {@code file}.pem and {@code file}.key (replacing them if they exist), as a mutual-TLS config.
     */
    public TlsConfig issue(String file, String... uris) throws Exception {
        KeyPair keys = keyPair();
        X509v3CertificateBuilder b = builder(new X500Name("CN=" + file), new X500Name("CN=" + name + " test CA"), keys);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        GeneralName[] names = new GeneralName[2 + uris.length];
        names[0] = new GeneralName(GeneralName.iPAddress, "127.0.0.1");
        names[1] = new GeneralName(GeneralName.dNSName, "localhost");
        for (int i = 0; i < uris.length; i++) {
            names[2 + i] = new GeneralName(GeneralName.uniformResourceIdentifier, uris[i]);
        }
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        X509Certificate cert = sign(b, caKeys.getPrivate());
        Path certFile = dir.resolve(file + ".pem");
        Path keyFile = dir.resolve(file + ".key");
        // Key first: a reloader that sees the new certificate must find its key already there.
        Path tmpKey = dir.resolve(file + ".key.tmp");
        try (Writer w = Files.newBufferedWriter(tmpKey); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
        }
        Files.move(tmpKey, keyFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Path tmpCert = dir.resolve(file + ".pem.tmp");
        writePem(tmpCert, cert, ca);
        Files.move(tmpCert, certFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return TlsConfig.mutual(certFile, keyFile, caFile);
    }

    private static KeyPair keyPair() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    private static X509v3CertificateBuilder builder(X500Name subject, X500Name issuer, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(1, ChronoUnit.DAYS)),
                subject, keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws Exception {
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
        return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    }

    private static void writePem(Path file, Object... objects) throws IOException {
        try (Writer w = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            for (Object o : objects) {
                pem.writeObject(o);
            }
        }
    }
}
