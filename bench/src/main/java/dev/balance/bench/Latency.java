package dev.balance.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Durations in nanoseconds, recorded from many threads without locks (HdrHistogram's
 * {@link Recorder}, three significant digits), reported in milliseconds.
 */
final class Latency {

    /** Anything slower than this is recorded as this; a minute is far beyond every target. */
    static final long TRACKABLE_NANOS_MAX = TimeUnit.MINUTES.toNanos(1);
    private static final int SIGNIFICANT_DIGITS = 3;

    private final Recorder recorder = new Recorder(TRACKABLE_NANOS_MAX, SIGNIFICANT_DIGITS);
    private final Histogram total = new Histogram(TRACKABLE_NANOS_MAX, SIGNIFICANT_DIGITS);

    void recordNanos(long nanos) {
        recorder.recordValue(Math.min(Math.max(nanos, 0), TRACKABLE_NANOS_MAX));
    }

    /** Everything recorded so far; safe while other threads still record. */
    synchronized Histogram snapshot() {
        total.add(recorder.getIntervalHistogram());
        return total.copy();
    }

    /** Count and percentiles in milliseconds, under the names of the result file. */
    static Map<String, Object> summary(Histogram histogram) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("count", histogram.getTotalCount());
        map.put("p50_ms", millis(histogram.getValueAtPercentile(50)));
        map.put("p95_ms", millis(histogram.getValueAtPercentile(95)));
        map.put("p99_ms", millis(histogram.getValueAtPercentile(99)));
        map.put("p99_9_ms", millis(histogram.getValueAtPercentile(99.9)));
        map.put("max_ms", millis(histogram.getMaxValue()));
        map.put("mean_ms", millis(Math.round(histogram.getMean())));
        return map;
    }

    /** The latency figures every result file carries, copied from a {@link #summary} into a mode's result. */
    static void putFigures(Map<String, Object> result, Map<String, Object> summary) {
        for (String key : List.of("p50_ms", "p95_ms", "p99_ms", "p99_9_ms", "max_ms", "mean_ms")) {
            result.put(key, summary.get(key));
        }
    }

    /** Milliseconds with nanosecond precision (six decimals). */
    static double millis(long nanos) {
        return nanos / 1e6;
    }

    static String line(Histogram histogram) {
        return String.format("P50 %s  P95 %s  P99 %s  P99.9 %s  max %s  (n=%,d)",
                text(histogram.getValueAtPercentile(50)), text(histogram.getValueAtPercentile(95)),
                text(histogram.getValueAtPercentile(99)), text(histogram.getValueAtPercentile(99.9)),
                text(histogram.getMaxValue()), histogram.getTotalCount());
    }

    private static String text(long nanos) {
        return nanos < 100_000 ? String.format("%.1f us", nanos / 1e3) : String.format("%.2f ms", nanos / 1e6);
    }
}
