package dev.raftkit.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What raftkit bench reads from a peer's harness: its CSV lines and its histogram log (no peer jar needed). */
class PeerBaselinesTest {

    @TempDir
    Path tmp;

    @Test
    void csvLinesAndTheHistogramLogMakeOneResultPerSetting() throws Exception {
        Path hlog = tmp.resolve("latency.hlog");
        try (PrintStream ps = new PrintStream(hlog.toFile())) {
            HistogramLogWriter w = new HistogramLogWriter(ps);
            w.outputLogFormatVersion();
            w.setBaseTime(0);
            for (int second = 0; second < 3; second++) {
                Histogram h = new Histogram(1, LatencyRecording.HIGHEST_NANOS, 3);
                for (int i = 0; i < 100 * (second + 1); i++) {
                    h.recordValue(2_000_000);
                }
                h.setTag(PeerBaselines.tag("ratis", "grpc", 16, 2));
                h.setStartTimeStamp(second * 1000L);
                h.setEndTimeStamp((second + 1) * 1000L);
                w.outputIntervalHistogram(h);
            }
        }
        String stdout = "note: chatter\ncsv,mode,processes,clients\n"
                + "csv,grpc,false,16,100,3.0,600,200.0,2.000,2.000,2.000,NaN,NaN,NaN,50.0,3,0,0,NaN,NaN,NaN,1.00,NaN,"
                + "kv,off,2,ratis\n";
        Map<String, List<Histogram>> logs = PeerBaselines.readLog(hlog);
        List<PeerBaselines.PeerResult> rs = PeerBaselines.parse("ratis", stdout, logs);
        assertEquals(1, rs.size());
        PeerBaselines.PeerResult r = rs.get(0);
        assertEquals("ratis", r.library());
        assertEquals("grpc", r.mode());
        assertEquals(16, r.clients());
        assertEquals(2, r.round());
        assertEquals(200.0, r.opsPerSec());
        assertEquals(3, r.perSecond().size());
        assertEquals(List.of(100L, 200L, 300L), r.perSecond().stream().map(Histogram::getTotalCount).toList());
        assertEquals(600, r.total().getTotalCount());
        assertEquals(2.0, LatencyRecording.percentileMillis(r.total(), 99), 0.01);
        assertEquals("ratis grpc, 16 clients, round 2", PeerBaselines.name(r, true));
    }

    @Test
    void aLineOfTheWrongShapeSaysWhatToRebuild() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> PeerBaselines.parse("sofajraft", "csv,in-process,false,1\n", Map.of()));
        assertTrue(e.getMessage().contains(PeerBaselines.BUILD), e.getMessage());
    }
}
