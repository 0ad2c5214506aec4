package dev.balance.sink.redis;

import dev.balance.topology.KafkaClientProperties;
import java.net.URI;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration of the Redis sink and of the rebuild, read once from the environment.
 *
 * <table>
 *   <caption>Environment variables and defaults</caption>
 *   <tr><th>variable</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>KAFKA_BOOTSTRAP_SERVERS</td><td>127.0.0.1:9092</td><td>Kafka brokers</td></tr>
 *   <tr><td>KAFKA_CLIENT_PROPERTIES</td><td>none</td><td>properties file of TLS/SASL client settings</td></tr>
 *   <tr><td>REDIS_URL</td><td>redis://127.0.0.1:6379</td><td>Redis server (rediss:// for TLS, /N for a database)</td></tr>
 *   <tr><td>REDIS_PASSWORD</td><td>none</td><td>used when the URL carries no password</td></tr>
 *   <tr><td>REDIS_KEY_PREFIX</td><td>empty</td><td>put before every key, e.g. {@code prod:}</td></tr>
 *   <tr><td>REDIS_TIMEOUT_MS</td><td>2000</td><td>connect and socket timeout of Redis calls</td></tr>
 *   <tr><td>BALANCE_EVENTS_TOPIC</td><td>balance-events</td><td>topic of outcome events</td></tr>
 *   <tr><td>SINK_REDIS_GROUP_ID</td><td>balance-sink-redis</td><td>consumer group of the sink</td></tr>
 *   <tr><td>SINK_REDIS_BATCH_SIZE_MAX</td><td>2000</td><td>most events written in one pipeline</td></tr>
 *   <tr><td>SINK_REDIS_FLUSH_INTERVAL_MS</td><td>50</td><td>longest a batch is collected before it is written</td></tr>
 *   <tr><td>SINK_REDIS_RETRY_BACKOFF_MIN_MS</td><td>100</td><td>first wait after a failed write</td></tr>
 *   <tr><td>SINK_REDIS_RETRY_BACKOFF_MAX_MS</td><td>5000</td><td>longest wait between retries of one batch</td></tr>
 *   <tr><td>SINK_REDIS_COMMIT_TIMEOUT_MS</td><td>30000</td><td>longest wait for an offset commit</td></tr>
 *   <tr><td>SINK_REDIS_CLOSE_TIMEOUT_MS</td><td>30000</td><td>longest wait for the sink thread on close</td></tr>
 * </table>
 */
