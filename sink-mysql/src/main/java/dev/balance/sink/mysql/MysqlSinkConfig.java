package dev.balance.sink.mysql;

import dev.balance.topology.KafkaClientProperties;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Everything the MySQL sink needs, read once at start. Every limit has a name and a unit.
 *
 * <table>
 *   <caption>Environment variables and defaults</caption>
 *   <tr><th>variable</th><th>default</th></tr>
 *   <tr><td>KAFKA_BOOTSTRAP_SERVERS</td><td>127.0.0.1:9092</td></tr>
 *   <tr><td>KAFKA_CLIENT_PROPERTIES</td><td>(none)</td></tr>
 *   <tr><td>MYSQL_URL</td><td>jdbc:mysql://127.0.0.1:3306/balance_system</td></tr>
 *   <tr><td>MYSQL_USER</td><td>root</td></tr>
 *   <tr><td>MYSQL_PASSWORD</td><td>(empty)</td></tr>
 *   <tr><td>BALANCE_EVENTS_TOPIC</td><td>balance-events</td></tr>
 *   <tr><td>BALANCE_DLQ_TOPIC</td><td>balance-dlq</td></tr>
 *   <tr><td>SINK_MYSQL_GROUP_ID</td><td>balance-sink-mysql</td></tr>
 *   <tr><td>SINK_MYSQL_BATCH_SIZE_MAX</td><td>5000</td></tr>
 *   <tr><td>SINK_MYSQL_FLUSH_INTERVAL_MS</td><td>200</td></tr>
 *   <tr><td>SINK_MYSQL_RETRY_BACKOFF_MIN_MS</td><td>100</td></tr>
 *   <tr><td>SINK_MYSQL_RETRY_BACKOFF_MAX_MS</td><td>10000</td></tr>
 *   <tr><td>SINK_MYSQL_POOL_SIZE</td><td>2</td></tr>
 *   <tr><td>SINK_MYSQL_CONNECT_TIMEOUT_MS</td><td>5000</td></tr>
 *   <tr><td>SINK_MYSQL_SOCKET_TIMEOUT_MS</td><td>30000</td></tr>
 *   <tr><td>SINK_MYSQL_DLQ_DELIVERY_TIMEOUT_MS</td><td>30000</td></tr>
 * </table>
 *
 * @param bootstrapServers   Kafka brokers
 * @param kafkaClientProperties TLS/SASL settings of the consumer and the dead-letter producer
 * @param mysqlUrl           JDBC URL naming the database; the sink creates the database if missing
 * @param eventsTopic        topic of outcome events, read {@code read_committed}
 * @param dlqTopic           where events that can never be written go, with error headers
 * @param groupId            consumer group; its committed offsets mark what is durable in MySQL
 * @param batchSizeMax       most events written in one database transaction
 * @param flushIntervalMs    longest time the first event of a batch waits for more to join it
 * @param retryBackoffMinMs  first wait after a failed write; doubles per failure
 * @param retryBackoffMaxMs  longest wait between retries of a failed write
 * @param poolSize           JDBC connections in the pool; one writes, the rest cover a reconnect
 * @param connectTimeoutMs   longest wait for a database connection before the write counts as failed
 * @param socketTimeoutMs    longest wait for a database answer; a silent network fails the write instead of hanging it
 * @param dlqDeliveryTimeoutMs longest wait for the dead-letter topic to acknowledge a record
 */
