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

    /**
     * Waits until the nodes agree on who owns every partition and each node's stream threads run
     * exactly the active tasks the others think it has. A node counts as an owner in the metadata
     * already during a cooperative rebalance's first round, while the task is still being handed
     * over; a change answered then by the old owner (before its commit) can be read back from the
     * new one before it reprocessed it. Tests that read right after a verdict start after this.
     */
    static void awaitStableAssignment(java.util.List<BalanceNode> nodes) {
        await("a stable assignment").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                .until(() -> stable(nodes));
    }

    private static boolean stable(java.util.List<BalanceNode> nodes) {
        java.util.Map<String, java.util.Set<Integer>> agreed = null;
        for (BalanceNode node : nodes) {
            if (!node.ready()) {
                return false;
            }
            java.util.Map<String, java.util.Set<Integer>> seen = new java.util.TreeMap<>();
            for (var client : node.streams().metadataForAllStreamsClients()) {
                java.util.Set<Integer> partitions = new java.util.TreeSet<>();
                client.topicPartitions().forEach(partition -> partitions.add(partition.partition()));
                seen.put(client.hostInfo().host() + ":" + client.hostInfo().port(), partitions);
            }
            if (agreed != null && !agreed.equals(seen)) {
                return false;
            }
            agreed = seen;
        }
        if (agreed == null || agreed.size() != nodes.size()) {
            return false;
        }
        for (BalanceNode node : nodes) {
            java.util.Set<Integer> running = new java.util.TreeSet<>();
            node.streams().metadataForLocalThreads().forEach(thread -> thread.activeTasks()
                    .forEach(task -> task.topicPartitions().forEach(partition -> running.add(partition.partition()))));
            java.util.Set<Integer> expected = agreed.get("127.0.0.1:" + node.httpPort());
            if (expected == null || !expected.equals(running)) {
                return false;
            }
        }
        return true;
    }

    /** How a test reads an account through a node, signed as its cluster requires: the HTTP status. */
    @FunctionalInterface
    interface ReadStatus {
        int read(int port, long account) throws Exception;
    }

    /**
     * Waits until two nodes each own partitions, agree on a stable assignment, and each answers a
     * read of an account the other owns: the group has settled and forwarding works both ways.
     */
    static void awaitSettled(BalanceNode a, int portA, BalanceNode b, int portB, ReadStatus readStatus) {
        MultiNodeIT.awaitBothOwnPartitions(a, portA, portB);
        awaitStableAssignment(java.util.List.of(a, b));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> b.ready()
                && readStatus.read(portA, MultiNodeIT.accountOwnedBy(a, portB)) == 200
                && readStatus.read(portB, MultiNodeIT.accountOwnedBy(a, portA)) == 200);
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
        return get(port, path, Map.of());
    }

    static Answer get(int port, String path, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).GET();
        headers.forEach(request::header);
        return send(request.build());
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

    /** How many groups of forwarded reads ({@code POST /internal/v1/reads}) the node answered 200, from its /metrics. */
    static long groupedReads(int port) {
        String metrics = get(port, "/metrics").raw().body();
        java.util.regex.Matcher counts = java.util.regex.Pattern.compile(
                "balance_http_requests_seconds_count\\{[^}]*route=\"/internal/v1/reads\"[^}]*status=\"200\"[^}]*} ([0-9.E]+)")
                .matcher(metrics);
        long total = 0;
        while (counts.find()) {
            total += (long) Double.parseDouble(counts.group(1));
        }
        return total;
    }

    static String change(String transactionId, long accountId, String currency, String type, String amount) {
        return "{\"transaction_id\":\"" + transactionId + "\",\"account_id\":" + accountId + ",\"currency_code\":\""
                + currency + "\",\"type\":\"" + type + "\",\"amount\":\"" + amount + "\"}";
    }
}
