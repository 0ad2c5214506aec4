package dev.balance.sink.redis;

import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.HashMap;
import java.util.Map;

/** Configurations and meters for sinks under test. */
final class SinkFixture {

    private SinkFixture() {
    }

    /** A sink configuration for this broker, Redis and topic; small batches so a test spans many. */
    static RedisSinkConfig config(KafkaBroker broker, String redisUrl, String keyPrefix, String topic, String group) {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
        env.put("REDIS_URL", redisUrl);
        env.put("REDIS_KEY_PREFIX", keyPrefix);
        env.put("REDIS_TIMEOUT_MS", "1000");
        env.put("BALANCE_EVENTS_TOPIC", topic);
        env.put("SINK_REDIS_GROUP_ID", group);
        env.put("SINK_REDIS_BATCH_SIZE_MAX", "200");
        env.put("SINK_REDIS_FLUSH_INTERVAL_MS", "20");
        env.put("SINK_REDIS_RETRY_BACKOFF_MIN_MS", "50");
        env.put("SINK_REDIS_RETRY_BACKOFF_MAX_MS", "400");
        env.put("SINK_REDIS_CLOSE_TIMEOUT_MS", "20000");
        return RedisSinkConfig.fromEnv(env);
    }

    static double count(MeterRegistry registry, String name) {
        return registry.get(SinkMetrics.PREFIX + name).counter().count();
    }

    static MeterRegistry registry() {
        return new SimpleMeterRegistry();
    }
}
