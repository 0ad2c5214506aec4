package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultFileTest {

    private static final LocalDateTime STARTED = LocalDateTime.of(2026, 11, 23, 9, 5, 7);

    @TempDir
    Path dir;

    @Test
    void shouldWriteTheResultUnderTheModeAndStartTime() throws Exception {
        Histogram latency = new Histogram(Latency.TRACKABLE_NANOS_MAX, 3);
        for (long ms = 1; ms <= 100; ms++) {
            latency.recordValue(ms * 1_000_000);
        }
        Map<String, Object> result = result(latency);

        Path file = new ResultFile().write(dir, STARTED, result);

        assertThat(file.getFileName()).hasToString("http-single-20261123-090507.json");
        JsonNode json = new ObjectMapper().readTree(Files.readAllBytes(file));
        assertThat(json.get("mode").asText()).isEqualTo("http-single");
        assertThat(json.get("throughput_per_s").asLong()).isEqualTo(1234);
        assertThat(json.get("p50_ms").asDouble()).isBetween(49.9, 50.1);
        assertThat(json.get("p95_ms").asDouble()).isBetween(94.9, 95.1);
        assertThat(json.get("max_ms").asDouble()).isBetween(99.9, 100.1);
        assertThat(json.get("settings").get("rate_per_s").asInt()).isEqualTo(500);
        assertThat(json.get("machine").get("cores").asInt()).isPositive();
    }

    @Test
    void shouldNumberASecondResultOfTheSameSecondInsteadOfOverwriting() {
        Map<String, Object> result = result(new Histogram(Latency.TRACKABLE_NANOS_MAX, 3));

        Path first = new ResultFile().write(dir, STARTED, result);
        Path second = new ResultFile().write(dir, STARTED, result);

        assertThat(first).exists();
        assertThat(second.getFileName()).hasToString("http-single-20261123-090507-2.json");
    }

    @Test
    void shouldRefuseAResultWithoutARequiredField() {
        Map<String, Object> result = result(new Histogram(Latency.TRACKABLE_NANOS_MAX, 3));
        result.remove("p95_ms");

        assertThatThrownBy(() -> new ResultFile().write(dir, STARTED, result)).hasMessageContaining("p95_ms");
        assertThat(dir).isEmptyDirectory();
    }

    private static Map<String, Object> result(Histogram latency) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("mode", "http-single");
        result.put("throughput_per_s", 1234L);
        result.putAll(Latency.summary(latency));
        result.put("settings", Map.of("rate_per_s", 500));
        result.put("machine", Machine.current().toMap());
        return result;
    }
}
