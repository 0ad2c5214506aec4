package dev.balance.bench;

import dev.balance.api.BalanceNode;
import dev.balance.api.NodeConfig;
import dev.balance.topology.KafkaClientProperties;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The node the HTTP modes drive: a running one given by {@code --url}, or by default a node
 * started in this JVM against the broker, with its own application id, topic prefix and state
 * directory (DEV_MODE, no request signing). Closing stops the in-process node and removes its
 * state and topics.
 */
final class HttpTarget implements AutoCloseable {

    static final Set<String> OPTIONS = Set.of("url", "bootstrap", "results-dir", "state-dir", "keep-topics");
    static final long READY_TIMEOUT_MS = 120_000;
    private static final long READY_POLL_MS = 100;

    record Settings(String url, String bootstrapServers, Path resultsDir, Path stateDir, boolean keepTopics,
                    Map<String, String> env) {

        static Settings from(Args args, Map<String, String> env) {
            return new Settings(args.text("url", null),
                    args.text("bootstrap", env.getOrDefault("KAFKA_BOOTSTRAP_SERVERS", Bench.BOOTSTRAP_DEFAULT)),
                    Path.of(args.text("results-dir", "bench-results")), Path.of(args.text("state-dir", "data/bench")),
                    args.flag("keep-topics"), Map.copyOf(env));
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("target", url == null ? "in-process node" : url);
            map.put("bootstrap_servers", url == null ? bootstrapServers : "(remote node)");
            return map;
        }
    }

    private final URI base;
    private final BalanceNode node;
    private final Path stateDir;
    private final String topicPrefix;
    private final Settings settings;
    private final PrintStream out;

    private HttpTarget(URI base, BalanceNode node, Path stateDir, String topicPrefix, Settings settings, PrintStream out) {
        this.base = base;
        this.node = node;
        this.stateDir = stateDir;
        this.topicPrefix = topicPrefix;
        this.settings = settings;
        this.out = out;
    }

    static HttpTarget open(Settings settings, String runId, PrintStream out) {
        if (settings.url() != null) {
            URI base = URI.create(settings.url().replaceAll("/+$", ""));
            waitReady(base);
            return new HttpTarget(base, null, null, null, settings, out);
        }
        int port = freePort();
        Path stateDir = settings.stateDir().resolve(runId).toAbsolutePath();
        Map<String, String> env = new HashMap<>(settings.env());
        // The generator does not sign requests: configured keys and secrets are left out of the benchmark node.
        env.remove("HMAC_SECRET");
        env.remove("API_KEYS");
        env.remove("NODE_SECRET");
        env.put("DEV_MODE", "true");
        env.put("HTTP_PORT", Integer.toString(port));
        env.put("NODE_PORT", Integer.toString(port));
        env.put("APPLICATION_ID", runId);
        env.put("TOPIC_PREFIX", runId + "-");
        env.put("STATE_DIR", stateDir.toString());
        env.put("KAFKA_BOOTSTRAP_SERVERS", settings.bootstrapServers());
        out.println("starting an in-process node on port " + port + " (application id " + runId + ")");
        BalanceNode node = new BalanceNode(NodeConfig.fromEnv(env), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))
                .start();
        URI base = URI.create("http://127.0.0.1:" + port);
        HttpTarget target = new HttpTarget(base, node, stateDir, runId + "-", settings, out);
        try {
            waitReady(base);
        } catch (RuntimeException e) {
            target.close();
            throw e;
        }
        return target;
    }

    URI uri(String path) {
        return base.resolve(path);
    }

    @Override
    public void close() {
        if (node == null) {
            return;
        }
        node.close();
        Directories.deleteRecursively(stateDir);
        if (!settings.keepTopics()) {
            try (BenchKafka kafka = new BenchKafka(settings.bootstrapServers(),
                    KafkaClientProperties.fromEnv(settings.env()))) {
                out.println("deleted topics " + kafka.deleteTopicsStartingWith(topicPrefix));
                String problem = kafka.deleteGroups(List.of(topicPrefix.substring(0, topicPrefix.length() - 1)));
                if (problem != null) {
                    out.println("consumer group left to the broker's retention: " + problem);
                }
            }
        }
    }

    private static void waitReady(URI base) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest ready = HttpRequest.newBuilder(base.resolve("/ready")).timeout(Duration.ofSeconds(5)).GET().build();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> response = client.send(ready, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = response.statusCode() + " " + response.body();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the node", e);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(READY_POLL_MS));
        }
        throw new IllegalStateException("the node at " + base + " was not ready within " + READY_TIMEOUT_MS + " ms: " + last);
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }
}
