package dev.balance.api;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** Starts real balance nodes against a real broker and talks to them over real HTTP. */
final class NodeFixture {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private NodeFixture() {
    }

    /** The environment of a node of one test cluster (application id and topic prefix shared by its nodes). */
    static Map<String, String> env(KafkaBroker broker, String cluster, int port, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put("HTTP_PORT", Integer.toString(port));
        env.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
        env.put("STATE_DIR", Path.of("target", "state", cluster, "node-" + port).toAbsolutePath().toString());
        env.put("APPLICATION_ID", cluster);
        env.put("TOPIC_PREFIX", cluster + "-");
        env.put("TOPIC_PARTITIONS", "4");
        env.put("STREAM_THREADS", "1");
        env.put("DEV_MODE", "true");
        env.putAll(overrides);
        return env;
    }

    static String newCluster() {
        return "c" + UUID.randomUUID().toString().substring(0, 8);
    }

    static BalanceNode startNode(Map<String, String> env) {
        BalanceNode node = new BalanceNode(NodeConfig.fromEnv(env), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        node.start();
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(node::ready);
        return node;
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    record Answer(int status, JsonNode body, HttpResponse<String> raw) {
        Optional<String> header(String name) {
            return raw.headers().firstValue(name);
        }
    }

    static Answer post(int port, String path, String body) {
        return post(port, path, body, Map.of());
    }

    static Answer post(int port, String path, String body, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return send(request.build());
    }

    static Answer get(int port, String path) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).GET().build());
    }

    private static Answer send(HttpRequest request) {
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            JsonNode body = response.body().isEmpty() ? MAPPER.nullNode() : parse(response.body());
            return new Answer(response.statusCode(), body, response);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode parse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            return MAPPER.getNodeFactory().textNode(text);
        }
    }

    static String change(String transactionId, long accountId, String currency, String type, String amount) {
        return "{\"transaction_id\":\"" + transactionId + "\",\"account_id\":" + accountId + ",\"currency_code\":\""
                + currency + "\",\"type\":\"" + type + "\",\"amount\":\"" + amount + "\"}";
    }
}