public record MysqlSinkConfig(
        String bootstrapServers,
        KafkaClientProperties kafkaClientProperties,
        String mysqlUrl,
        String mysqlUser,
        String mysqlPassword,
        String eventsTopic,
        String dlqTopic,
        String groupId,
        int batchSizeMax,
        long flushIntervalMs,
        long retryBackoffMinMs,
        long retryBackoffMaxMs,
        int poolSize,
        long connectTimeoutMs,
        long socketTimeoutMs,
        long dlqDeliveryTimeoutMs) {

    public static final int BATCH_SIZE_LIMIT = 100_000;
    public static final int POOL_SIZE_LIMIT = 32;

    /** jdbc:mysql://host[:port][,host...]/database[?params]; the database name is mandatory. */
    private static final Pattern URL = Pattern.compile("(jdbc:mysql://[^/]+)/([A-Za-z0-9_$]{1,64})(\\?.*)?");

    public MysqlSinkConfig {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(kafkaClientProperties, "kafkaClientProperties");
        Objects.requireNonNull(mysqlUrl, "mysqlUrl");
        Objects.requireNonNull(mysqlUser, "mysqlUser");
        Objects.requireNonNull(mysqlPassword, "mysqlPassword");
        Objects.requireNonNull(eventsTopic, "eventsTopic");
        Objects.requireNonNull(dlqTopic, "dlqTopic");
        Objects.requireNonNull(groupId, "groupId");
        if (!URL.matcher(mysqlUrl).matches()) {
            throw new IllegalArgumentException("MYSQL_URL must look like jdbc:mysql://host:port/database, got '"
                    + mysqlUrl + "'");
        }
        requireRange("SINK_MYSQL_BATCH_SIZE_MAX", batchSizeMax, 1, BATCH_SIZE_LIMIT);
        requireRange("SINK_MYSQL_FLUSH_INTERVAL_MS", flushIntervalMs, 1, 60_000);
        requireRange("SINK_MYSQL_RETRY_BACKOFF_MIN_MS", retryBackoffMinMs, 1, 60_000);
        requireRange("SINK_MYSQL_RETRY_BACKOFF_MAX_MS", retryBackoffMaxMs, retryBackoffMinMs, 600_000);
        requireRange("SINK_MYSQL_POOL_SIZE", poolSize, 1, POOL_SIZE_LIMIT);
        requireRange("SINK_MYSQL_CONNECT_TIMEOUT_MS", connectTimeoutMs, 250, 600_000);
        requireRange("SINK_MYSQL_SOCKET_TIMEOUT_MS", socketTimeoutMs, 1000, 600_000);
        requireRange("SINK_MYSQL_DLQ_DELIVERY_TIMEOUT_MS", dlqDeliveryTimeoutMs, 1000, 600_000);
    }

    /** Reads the configuration from environment variables; see the class comment for defaults. */
    public static MysqlSinkConfig fromEnv(Map<String, String> env) {
        return new MysqlSinkConfig(
                text(env, "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                KafkaClientProperties.fromEnv(env),
                text(env, "MYSQL_URL", "jdbc:mysql://127.0.0.1:3306/balance_system"),
                text(env, "MYSQL_USER", "root"),
                env.getOrDefault("MYSQL_PASSWORD", ""),
                text(env, "BALANCE_EVENTS_TOPIC", "balance-events"),
                text(env, "BALANCE_DLQ_TOPIC", "balance-dlq"),
                text(env, "SINK_MYSQL_GROUP_ID", "balance-sink-mysql"),
                intNumber(env, "SINK_MYSQL_BATCH_SIZE_MAX", 5000),
                number(env, "SINK_MYSQL_FLUSH_INTERVAL_MS", 200),
                number(env, "SINK_MYSQL_RETRY_BACKOFF_MIN_MS", 100),
                number(env, "SINK_MYSQL_RETRY_BACKOFF_MAX_MS", 10_000),
                intNumber(env, "SINK_MYSQL_POOL_SIZE", 2),
                number(env, "SINK_MYSQL_CONNECT_TIMEOUT_MS", 5000),
                number(env, "SINK_MYSQL_SOCKET_TIMEOUT_MS", 30_000),
                number(env, "SINK_MYSQL_DLQ_DELIVERY_TIMEOUT_MS", 30_000));
    }

    /** The database named in the URL. */
    public String databaseName() {
        return urlPart(2);
    }

    /** The URL of the server without a database, used to create the database before the pool opens. */
    public String serverUrl() {
        String params = urlPart(3);
        return urlPart(1) + "/" + (params == null ? "" : params);
    }

    @Override
    public String toString() {
        // The password never reaches a log line, nor the Kafka client secrets (hidden by their toString).
        return "MysqlSinkConfig[bootstrapServers=" + bootstrapServers + ", kafka=" + kafkaClientProperties
                + ", mysqlUrl=" + mysqlUrl + ", mysqlUser=" + mysqlUser + ", eventsTopic=" + eventsTopic + ", dlqTopic=" + dlqTopic + ", groupId=" + groupId
                + ", batchSizeMax=" + batchSizeMax + ", flushIntervalMs=" + flushIntervalMs + ", retryBackoffMinMs="
                + retryBackoffMinMs + ", retryBackoffMaxMs=" + retryBackoffMaxMs + ", poolSize=" + poolSize
                + ", connectTimeoutMs=" + connectTimeoutMs + ", socketTimeoutMs=" + socketTimeoutMs
                + ", dlqDeliveryTimeoutMs=" + dlqDeliveryTimeoutMs + "]";
    }

    private String urlPart(int group) {
        Matcher matcher = URL.matcher(mysqlUrl);
        if (!matcher.matches()) {
            throw new IllegalStateException("URL checked in the constructor no longer matches: " + mysqlUrl);
        }
        return matcher.group(group);
    }

    private static String text(Map<String, String> env, String name, String fallback) {
        String value = env.get(name);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    private static long number(Map<String, String> env, String name, long fallback) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + value + "'", e);
        }
    }

    private static int intNumber(Map<String, String> env, String name, int fallback) {
        long value = number(env, name, fallback);
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " is out of range, got " + value);
        }
        return (int) value;
    }

    private static void requireRange(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", got " + value);
        }
    }
}
