package dev.raftkit.grpc;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Who a certificate says its holder is, and in what role: the one URI subject alternative name
 * of the form {@code raftkit://CLUSTER/ROLE/NAME} that every Raftkit certificate carries.
 *
 * <ul>
 *   <li>{@code raftkit://CLUSTER/node/ID}: node {@code ID} (a positive number) of the cluster; the
 *       only certificates the peer port admits, and a peer's messages are accepted only under that id.</li>
 *   <li>{@code raftkit://CLUSTER/client/NAME}: an application; may open sessions, submit, read and ask
 *       for status on the client port.</li>
 *   <li>{@code raftkit://CLUSTER/admin/NAME}: an operator; may also change membership, transfer
 *       leadership, take backups and tell a node about peers.</li>
 * </ul>
 *
 * <p>The TLS handshake proves the holder has the key of a certificate signed by the cluster's CA;
 * this name says what the CA let it be. A certificate with no such name, with more than one, or
 * for another cluster proves nothing and is refused. {@code CLUSTER} and {@code NAME} are
 * percent-encoded (UTF-8) where they hold characters other than letters, digits and {@code -._~}.
 */
public record CertificateIdentity(String clusterId, Role role, String name) {

    /** The URI scheme of Raftkit identities. */
    public static final String SCHEME = "raftkit";

    /** Longest name accepted (a client or admin name, or a node id's digits). */
    public static final int MAX_NAME_CHARS = 64;

    /** What a certificate's holder may do. */
    public enum Role {
        /** A cluster member: peer messages under its own id, and client calls. */
        NODE,
        /** An application: sessions, commands, reads, status. */
        CLIENT,
        /** An operator: everything a client may, plus membership, leadership transfer, backups, peers. */
        ADMIN;

        /** The role's word in the URI ({@code node}, {@code client}, {@code admin}). */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Checks the parts; a node's name must be its id, a positive decimal number. */
    public CertificateIdentity {
        Objects.requireNonNull(clusterId, "clusterId");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(name, "name");
        if (clusterId.isEmpty()) {
            throw new IllegalArgumentException("a certificate identity needs a non-empty cluster id");
        }
        if (name.isEmpty() || name.length() > MAX_NAME_CHARS) {
            throw new IllegalArgumentException("a certificate identity's name must have 1 to " + MAX_NAME_CHARS
                    + " characters, got " + name.length());
        }
        if (role == Role.NODE) {
            long id;
            try {
                id = Long.parseLong(name);
            } catch (NumberFormatException e) {
                id = 0;
            }
            if (id <= 0 || !Long.toString(id).equals(name)) {
                throw new IllegalArgumentException("a node identity names its node id, a positive number without"
                        + " leading zeros, not '" + bounded(name) + "'");
            }
        }
    }

    /** Node {@code id} of {@code clusterId}. */
    public static CertificateIdentity node(String clusterId, long id) {
        return new CertificateIdentity(clusterId, Role.NODE, Long.toString(id));
    }

    /** The node id this identity proves; only for {@link Role#NODE}. */
    public long nodeId() {
        if (role != Role.NODE) {
            throw new IllegalStateException(uri() + " is not a node identity");
        }
        return Long.parseLong(name);
    }

    /** The URI subject alternative name that carries this identity. */
    public String uri() {
        return SCHEME + "://" + encode(clusterId) + "/" + role.word() + "/" + encode(name);
    }

    @Override
    public String toString() {
        return bounded(uri());
    }

    /**
     * The identity {@code certificate} carries.
     *
     * @throws IllegalArgumentException saying what is wrong (no raftkit URI, several, a malformed one)
     */
    public static CertificateIdentity of(X509Certificate certificate) {
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("the certificate's subject alternative names cannot be parsed: "
                    + bounded(String.valueOf(e.getMessage())));
        }
        List<String> ours = new ArrayList<>();
        if (names != null) {
            for (List<?> n : names) {
                // Type 6 is uniformResourceIdentifier (RFC 5280 §4.2.1.6).
                if (n.size() >= 2 && Integer.valueOf(6).equals(n.get(0)) && n.get(1) instanceof String s
                        && s.regionMatches(true, 0, SCHEME + ":", 0, SCHEME.length() + 1)) {
                    ours.add(s);
                }
            }
        }
        String subject = bounded(certificate.getSubjectX500Principal().getName());
        if (ours.isEmpty()) {
            throw new IllegalArgumentException("the certificate of '" + subject + "' has no " + SCHEME
                    + "://CLUSTER/ROLE/NAME subject alternative name, so it proves no node, client or admin identity;"
                    + " mint certificates with 'raftkit certs'");
        }
        if (ours.size() > 1) {
            throw new IllegalArgumentException("the certificate of '" + subject + "' has " + ours.size() + " " + SCHEME
                    + ":// subject alternative names; a certificate must prove exactly one identity");
        }
        return parse(ours.get(0));
    }

    /**
     * Parses {@code raftkit://CLUSTER/ROLE/NAME}.
     *
     * @throws IllegalArgumentException if it is not of that form
     */
    public static CertificateIdentity parse(String uri) {
        String prefix = SCHEME + "://";
        if (!uri.regionMatches(true, 0, prefix, 0, prefix.length())) {
            throw malformed(uri, "it does not start with " + prefix);
        }
        String[] parts = uri.substring(prefix.length()).split("/", -1);
        if (parts.length != 3) {
            throw malformed(uri, "it must have exactly three parts: cluster, role (node, client or admin) and name");
        }
        Role role;
        try {
            role = Role.valueOf(parts[1].toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw malformed(uri, "its role must be node, client or admin");
        }
        try {
            return new CertificateIdentity(decode(parts[0]), role, decode(parts[2]));
        } catch (IllegalArgumentException e) {
            throw malformed(uri, e.getMessage());
        }
    }

    private static IllegalArgumentException malformed(String uri, String why) {
        return new IllegalArgumentException("malformed identity '" + bounded(uri) + "': " + why);
    }

    /** {@code s} cut to 100 characters, for log lines and replies that must stay bounded. */
    static String bounded(String s) {
        return s.length() <= 100 ? s : s.substring(0, 100) + "…(" + s.length() + " chars)";
    }

    private static boolean unreserved(int b) {
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
                || b == '-' || b == '.' || b == '_' || b == '~';
    }

    static String encode(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (unreserved(c)) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    static String decode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
                int lo = i + 2 < s.length() ? Character.digit(s.charAt(i + 2), 16) : -1;
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("a '%' not followed by two hexadecimal digits");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else if (unreserved(c)) {
                out.write(c);
            } else {
                throw new IllegalArgumentException("the character '" + c + "' must be percent-encoded");
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
