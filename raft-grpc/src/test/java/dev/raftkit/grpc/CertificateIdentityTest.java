package dev.raftkit.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code raftkit://CLUSTER/ROLE/NAME} names certificates carry. */
class CertificateIdentityTest {

    @Test
    void identitiesRoundTripThroughTheirUri() {
        for (CertificateIdentity id : List.of(CertificateIdentity.node("demo", 3),
                new CertificateIdentity("my cluster/ü", CertificateIdentity.Role.CLIENT, "app 1"),
                new CertificateIdentity("c", CertificateIdentity.Role.ADMIN, "ops"))) {
            assertEquals(id, CertificateIdentity.parse(id.uri()), id.uri());
        }
        assertEquals("raftkit://demo/node/3", CertificateIdentity.node("demo", 3).uri());
        assertEquals(3, CertificateIdentity.parse("raftkit://demo/node/3").nodeId());
    }

    @Test
    void malformedIdentitiesAreRefusedWithBoundedMessages() {
        String huge = "x".repeat(1 << 20);
        for (String bad : List.of("https://demo/node/3", "raftkit://demo/node", "raftkit://demo/node/3/4",
                "raftkit://demo/root/x", "raftkit://demo/node/0", "raftkit://demo/node/-1", "raftkit://demo/node/03",
                "raftkit://demo/node/99999999999999999999", "raftkit:///node/3", "raftkit://demo/client/",
                "raftkit://demo/client/%zz", "raftkit://de mo/client/a", "raftkit://demo/client/" + huge, huge)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CertificateIdentity.parse(bad), bad.length() > 80 ? bad.substring(0, 80) : bad);
            assertTrue(e.getMessage().length() < 400, "unbounded: " + e.getMessage().length());
        }
    }

    @Test
    void onlyNodeIdentitiesHaveANodeId() {
        assertThrows(IllegalStateException.class,
                () -> new CertificateIdentity("c", CertificateIdentity.Role.ADMIN, "1").nodeId());
    }
}
