package dev.balance.launcher;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus as a child process, scraping one node every second with the checked-in alert
 * rules loaded, queried over its HTTP API.
 */
final class PrometheusProcess implements AutoCloseable {

    private static final Duration READY_LIMIT = Duration.ofSeconds(60);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Process process;
    private final int port;
    final Path log;

    private PrometheusProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    static PrometheusProcess start(Path binary, Path workDir, String nodeTarget, Path alertRules) throws IOException {
        Files.createDirectories(workDir);
        Path config = workDir.resolve("prometheus.yml");
        Files.writeString(config, String.join("\n",
                "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}",
                "rule_files: [\"" + alertRules.toAbsolutePath() + "\"]",
                "scrape_configs:",
                "  - job_name: balance-node",
                "    static_configs: [{targets: [\"" + nodeTarget + "\"]}]",
                ""));
        int port = LiveStack.freePort();
        Path log = workDir.resolve("prometheus.log");
        Process process = new ProcessBuilder(List.of(binary.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + workDir.resolve("data"), "--web.listen-address=127.0.0.1:" + port))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PrometheusProcess prometheus = new PrometheusProcess(process, port, log);
        try {
            await().atMost(READY_LIMIT).pollInterval(Duration.ofMillis(250))
                    .until(() -> prometheus.statusOf("/-/ready") == 200);
        } catch (RuntimeException e) {
            prometheus.close();
            throw new IllegalStateException("Prometheus did not become ready; its log:\n" + Files.readString(log), e);
        }
        return prometheus;
    }

    /** The answer of an instant query: {@code data.result} on success. */
    JsonNode query(String expression) {
        return getJson("/api/v1/query?query=" + URLEncoder.encode(expression, StandardCharsets.UTF_8));
    }

    JsonNode getJson(String path) {
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return LiveStack.MAPPER.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private int statusOf(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
