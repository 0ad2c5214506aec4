package dev.balance.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.api.BalanceNode;
import dev.balance.api.NodeConfig;
import dev.balance.api.auth.Signatures;
import dev.balance.sink.mysql.MysqlSink;
import dev.balance.sink.mysql.MysqlSinkConfig;
import dev.balance.sink.redis.RedisSink;
import dev.balance.sink.redis.RedisSinkConfig;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * {@code scripts/reconcile} against a real node, both sinks, MySQL and Redis: nothing to report
 * after changes (transfers included) once the sinks caught up, and every difference a test plants
 * in MySQL's balances, its journal or Redis is reported. The node requires signatures: the test
 * writes with a write key, the reconciliation reads with a read key.
 */
class ReconcileIT {

    private static final String WRITER_SECRET = "reconcile-writer-secret-0123";
    private static final String READER_SECRET = "reconcile-reader-secret-0123";
    private static final String MYSQL_SERVER = "jdbc:mysql://127.0.0.1:3306/";

    private KafkaBroker broker;
    private BalanceNode node;
    private MysqlSink mysqlSink;
    private RedisSink redisSink;
    private String database;
    private String redisPrefix;
    private int port;
    private Map<String, String> env;

    @BeforeEach
    void startEverything() throws Exception {
        broker = KafkaBroker.start();
        String cluster = "rc" + UUID.randomUUID().toString().substring(0, 8);
        database = "reconcile_" + cluster;
        redisPrefix = cluster + ":";
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        env = new HashMap<>();
        env.put("HTTP_PORT", Integer.toString(port));
        env.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
        env.put("STATE_DIR", Path.of("target", "state", cluster).toAbsolutePath().toString());
        env.put("APPLICATION_ID", cluster);
        env.put("TOPIC_PREFIX", cluster + "-");
        env.put("TOPIC_PARTITIONS", "4");
        env.put("STREAM_THREADS", "1");
        env.put("DEV_MODE", "false");
        env.put("API_KEYS", "writer:" + WRITER_SECRET + ":write,reconcile:" + READER_SECRET + ":read");
        env.put("API_KEY_ID", "reconcile");
        env.put("API_KEY_SECRET", READER_SECRET);
        env.put("BALANCE_EVENTS_TOPIC", cluster + "-balance-events");
        env.put("BALANCE_DLQ_TOPIC", cluster + "-balance-dlq");
        env.put("MYSQL_URL", MYSQL_SERVER + database);
        env.put("REDIS_URL", "redis://127.0.0.1:6379");
        env.put("REDIS_KEY_PREFIX", redisPrefix);
        env.put("SINK_MYSQL_GROUP_ID", cluster + "-mysql");
        env.put("SINK_REDIS_GROUP_ID", cluster + "-redis");
        env.put("NODE_URL", "http://127.0.0.1:" + port);
        env.put("RECONCILE_WAIT_MS", "60000");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        node = new BalanceNode(NodeConfig.fromEnv(env), registry).start();
        Awaitility.await().atMost(Duration.ofMinutes(2)).until(node::ready);
        mysqlSink = new MysqlSink(MysqlSinkConfig.fromEnv(env), registry);
        mysqlSink.start();
        redisSink = new RedisSink(RedisSinkConfig.fromEnv(env), registry);
        redisSink.start();
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {redisSink, mysqlSink, node}) {
            if (closeable != null) {
                closeable.close();
            }
        }
        try (RedisClient redis = RedisClient.builder().fromURI(URI.create("redis://127.0.0.1:6379")).build()) {
            redis.keys(redisPrefix + "*").forEach(redis::del);
        }
        try (Connection connection = DriverManager.getConnection(MYSQL_SERVER, "root", "");
             Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS `" + database + "`");
        }
        broker.close();
    }

    @Test
    void shouldFindNoDifferenceOnceTheSinksCaughtUpAndReportEveryPlantedOne() throws Exception {
        // Given deposits, withdrawals, a freeze, transfers and a settlement to another account
        for (long account = 1; account <= 12; account++) {
            post(change("d" + account, account, "DEPOSIT", "100", 0));
            post(change("w" + account, account, "WITHDRAW", "1.5", 0));
        }
        post(change("f1", 1, "FREEZE", "10", 0));
        post(change("t1", 1, "TRANSFER", "20", 2));
        post(change("t2", 3, "TRANSFER", "30", 4));
        post(change("s1", 1, "SETTLE", "10", 5));

        // When reconcile runs, once the sinks know every balance (it compares the balances they know)
        Reconcile.Report clean = Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> reconcile(60_000),
                report -> report.balances() == 12);

        // Then it compared every balance and found nothing
        assertThat(clean.differences()).isEmpty();
        assertThat(clean.balances()).isEqualTo(12);

        // And when a balance, a journal row and a Redis field are changed behind the service's back
        try (Connection connection = DriverManager.getConnection(MYSQL_SERVER + database, "root", "");
             Statement statement = connection.createStatement()) {
            statement.execute("UPDATE balances SET available = available + 1 WHERE account_id = 7");
            statement.execute("DELETE FROM balance_journal WHERE account_id = 8 AND version = 1");
        }
        try (RedisClient redis = RedisClient.builder().fromURI(URI.create("redis://127.0.0.1:6379")).build()) {
            redis.hset(redisPrefix + "balance:9", "USDT", "2|0.000000|0.000000|0");
        }
        Reconcile.Report planted = reconcile(0);

        // Then each one is reported, with the totals it breaks, and nothing else
        assertThat(planted.differences()).hasSize(4);
        assertThat(planted.differences()).anySatisfy(d -> assertThat(d).startsWith("USDT: balances add up to"));
        assertThat(planted.differences()).anySatisfy(d -> assertThat(d).startsWith("7/USDT: MySQL balances holds"))
                .anySatisfy(d -> assertThat(d).startsWith("8/USDT: the MySQL journal has 1 rows from version 2"))
                .anySatisfy(d -> assertThat(d).startsWith("9/USDT: Redis holds v2"));
    }

    @Test
    void shouldReportADebitWhoseCreditNeverReachedTheLedger() throws Exception {
        // Given a transfer, reconciled
        post(change("d1", 1, "DEPOSIT", "100", 0));
        post(change("t1", 1, "TRANSFER", "40", 2));
        // Reconcile compares the balances the sinks know: wait until they know both.
        Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> reconcile(0),
                report -> report.clean() && report.balances() == 2);

        // When its credit disappears from the ledger and from the destination's balance row alike
        try (Connection connection = DriverManager.getConnection(MYSQL_SERVER + database, "root", "");
             Statement statement = connection.createStatement()) {
            statement.execute("DELETE FROM balance_journal WHERE account_id = 2 AND leg = 'CREDIT'");
        }
        Reconcile.Report report = reconcile(0);

        // Then the missing credit is named
        assertThat(report.differences()).anySatisfy(d -> assertThat(d)
                .isEqualTo("1/USDT t1: 1 debits to 2 but 0 credits there and 0 refunds"));
    }

    private Reconcile.Report reconcile(long waitMs) throws Exception {
        Map<String, String> settings = new HashMap<>(env);
        settings.put("RECONCILE_WAIT_MS", Long.toString(waitMs));
        return new Reconcile(Reconcile.Settings.fromEnv(settings))
                .untilCleanOrTimeout(new PrintStream(new ByteArrayOutputStream()));
    }

    private void post(String body) throws Exception {
        String timestamp = Long.toString(System.currentTimeMillis());
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/balance/change"))
                .header("X-Key-Id", "writer").header("X-Timestamp", timestamp)
                .header("X-Signature", Signatures.v2(WRITER_SECRET, timestamp, "POST", "/api/v1/balance/change",
                        body.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }

    private static String change(String id, long account, String type, String amount, long to) {
        return "{\"transaction_id\":\"" + id + "\",\"account_id\":" + account + ",\"currency_code\":\"USDT\",\"type\":\""
                + type + "\",\"amount\":\"" + amount + "\"" + (to == 0 ? "" : ",\"to_account_id\":" + to) + "}";
    }
}
