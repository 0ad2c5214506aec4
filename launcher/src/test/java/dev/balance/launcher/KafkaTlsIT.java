package dev.balance.launcher;

import static dev.balance.launcher.LiveStack.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.balance.api.BalanceNode;
import dev.balance.api.NodeConfig;
import dev.balance.sink.mysql.MysqlSink;
import dev.balance.sink.mysql.MysqlSinkConfig;
import dev.balance.topology.testkit.KafkaBroker;
import dev.balance.topology.testkit.TlsStores;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * A broker that serves its clients over TLS (an SSL listener, and a SASL_SSL listener with
 * PLAIN), with a self-signed certificate: a node and both sinks given only a TLS listener's
 * address and a KAFKA_CLIENT_PROPERTIES file decide a change and write it to MySQL and Redis;
 * without the file a client cannot use the TLS port; a wrong SASL password stops the node's start.
 * The broker's PLAINTEXT listener is used by the test itself only (topics, group state).
 */
class KafkaTlsIT {

    private static final String MYSQL_SERVER = "jdbc:mysql://127.0.0.1:3306/";
    private static final String FAILED_AUTHENTICATIONS = "failed-authentication-total";
    private static Path dir;
    private static TlsStores stores;
    private static KafkaBroker broker;

    @BeforeAll
    static void startBrokerWithTlsListeners() throws IOException {
        dir = Files.createDirectories(Path.of("target", "kafka-tls-" + UUID.randomUUID().toString().substring(0, 8))
                .toAbsolutePath());
        stores = TlsStores.selfSigned(dir);
        broker = KafkaBroker.startWithTls(stores);
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void aNodeAndBothSinksGivenOnlyTheTlsListenerAndThePropertiesFileApplyAChangeAndWriteIt() throws Exception {
        // Given the client settings an operator writes for a TLS broker with a private CA
        Path file = write("ssl.properties", stores.clientProperties("SSL"));

        // When a node and both sinks start with the SSL listener's address alone and that file
        try (LogCapture logs = LogCapture.start();
             LiveStack stack = LiveStack.start(broker, broker.tlsBootstrapServers(),
                     Map.of("KAFKA_CLIENT_PROPERTIES", file.toString()))) {

            // Then a change is applied and reaches MySQL and Redis
            changeIsAppliedAndWritten(stack, 42, "1.5");
            // And the start said how Kafka is reached, with no secret of the file in any log line: neither
            // the project's nor the Kafka clients' own dumps of their configuration (captured here too)
            assertThat(logs.text()).contains("over SSL", "ssl.truststore.location=" + stores.trustStore())
                    .contains("ssl.truststore.password=(hidden)", "ssl.truststore.password = [hidden]")
                    .doesNotContain(stores.password());
        }
    }

    @Test
    void saslOverTlsWithThePlainMechanismWorksTheSameWay() throws Exception {
        Path file = write("sasl-ssl.properties",
                stores.clientProperties("SASL_SSL") + saslPlain(KafkaBroker.SASL_PASSWORD));

        try (LogCapture logs = LogCapture.start();
             LiveStack stack = LiveStack.start(broker, broker.saslTlsBootstrapServers(),
                     Map.of("KAFKA_CLIENT_PROPERTIES", file.toString()))) {

            changeIsAppliedAndWritten(stack, 77, "2");
            assertThat(logs.text()).contains("over SASL_SSL", "sasl.mechanism=PLAIN", "sasl.jaas.config=(hidden)")
                    .doesNotContain(KafkaBroker.SASL_PASSWORD).doesNotContain(stores.password());
        }
    }

    @Test
    void withoutThePropertiesFileAClientCannotUseTheTlsPort() throws Exception {
        // Given an events topic a sink would be assigned partitions of
        String name = "plain" + UUID.randomUUID().toString().substring(0, 8);
        String topic = name + "-balance-events";
        broker.createTopics(2, topic);
        double failedBefore = failedTlsHandshakes();
        Map<String, String> env = Map.of("KAFKA_BOOTSTRAP_SERVERS", broker.tlsBootstrapServers(),
                "MYSQL_URL", MYSQL_SERVER + name, "SINK_MYSQL_GROUP_ID", name, "BALANCE_EVENTS_TOPIC", topic,
                "BALANCE_DLQ_TOPIC", name + "-balance-dlq");

        // When the MySQL sink starts with the TLS listener's address but no KAFKA_CLIENT_PROPERTIES
        MysqlSink sink = new MysqlSink(MysqlSinkConfig.fromEnv(env),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        try {
            sink.start();

            // Then the broker refuses its connections: the TLS handshake fails
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> failedTlsHandshakes() > failedBefore);
            // And the broker never heard of the sink's consumer group
            try (Admin admin = broker.admin()) {
                assertThatThrownBy(() -> admin.describeConsumerGroups(List.of(name)).all().get(30, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(GroupIdNotFoundException.class);
            }
        } finally {
            sink.close();
            dropDatabase(name);
        }
    }

    @Test
    void aWrongSaslPasswordStopsTheNodesStartWithTheBrokersAnswer() throws Exception {
        Path file = write("wrong.properties", stores.clientProperties("SASL_SSL") + saslPlain("not-the-password"));
        String name = "wrong" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", broker.saslTlsBootstrapServers());
        env.put("KAFKA_CLIENT_PROPERTIES", file.toString());
        env.put("HTTP_PORT", Integer.toString(LiveStack.freePort()));
        env.put("DEV_MODE", "true");
        env.put("APPLICATION_ID", name);
        env.put("TOPIC_PREFIX", name + "-");
        env.put("STATE_DIR", dir.resolve(name).toString());
        BalanceNode node = new BalanceNode(NodeConfig.fromEnv(env),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));

        long started = System.nanoTime();
        assertThatThrownBy(node::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("could not create topics on " + broker.saslTlsBootstrapServers())
                .hasMessageContaining("Authentication failed");
        // The broker's answer, not the 60 s admin timeout
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
    }

    /** The change is APPLIED over HTTP, then MySQL's balances row and Redis's field hold it. */
    private static void changeIsAppliedAndWritten(LiveStack stack, long account, String amount) throws SQLException {
        LiveStack.Answer answer = stack.post("/api/v1/balance/change",
                change("tls-" + account, account, "BTC", "DEPOSIT", amount));
        assertThat(answer.status()).as(answer.text()).isEqualTo(200);
        assertThat(answer.json().path("status").asText()).isEqualTo("APPLIED");

        String expected = new BigDecimal(amount).setScale(8).toPlainString();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(mysqlAvailable(stack.database(), account))
                    .hasValueSatisfying(available -> assertThat(available).isEqualByComparingTo(amount));
            try (Jedis redis = new Jedis("127.0.0.1", 6379)) {
                assertThat(redis.hget(stack.database() + ":balance:" + account, "BTC"))
                        .startsWith("1|" + expected + "|");
            }
        });
    }

    private static Optional<BigDecimal> mysqlAvailable(String database, long account) throws SQLException {
        try (Connection connection = DriverManager.getConnection(MYSQL_SERVER + database, "root", "");
             PreparedStatement query = connection.prepareStatement(
                     "SELECT available FROM balances WHERE account_id = ? AND currency_code = 'BTC'")) {
            query.setLong(1, account);
            try (ResultSet rows = query.executeQuery()) {
                return rows.next() ? Optional.of(rows.getBigDecimal(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            // The sink creates the database and its tables when it starts: not there yet.
            return Optional.empty();
        }
    }

    /** Connections the broker's SSL listener dropped because the TLS handshake failed (its own metric). */
    private static double failedTlsHandshakes() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> names = server.queryNames(
                new ObjectName("kafka.server:type=socket-server-metrics,listener=SSL,*"), null);
        double sum = 0;
        boolean found = false;
        for (ObjectName name : names) {
            // Per-processor beans carry the counter; per-client-software beans of the listener do not.
            if (Arrays.stream(server.getMBeanInfo(name).getAttributes())
                    .anyMatch(attribute -> attribute.getName().equals(FAILED_AUTHENTICATIONS))) {
                sum += ((Number) server.getAttribute(name, FAILED_AUTHENTICATIONS)).doubleValue();
                found = true;
            }
        }
        assertThat(found).as("the broker's SSL listener publishes " + FAILED_AUTHENTICATIONS + " in " + names).isTrue();
        return sum;
    }

    private static String saslPlain(String password) {
        return "sasl.mechanism=PLAIN\n"
                + "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                + KafkaBroker.SASL_USER + "\" password=\"" + password + "\";\n";
    }

    private static Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static void dropDatabase(String database) throws SQLException {
        try (Connection connection = DriverManager.getConnection(MYSQL_SERVER, "root", "");
             Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS `" + database + "`");
        }
    }
}
