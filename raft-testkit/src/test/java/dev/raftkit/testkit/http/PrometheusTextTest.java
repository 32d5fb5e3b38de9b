package dev.raftkit.testkit.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.testkit.http.PrometheusText.Exposition;
import dev.raftkit.testkit.http.PrometheusText.Family;
import dev.raftkit.testkit.http.PrometheusText.FormatException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {

    @Test
    void readsHelpTypeLabelsEscapesAndSpecialValues() {
        String text = """
                # HELP http_requests_total The total number of requests,\\nby code; a back\\\\slash.
                # TYPE http_requests_total counter
                http_requests_total{method="post",code="200"} 1027 1395066363000
                http_requests_total{method="post",code="400",} 3 1395066363000

                # a comment, skipped
                msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9
                # TYPE weird gauge
                weird{a="x"} NaN
                weird{a="y"} +Inf
                weird{a="z"} -Inf
                weird{a="w"} -0.5
                # TYPE rpc_duration_seconds histogram
                rpc_duration_seconds_bucket{le="0.05"} 24054
                rpc_duration_seconds_bucket{le="+Inf"} 144320
                rpc_duration_seconds_sum 53423
                rpc_duration_seconds_count 144320
                """;
        Exposition e = PrometheusText.parse(text);
        assertEquals(List.of("http_requests_total", "msdos_file_access_time_seconds", "weird", "rpc_duration_seconds"),
                List.copyOf(e.families().keySet()));
        Family requests = e.family("http_requests_total");
        assertEquals("counter", requests.type());
        assertEquals("The total number of requests,\nby code; a back\\slash.", requests.help());
        assertEquals(Map.of("method", "post", "code", "400"), requests.samples().get(1).labels());
        assertEquals(1027.0, requests.samples().get(0).value());
        assertEquals(1395066363000L, requests.samples().get(0).timestampMillis());
        Family msdos = e.family("msdos_file_access_time_seconds");
        assertEquals("untyped", msdos.type());
        assertNull(msdos.help());
        assertEquals("C:\\DIR\\FILE.TXT", msdos.samples().get(0).labels().get("path"));
        assertEquals("Cannot find file:\n\"FILE.TXT\"", msdos.samples().get(0).labels().get("error"));
        assertEquals(1.458255915e9, msdos.samples().get(0).value());
        List<Double> weird = e.family("weird").samples().stream().map(PrometheusText.Sample::value).toList();
        assertTrue(weird.get(0).isNaN());
        assertEquals(List.of(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.5), weird.subList(1, 4));
        assertEquals(4, e.family("rpc_duration_seconds").samples().size());
        assertEquals(11, e.samples().size());
    }

    @Test
    void anEmptyExpositionHasNoFamilies() {
        assertTrue(PrometheusText.parse("").families().isEmpty());
    }

    @Test
    void refusesMalformedLinesNamingTheLine() {
        String[][] bad = {
                {"up 1", "line feed"},
                {"up\n", "blank and a value"},
                {"1up 1\n", "not a metric name"},
                {"up{} \n", "a value"},
                {"up one\n", "not a number"},
                {"up 1 2 3\n", "at most a timestamp"},
                {"up 1 1.5\n", "not an integer"},
                {"up{a=\"x} 1\n", "no closing quote"},
                {"up{a=x} 1\n", "double quotes"},
                {"up{a=\"\\t\"} 1\n", "unknown escape"},
                {"up{a=\"1\",a=\"2\"} 1\n", "twice"},
                {"up{a=\"1\" b=\"2\"} 1\n", "expected ','"},
                {"up{1a=\"1\"} 1\n", "label name"},
                {"up{a:b=\"1\"} 1\n", "label name"},
                {"up{a=\"1\"}1\n", "blank"},
                {"# TYPE up gauge\n# TYPE up gauge\nup 1\n", "second TYPE"},
                {"# TYPE up meter\nup 1\n", "not a type"},
                {"# HELP up a\n# HELP up b\nup 1\n", "second HELP"},
                {"# HELP up bad \\t escape\nup 1\n", "unknown escape"},
                {"up 1\n# TYPE up gauge\n", "after its first sample"},
                {"up 1\nup 2\n", "same sample twice"},
                {"a 1\nb 1\na{x=\"1\"} 2\n", "one group"},
                {"# TYPE h histogram\nh_bucket 1\n", "'le'"},
                {"up 0x10\n", "not a number"},
                {"up Infinity\n", "not a number"},
        };
        for (String[] c : bad) {
            FormatException e = assertThrows(FormatException.class, () -> PrometheusText.parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
        FormatException e = assertThrows(FormatException.class, () -> PrometheusText.parse("ok 1\nok_two 2\nbad line\n"));
        assertEquals(3, e.line());
    }
}
