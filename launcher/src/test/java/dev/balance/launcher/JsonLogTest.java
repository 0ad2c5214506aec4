package dev.balance.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;
import org.apache.logging.log4j.core.LoggerContext;
import org.junit.jupiter.api.Test;

/** The process's own log configuration (log4j2.properties of the launcher), not the tests' one. */
class JsonLogTest {

    @Test
    void logLinesAreJsonObjectsWithTheRequestAccountAndTransactionIdsAsFields() throws IOException, URISyntaxException {
        Path file = Path.of(System.getenv().getOrDefault("LOG_DIR", "logs"), "balance.log");
        String marker = "json-log-test " + UUID.randomUUID();
        LoggerContext context = new LoggerContext("json-log-test", null,
                getClass().getClassLoader().getResource("log4j2.properties").toURI());
        context.start();
        try {
            Logger access = context.getLogger("dev.balance.api.http.access");
            ThreadContext.put("request_id", "r-1");
            ThreadContext.put("account_id", "42");
            ThreadContext.put("transaction_id", "t-9");
            access.info("POST /api/v1/balance/change 422 in 1.5 ms {}", marker);
            ThreadContext.clearMap();
            access.warn("failed {}", marker, new IllegalStateException("broken"));
        } finally {
            ThreadContext.clearMap();
            context.stop();
        }

        List<JsonNode> lines = Files.readAllLines(file).stream().filter(line -> line.contains(marker))
                .map(JsonLogTest::json).toList();
        assertThat(lines).hasSize(2);
        JsonNode request = lines.get(0);
        assertThat(request.path("level").asText()).isEqualTo("INFO");
        assertThat(request.path("logger").asText()).isEqualTo("dev.balance.api.http.access");
        assertThat(request.path("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(request.path("message").asText()).startsWith("POST /api/v1/balance/change 422");
        assertThat(request.path("request_id").asText()).isEqualTo("r-1");
        assertThat(request.path("account_id").asText()).isEqualTo("42");
        assertThat(request.path("transaction_id").asText()).isEqualTo("t-9");
        JsonNode failure = lines.get(1);
        assertThat(failure.has("request_id")).isFalse();
        assertThat(failure.path("error").asText()).isEqualTo("java.lang.IllegalStateException");
        assertThat(failure.path("stack_trace").asText()).contains("JsonLogTest");
    }

    private static JsonNode json(String line) {
        try {
            return LiveStack.MAPPER.readTree(line);
        } catch (IOException e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }
}
