package dev.balance.launcher;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.balance.api.BalanceNode;
import dev.balance.api.metrics.JvmMeters;
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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import redis.clients.jedis.Jedis;

/**
 * A whole process as the launcher runs it (a node and both sinks on one meter registry, JVM meters
 * bound) against a real broker, MySQL/MariaDB on 127.0.0.1:3306 and Redis on 127.0.0.1:6379.
 */
final class LiveStack implements AutoCloseable {

    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String MYSQL_SERVER = "jdbc:mysql://127.0.0.1:3306/";

    private final KafkaBroker broker;
    /** Whether closing the stack closes the broker (false for a broker the caller shares between stacks). */
    private final boolean ownsBroker;
    private final List<AutoCloseable> roles = new CopyOnWriteArrayList<>();
    /** The cluster's name: its database, application id, and topic and Redis key prefix. */
    private final String database;
    final int port;

    private LiveStack(KafkaBroker broker, boolean ownsBroker, int port, String database) {
        this.broker = broker;
        this.ownsBroker = ownsBroker;
        this.port = port;
        this.database = database;
    }

    static LiveStack start() {
        KafkaBroker broker = KafkaBroker.start();
        return start(broker, true, broker.bootstrapServers(), Map.of());
    }

    /**
     * A stack on a broker the caller keeps (and closes), reached at the given address, with
     * further variables (e.g. KAFKA_CLIENT_PROPERTIES) added to the environment.
     */
    static LiveStack start(KafkaBroker broker, String bootstrapServers, Map<String, String> moreEnv) {
        return start(broker, false, bootstrapServers, moreEnv);
    }

    private static LiveStack start(KafkaBroker broker, boolean ownsBroker, String bootstrapServers,
                                   Map<String, String> moreEnv) {
        String cluster = "obs" + UUID.randomUUID().toString().substring(0, 8);
        LiveStack stack = new LiveStack(broker, ownsBroker, freePort(), cluster);
        Map<String, String> env = new HashMap<>();
        env.put("HTTP_PORT", Integer.toString(stack.port));
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers);
        env.put("STATE_DIR", Path.of("target", "state", cluster).toAbsolutePath().toString());
        env.put("APPLICATION_ID", cluster);
        env.put("TOPIC_PREFIX", cluster + "-");
        env.put("TOPIC_PARTITIONS", "4");
        env.put("STREAM_THREADS", "1");
        env.put("DEV_MODE", "true");
        env.put("ROCKSDB_CACHE_MB", "64");
        env.put("ROCKSDB_WRITE_BUFFER_MB", "32");
        env.put("METRICS_REFRESH_MS", "1000");
        env.put("INPUT_LAG_REFRESH_MS", "1000");
        env.put("START_SINK_MYSQL", "true");
        env.put("MYSQL_URL", MYSQL_SERVER + cluster);
        env.put("SINK_MYSQL_GROUP_ID", cluster + "-sink-mysql");
        env.put("START_SINK_REDIS", "true");
        env.put("REDIS_KEY_PREFIX", cluster + ":");
        env.put("SINK_REDIS_GROUP_ID", cluster + "-sink-redis");
        env.putAll(moreEnv);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        JvmMeters.bindTo(registry);
        try {
            Launcher.start(env, registry, stack.roles);
            BalanceNode node = (BalanceNode) stack.roles.get(0);
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(node::ready);
        } catch (RuntimeException | AssertionError e) {
            stack.close();
            throw e;
        }
        return stack;
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    String bootstrapServers() {
        return broker.bootstrapServers();
    }

    /** The cluster's name: its MySQL database, and with ':' its Redis key prefix. */
    String database() {
        return database;
    }

    record Answer(int status, String text, HttpHeaders headers) {
        JsonNode json() {
            try {
                return MAPPER.readTree(text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    Answer get(String path) {
        return send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(30)).GET().build());
    }

    Answer post(String path, String body) {
        return post(path, body, Map.of());
    }

    Answer post(String path, String body, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return send(request.build());
    }

    static String change(String transactionId, long accountId, String currency, String type, String amount) {
        return "{\"transaction_id\":\"" + transactionId + "\",\"account_id\":" + accountId + ",\"currency_code\":\""
                + currency + "\",\"type\":\"" + type + "\",\"amount\":\"" + amount + "\"}";
    }

    private static Answer send(HttpRequest request) {
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), response.body(), response.headers());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        Launcher.stopAll(roles);
        if (ownsBroker) {
            broker.close();
        }
        try (Connection connection = DriverManager.getConnection(MYSQL_SERVER, "root", "");
             Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS `" + database + "`");
        } catch (SQLException e) {
            throw new IllegalStateException("could not drop the test database " + database, e);
        }
        try (Jedis redis = new Jedis("127.0.0.1", 6379)) {
            Set<String> keys = redis.keys(database + ":*");
            if (!keys.isEmpty()) {
                redis.del(keys.toArray(String[]::new));
            }
        }
    }
}
