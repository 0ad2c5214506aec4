package dev.balance.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a starting node says about its restores. Two sources, because neither alone is enough:
 * <ul>
 *   <li>{@code /ready} lists the restores under way with their changelog range
 *       ({@code total_records}), but forgets a restore once it ends, so polling it misses a restore
 *       shorter than the polling interval: a lower bound, and it tells which partitions restored;</li>
 *   <li>{@code /metrics} counts the records its restore consumers fetched since the process started
 *       ({@code kafka_consumer_fetch_manager_records_consumed_total} of the {@code *-restore-consumer}
 *       clients): exact, read once the node is ready.</li>
 * </ul>
 */
final class RestoreProgress {

    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * One series of a restore consumer's records consumed: Micrometer gives the client's total and,
     * once the consumer read a topic, the same count by topic instead, so a client's series are not summed.
     */
    private static final Pattern RESTORE_CONSUMED = Pattern.compile(
            "^kafka_consumer_fetch_manager_records_consumed_total\\{[^}]*client_id=\"([^\"]*-restore-consumer)\"[^}]*}"
                    + " ([0-9.Ee+-]+)$", Pattern.MULTILINE);

    /** Per partition, the largest changelog range seen being restored. */
    private final Map<Integer, Long> ranges = new TreeMap<>();

    /** Takes one answer of {@code /ready} (200 or 503) into account. */
    void seen(String readyBody) {
        JsonNode ready;
        try {
            ready = JSON.readTree(readyBody);
        } catch (IOException e) {
            throw new UncheckedIOException("/ready did not answer JSON: " + readyBody, e);
        }
        for (JsonNode restore : ready.path("restoring")) {
            ranges.merge(restore.path("partition").asInt(), restore.path("total_records").asLong(), Math::max);
        }
    }

    /** The changelog offsets of the restores seen under way (their whole ranges: records and transaction markers), summed over partitions. */
    long polledOffsets() {
        return ranges.values().stream().mapToLong(Long::longValue).sum();
    }

    /** The partitions seen restoring. */
    Map<Integer, Long> polledRanges() {
        return Map.copyOf(ranges);
    }

    /** The records the node's restore consumers fetched, from its {@code /metrics} text; -1 when it has none. */
    static long restoredRecords(String metrics) {
        Map<String, Long> byClient = new TreeMap<>();
        Matcher series = RESTORE_CONSUMED.matcher(metrics);
        while (series.find()) {
            byClient.merge(series.group(1), (long) Double.parseDouble(series.group(2)), Math::max);
        }
        return byClient.isEmpty() ? -1 : byClient.values().stream().mapToLong(Long::longValue).sum();
    }
}
