package dev.raftkit.cli.sql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The literals of {@code .dump}: SQLite reads each back as the same value of the same type. */
class SqlDumpTest {

    @Test
    void everyLiteralReadsBackAsTheSameValueAndType() throws Exception {
        List<Object> values = new ArrayList<>(List.of(0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 0.1, -2.5, 1e300,
                Double.MIN_VALUE, 1.0, 123456789.125, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, "",
                "it's", "say \"hi\"", "two\nlines; ok", "naïve ☃", new byte[0], new byte[] {0, -1, 16}));
        values.add(null);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite::memory:"); Statement st = c.createStatement()) {
            for (Object v : values) {
                String literal = SqlDump.literal(v);
                try (ResultSet r = st.executeQuery("SELECT typeof(" + literal + "), " + literal)) {
                    r.next();
                    String expectedType = v == null ? "null" : v instanceof Long ? "integer" : v instanceof Double ? "real"
                            : v instanceof String ? "text" : "blob";
                    assertEquals(expectedType, r.getString(1), literal);
                    if (v instanceof byte[] b) {
                        byte[] back = r.getBytes(2);
                        assertArrayEquals(b, back == null ? new byte[0] : back, literal);
                    } else if (v instanceof Long l) {
                        assertEquals(l, r.getLong(2), literal);
                    } else if (v instanceof Double d) {
                        assertEquals(d, r.getDouble(2), literal);
                    } else {
                        assertEquals(v, r.getObject(2), literal);
                    }
                }
            }
        }
    }

    @Test
    void aValueOfAnotherTypeIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SqlDump.literal(new Object()));
        assertEquals("a value of type java.lang.Object has no SQL literal", e.getMessage());
    }

    @Test
    void identifiersAreQuotedWithDoubledQuotes() {
        assertEquals("\"odd \"\"name\"\"\"", SqlDump.identifier("odd \"name\""));
    }
}
