package dev.balance.bench;

import dev.balance.api.BalanceNode;
import dev.balance.api.NodeConfig;
import dev.balance.topology.KafkaClientProperties;
import dev.balance.topology.Stores;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsMetadata;

/**
 * The node the HTTP modes drive: a running one given by {@code --url}, or by default a node
 * started in this JVM against the broker, with its own application id, topic prefix and state
 * directory (DEV_MODE, no request signing). With {@code --nodes 2} a second in-process node joins
 * the same application id and topics; requests still go to the first, which forwards those of
 * accounts the second owns. Closing stops the in-process nodes and removes their state and topics.
 */
final class HttpTarget implements AutoCloseable {

    static final Set<String> OPTIONS = Set.of("url", "bootstrap", "results-dir", "state-dir", "keep-topics", "nodes");
    static final long READY_TIMEOUT_MS = 120_000;
    private static final long READY_POLL_MS = 100;

    record Settings(String url, String bootstrapServers, Path resultsDir, Path stateDir, boolean keepTopics,
                    int nodes, Map<String, String> env) {

        static Settings from(Args args, Map<String, String> env) {
            Settings settings = new Settings(args.text("url", null),
                    args.text("bootstrap", env.getOrDefault("KAFKA_BOOTSTRAP_SERVERS", Bench.BOOTSTRAP_DEFAULT)),
                    Path.of(args.text("results-dir", "bench-results")), Path.of(args.text("state-dir", "data/bench")),
                    args.flag("keep-topics"), args.intValue("nodes", 1), Map.copyOf(env));
            if (settings.nodes < 1 || settings.nodes > 2) {
                throw new IllegalArgumentException("--nodes takes 1 or 2");
            }
            if (settings.nodes > 1 && settings.url != null) {
                throw new IllegalArgumentException("--nodes 2 starts in-process nodes; it does not go with --url");
            }
            return settings;
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("target", url == null ? nodes == 1 ? "in-process node"
                    : nodes + " in-process nodes sharing the partitions, requests sent to the first" : url);
            map.put("bootstrap_servers", url == null ? bootstrapServers : "(remote node)");
            return map;
        }
    }

    private final URI base;
    /** The in-process nodes, the one requests go to first; empty for a remote node. */
    private final List<BalanceNode> nodes;
    private final Path stateDir;
    private final String topicPrefix;
    private final Settings settings;
    private final PrintStream out;

    private HttpTarget(URI base, List<BalanceNode> nodes, Path stateDir, String topicPrefix, Settings settings,
                       PrintStream out) {
        this.base = base;
        this.nodes = nodes;
        this.stateDir = stateDir;
        this.topicPrefix = topicPrefix;
        this.settings = settings;
        this.out = out;
    }

