package dev.balance.sink.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisSinkConfigTest {

    @Test
    void shouldTakeTheDocumentedDefaultsFromAnEmptyEnvironment() {
        RedisSinkConfig config = RedisSinkConfig.fromEnv(Map.of());

        assertThat(config.kafkaBootstrapServers()).isEqualTo("127.0.0.1:9092");
        assertThat(config.redisUrl()).isEqualTo(URI.create("redis://127.0.0.1:6379"));
        assertThat(config.redisPassword()).isNull();
        assertThat(config.keyPrefix()).isEmpty();
        assertThat(config.eventsTopic()).isEqualTo("balance-events");
        assertThat(config.groupId()).isEqualTo("balance-sink-redis");
        assertThat(config.batchSizeMax()).isEqualTo(2_000);
        assertThat(config.flushIntervalMs()).isEqualTo(50);
        assertThat(config.retryBackoffMinMs()).isEqualTo(100);
        assertThat(config.retryBackoffMaxMs()).isEqualTo(5_000);
    }

    @Test
    void shouldReadEveryVariable() {
        RedisSinkConfig config = RedisSinkConfig.fromEnv(Map.ofEntries(
                Map.entry("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092"),
                Map.entry("REDIS_URL", "rediss://cache.internal:6380/2"),
                Map.entry("REDIS_PASSWORD", "secret"),
                Map.entry("REDIS_KEY_PREFIX", "prod:"),
                Map.entry("REDIS_TIMEOUT_MS", "500"),
                Map.entry("BALANCE_EVENTS_TOPIC", "eu-balance-events"),
                Map.entry("SINK_REDIS_GROUP_ID", "eu-sink"),
                Map.entry("SINK_REDIS_BATCH_SIZE_MAX", "10"),
                Map.entry("SINK_REDIS_FLUSH_INTERVAL_MS", "5"),
                Map.entry("SINK_REDIS_RETRY_BACKOFF_MIN_MS", "1"),
                Map.entry("SINK_REDIS_RETRY_BACKOFF_MAX_MS", "2")));

        assertThat(config.kafkaBootstrapServers()).isEqualTo("k1:9092,k2:9092");
        assertThat(config.redisUrl().getPort()).isEqualTo(6380);
        assertThat(config.redisPassword()).isEqualTo("secret");
        assertThat(config.keyPrefix()).isEqualTo("prod:");
        assertThat(config.redisTimeoutMs()).isEqualTo(500);
        assertThat(config.eventsTopic()).isEqualTo("eu-balance-events");
        assertThat(config.groupId()).isEqualTo("eu-sink");
        assertThat(config.batchSizeMax()).isEqualTo(10);
        assertThat(config.flushIntervalMs()).isEqualTo(5);
        assertThat(config.retryBackoffMinMs()).isEqualTo(1);
        assertThat(config.retryBackoffMaxMs()).isEqualTo(2);
    }

    @Test
    void shouldRefuseLimitsOutOfRange() {
        assertThatThrownBy(() -> RedisSinkConfig.fromEnv(Map.of("SINK_REDIS_BATCH_SIZE_MAX", "0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SINK_REDIS_BATCH_SIZE_MAX");
        assertThatThrownBy(() -> RedisSinkConfig.fromEnv(Map.of("SINK_REDIS_RETRY_BACKOFF_MAX_MS", "10")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BACKOFF_MAX");
        assertThatThrownBy(() -> RedisSinkConfig.fromEnv(Map.of("REDIS_URL", "http://x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("REDIS_URL");
        assertThatThrownBy(() -> RedisSinkConfig.fromEnv(Map.of("SINK_REDIS_FLUSH_INTERVAL_MS", "soon")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number");
    }

    @Test
    void shouldKeepThePasswordOutOfItsTextForm() {
        RedisSinkConfig config = RedisSinkConfig.fromEnv(Map.of("REDIS_PASSWORD", "hunter2"));

        assertThat(config.toString()).doesNotContain("hunter2").contains("redisPassword=set");
    }
}
