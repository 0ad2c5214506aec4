package dev.balance.sink.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Redis going away under a running sink: connections cut while Redis keeps its data (a proxy in
 * between), and a private Redis killed and restarted empty, repaired by the rebuild.
 */
class RedisOutageIT {

    private static final Duration DONE_WITHIN = Duration.ofSeconds(120);
    private static KafkaBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = KafkaBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @Test
    void shouldLoseNothingAndCommitNothingUnwrittenWhileConnectionsToRedisAreCut() {
        try (RedisSnapshots redis = new RedisSnapshots("127.0.0.1", 6379);
             TcpProxy proxy = new TcpProxy(6379)) {
            try {
                // Given a sink writing to the shared Redis through a proxy, caught up with a first stream
                EventTopic topic = new EventTopic(broker, 3);
                EventStream stream = new EventStream(41, 20_000, 60);
                topic.produce(stream.next(1_000));
                String group = "sink-" + UUID.randomUUID();
                MeterRegistry registry = SinkFixture.registry();
                RedisSinkConfig config = SinkFixture.config(broker, proxy.url(), redis.keyPrefix, topic.name, group);
                try (RedisSink sink = new RedisSink(config, registry)) {
                    sink.start();
                    await().atMost(DONE_WITHIN).until(() -> topic.committedToEnd(group));

                    // When the connections are cut while more events arrive
                    proxy.cut();
                    topic.produce(stream.next(3_000));
                    await().atMost(DONE_WITHIN).until(() -> SinkFixture.count(registry, "retries") >= 1);
                    Map<TopicPartition, Long> committedDuringOutage = topic.committedOffsets(group);
                    double retries = SinkFixture.count(registry, "retries");
                    await().atMost(DONE_WITHIN).until(() -> SinkFixture.count(registry, "retries") >= retries + 2);

                    // Then nothing past the unwritten batch is committed while Redis is unreachable
                    assertThat(topic.committedOffsets(group)).isEqualTo(committedDuringOutage);
                    assertThat(topic.committedToEnd(group)).isFalse();

                    // And when the connections come back in the middle of a further stream, cut again mid-way
                    proxy.restore();
                    topic.produce(stream.next(20_000));
                    double writtenBefore = SinkFixture.count(registry, "keys.written");
                    await().atMost(DONE_WITHIN)
                            .until(() -> SinkFixture.count(registry, "keys.written") > writtenBefore + 500);
                    double retriesBeforeSecondCut = SinkFixture.count(registry, "retries");
                    proxy.cut();
                    await().atMost(DONE_WITHIN)
                            .until(() -> SinkFixture.count(registry, "retries") > retriesBeforeSecondCut);
                    proxy.restore();
                    await().atMost(DONE_WITHIN).until(() -> topic.committedToEnd(group));
                }

                // Then the snapshot is exactly the last applied balances: nothing was lost
                assertThat(redis.read()).isEqualTo(stream.expectedSnapshot(redis.keyPrefix));
            } finally {
                redis.deleteAll();
            }
        }
    }

    @Test
    void shouldRebuildEverythingAfterRedisRestartsWithoutItsData() {
        assumeTrue(PrivateRedisServer.installed(), "redis-server is not installed");
        try (PrivateRedisServer server = PrivateRedisServer.start();
             RedisSnapshots redis = new RedisSnapshots("127.0.0.1", server.port())) {
            // Given a sink writing to a private Redis, caught up with a first stream
            EventTopic topic = new EventTopic(broker, 3);
            EventStream stream = new EventStream(43, 30_000, 80);
            topic.produce(stream.next(2_000));
            String group = "sink-" + UUID.randomUUID();
            MeterRegistry registry = SinkFixture.registry();
            RedisSinkConfig config = SinkFixture.config(broker, server.url(), redis.keyPrefix, topic.name, group);
            List<BalanceEvent> afterRestart;
            try (RedisSink sink = new RedisSink(config, registry)) {
                sink.start();
                await().atMost(DONE_WITHIN).until(() -> topic.committedToEnd(group));

                // When Redis dies, events keep coming, and Redis comes back empty (without its scripts too)
                server.kill();
                afterRestart = stream.next(300);
                topic.produce(afterRestart);
                await().atMost(DONE_WITHIN).until(() -> SinkFixture.count(registry, "retries") >= 1);
                server.startAgain();
                await().atMost(DONE_WITHIN).until(() -> topic.committedToEnd(group));
            }
            Map<String, Map<String, String>> expected = stream.expectedSnapshot(redis.keyPrefix);

            // Then the sink wrote what came after the restart, but what Redis lost is still missing
            assertThat(redis.read()).isEqualTo(restrictTo(expected, afterRestart, redis.keyPrefix));
            assertThat(redis.read()).isNotEqualTo(expected);

            // And when the rebuild replays the topic, the snapshot is exact again
            RedisRebuild.Summary summary = new RedisRebuild(config).run();
            assertThat(redis.read()).isEqualTo(expected);
            assertThat(summary.eventsRead()).isEqualTo(2_300);
        }
    }

    /** The expected snapshot reduced to the account and currency fields these events moved. */
    private static Map<String, Map<String, String>> restrictTo(Map<String, Map<String, String>> expected,
                                                               List<BalanceEvent> events, String keyPrefix) {
        Map<String, Map<String, String>> restricted = new HashMap<>();
        for (BalanceEvent event : events) {
            if (event.movedBalance()) {
                String key = SnapshotValue.key(keyPrefix, event.accountId());
                restricted.computeIfAbsent(key, k -> new HashMap<>())
                        .put(event.currency(), expected.get(key).get(event.currency()));
            }
        }
        return restricted;
    }
}