    static HttpTarget open(Settings settings, String runId, PrintStream out) {
        if (settings.url() != null) {
            URI base = URI.create(settings.url().replaceAll("/+$", ""));
            waitReady(base);
            return new HttpTarget(base, List.of(), null, null, settings, out);
        }
        Path stateDir = settings.stateDir().resolve(runId).toAbsolutePath();
        List<BalanceNode> nodes = new ArrayList<>();
        HttpTarget target = new HttpTarget(null, nodes, stateDir, runId + "-", settings, out);
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < settings.nodes(); i++) {
                int port = freePort();
                ports.add(port);
                out.println("starting an in-process node on port " + port + " (application id " + runId + ")");
                Path nodeState = settings.nodes() == 1 ? stateDir : stateDir.resolve("node-" + port);
                nodes.add(new BalanceNode(NodeConfig.fromEnv(nodeEnv(settings, runId, port, nodeState)),
                        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)).start());
            }
            for (int port : ports) {
                waitReady(URI.create("http://127.0.0.1:" + port));
            }
            if (nodes.size() > 1) {
                waitStableAssignment(nodes, ports);
                out.println("assignment settled: " + assignment(nodes.get(0)));
            }
            return target.at(URI.create("http://127.0.0.1:" + ports.get(0)));
        } catch (RuntimeException e) {
            target.close();
            throw e;
        }
    }

    private HttpTarget at(URI base) {
        return new HttpTarget(base, nodes, stateDir, topicPrefix, settings, out);
    }

    /** The environment of a benchmark node: unsigned (DEV_MODE), with the run's own ids, topics, port and state. */
    static Map<String, String> nodeEnv(Settings settings, String runId, int port, Path stateDir) {
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
        return env;
    }

    URI uri(String path) {
        return base.resolve(path);
    }

    /**
     * The accounts among 1..{@code accounts} whose active owner is the second in-process node, as
     * the first node's Kafka Streams metadata says: the reads the first node forwards.
     */
    long[] accountsOwnedBySecond(int accounts) {
        if (nodes.size() < 2) {
            throw new IllegalStateException("forwarded reads need --nodes 2");
        }
        KafkaStreams first = nodes.get(0).streams();
        int secondPort = nodes.get(1).httpPort();
        LongSerializer keys = new LongSerializer();
        long[] owned = new long[accounts];
        int count = 0;
        for (long account = 1; account <= accounts; account++) {
            KeyQueryMetadata metadata = first.queryMetadataForKey(Stores.ACCOUNTS, account, keys);
            if (metadata != null && metadata.activeHost() != null && metadata.activeHost().port() == secondPort) {
                owned[count++] = account;
            }
        }
        return Arrays.copyOf(owned, count);
    }

    /** Partitions by owner as the first in-process node sees them ("host:port" to partitions). */
    Map<String, Set<Integer>> assignment() {
        return nodes.isEmpty() ? Map.of() : assignment(nodes.get(0));
    }

    @Override
    public void close() {
        if (nodes.isEmpty()) {
            return;
        }
        // The nodes leave the group as they stop, so that it can be deleted with the topics.
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close(true);
        }
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

    private static Map<String, Set<Integer>> assignment(BalanceNode node) {
        Map<String, Set<Integer>> seen = new TreeMap<>();
        for (StreamsMetadata client : node.streams().metadataForAllStreamsClients()) {
            Set<Integer> partitions = new TreeSet<>();
            client.topicPartitions().forEach(partition -> partitions.add(partition.partition()));
            seen.put(client.hostInfo().host() + ":" + client.hostInfo().port(), partitions);
        }
        return seen;
    }

    /**
     * Waits until every node owns partitions, all agree on who owns which, and each node's stream
     * threads run exactly the active tasks the others think it has (a cooperative rebalance names
     * the new owner before it took the task over).
     */
    private static void waitStableAssignment(List<BalanceNode> nodes, List<Integer> ports) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        while (!stable(nodes, ports)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the nodes did not settle on an assignment within " + READY_TIMEOUT_MS
                        + " ms: " + assignment(nodes.get(0)));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(READY_POLL_MS));
        }
    }

    private static boolean stable(List<BalanceNode> nodes, List<Integer> ports) {
        Map<String, Set<Integer>> agreed = null;
        try {
            for (BalanceNode node : nodes) {
                if (!node.ready()) {
                    return false;
                }
                Map<String, Set<Integer>> seen = assignment(node);
                if (agreed != null && !agreed.equals(seen)) {
                    return false;
                }
                agreed = seen;
            }
            for (int i = 0; i < nodes.size(); i++) {
                Set<Integer> running = new TreeSet<>();
                nodes.get(i).streams().metadataForLocalThreads().forEach(thread -> thread.activeTasks()
                        .forEach(task -> task.topicPartitions().forEach(partition -> running.add(partition.partition()))));
                Set<Integer> expected = agreed.get("127.0.0.1:" + ports.get(i));
                if (expected == null || expected.isEmpty() || !expected.equals(running)) {
                    return false;
                }
            }
        } catch (IllegalStateException e) {
            return false;
        }
        return agreed.size() == nodes.size();
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

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }
}