public record RedisSinkConfig(
        String kafkaBootstrapServers,
        KafkaClientProperties kafkaClientProperties,
        URI redisUrl,
        String redisPassword,
        String keyPrefix,
        int redisTimeoutMs,
        String eventsTopic,
        String groupId,
        int batchSizeMax,
        long flushIntervalMs,
        long retryBackoffMinMs,
        long retryBackoffMaxMs,
        long commitTimeoutMs,
        long closeTimeoutMs) {

    /** A single pipeline this long already keeps Redis busy for milliseconds; more only adds latency. */
    public static final int BATCH_SIZE_LIMIT = 100_000;

    public RedisSinkConfig {
        Objects.requireNonNull(kafkaBootstrapServers, "kafkaBootstrapServers");
        Objects.requireNonNull(kafkaClientProperties, "kafkaClientProperties");
        Objects.requireNonNull(redisUrl, "redisUrl");
        Objects.requireNonNull(keyPrefix, "keyPrefix");
        Objects.requireNonNull(eventsTopic, "eventsTopic");
        Objects.requireNonNull(groupId, "groupId");
        String scheme = redisUrl.getScheme();
        require("redis".equals(scheme) || "rediss".equals(scheme), "REDIS_URL must start with redis:// or rediss://");
        require(redisUrl.getHost() != null, "REDIS_URL must name a host");
        require(!kafkaBootstrapServers.isBlank(), "KAFKA_BOOTSTRAP_SERVERS must not be blank");
        require(!eventsTopic.isBlank(), "BALANCE_EVENTS_TOPIC must not be blank");
        require(!groupId.isBlank(), "SINK_REDIS_GROUP_ID must not be blank");
        require(redisTimeoutMs > 0, "REDIS_TIMEOUT_MS must be positive");
        require(batchSizeMax > 0 && batchSizeMax <= BATCH_SIZE_LIMIT,
                "SINK_REDIS_BATCH_SIZE_MAX must be 1.." + BATCH_SIZE_LIMIT);
        require(flushIntervalMs > 0, "SINK_REDIS_FLUSH_INTERVAL_MS must be positive");
        require(retryBackoffMinMs > 0, "SINK_REDIS_RETRY_BACKOFF_MIN_MS must be positive");
        require(retryBackoffMaxMs >= retryBackoffMinMs,
                "SINK_REDIS_RETRY_BACKOFF_MAX_MS must be at least SINK_REDIS_RETRY_BACKOFF_MIN_MS");
        require(commitTimeoutMs > 0, "SINK_REDIS_COMMIT_TIMEOUT_MS must be positive");
        require(closeTimeoutMs > 0, "SINK_REDIS_CLOSE_TIMEOUT_MS must be positive");
    }

    /** Reads the variables of the table above; a missing or blank variable takes its default. */
    public static RedisSinkConfig fromEnv(Map<String, String> env) {
        String password = text(env, "REDIS_PASSWORD", "");
        return new RedisSinkConfig(
                text(env, "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                KafkaClientProperties.fromEnv(env),
                uri(text(env, "REDIS_URL", "redis://127.0.0.1:6379")),
                password.isEmpty() ? null : password,
                env.getOrDefault("REDIS_KEY_PREFIX", ""),
                Math.toIntExact(number(env, "REDIS_TIMEOUT_MS", 2_000)),
                text(env, "BALANCE_EVENTS_TOPIC", "balance-events"),
                text(env, "SINK_REDIS_GROUP_ID", "balance-sink-redis"),
                Math.toIntExact(number(env, "SINK_REDIS_BATCH_SIZE_MAX", 2_000)),
                number(env, "SINK_REDIS_FLUSH_INTERVAL_MS", 50),
                number(env, "SINK_REDIS_RETRY_BACKOFF_MIN_MS", 100),
                number(env, "SINK_REDIS_RETRY_BACKOFF_MAX_MS", 5_000),
                number(env, "SINK_REDIS_COMMIT_TIMEOUT_MS", 30_000),
                number(env, "SINK_REDIS_CLOSE_TIMEOUT_MS", 30_000));
    }

    /** A copy reading the given topic into the given group: tests give each run its own. */
    public RedisSinkConfig withTopicAndGroup(String topic, String group) {
        return new RedisSinkConfig(kafkaBootstrapServers, kafkaClientProperties, redisUrl, redisPassword, keyPrefix,
                redisTimeoutMs, topic, group, batchSizeMax, flushIntervalMs, retryBackoffMinMs, retryBackoffMaxMs,
                commitTimeoutMs, closeTimeoutMs);
    }

    /** The password must never reach a log line. */
    @Override
    public String toString() {
        return "RedisSinkConfig[kafkaBootstrapServers=" + kafkaBootstrapServers + ", kafka=" + kafkaClientProperties
                + ", redisUrl=" + redisUrl.getScheme() + "://" + redisUrl.getHost() + ":" + redisUrl.getPort()
                + ", redisPassword=" + (redisPassword == null ? "none" : "set")
                + ", keyPrefix='" + keyPrefix + "', redisTimeoutMs=" + redisTimeoutMs
                + ", eventsTopic=" + eventsTopic + ", groupId=" + groupId + ", batchSizeMax=" + batchSizeMax
                + ", flushIntervalMs=" + flushIntervalMs + ", retryBackoffMinMs=" + retryBackoffMinMs
                + ", retryBackoffMaxMs=" + retryBackoffMaxMs + ", commitTimeoutMs=" + commitTimeoutMs
                + ", closeTimeoutMs=" + closeTimeoutMs + "]";
    }

    private static String text(Map<String, String> env, String name, String fallback) {
        String value = env.get(name);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    private static long number(Map<String, String> env, String name, long fallback) {
        String value = text(env, name, "");
        if (value.isEmpty()) {
            return fallback;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + value + "'", e);
        }
    }

    private static URI uri(String value) {
        try {
            return URI.create(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("REDIS_URL is not a valid URI: '" + value + "'", e);
        }
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
