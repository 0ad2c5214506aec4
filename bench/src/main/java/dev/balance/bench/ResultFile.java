package dev.balance.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/**
 * Writes one run's result as {@code <dir>/<mode>-<yyyyMMdd-HHmmss>.json}. The fields every mode
 * must report are checked before anything is written, so a result file is never half a result.
 */
final class ResultFile {

    static final List<String> REQUIRED = List.of("mode", "throughput_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms",
            "settings", "machine");
    static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    /** Runs started within the same second get a numbered name rather than overwriting each other. */
    private static final int SAME_SECOND_RUNS_MAX = 100;

    private final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    Path write(Path dir, LocalDateTime startedAt, Map<String, Object> result) {
        for (String field : REQUIRED) {
            if (!result.containsKey(field) || result.get(field) == null) {
                throw new IllegalArgumentException("a result needs the field " + field);
            }
        }
        String base = result.get("mode") + "-" + STAMP.format(startedAt);
        try {
            Files.createDirectories(dir);
            for (int attempt = 1; attempt <= SAME_SECOND_RUNS_MAX; attempt++) {
                Path file = dir.resolve(attempt == 1 ? base + ".json" : base + "-" + attempt + ".json");
                if (!Files.exists(file)) {
                    Files.write(file, mapper.writeValueAsBytes(result));
                    return file;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the result under " + dir, e);
        }
        throw new IllegalStateException("more than " + SAME_SECOND_RUNS_MAX + " results named " + base);
    }
}
