package dev.balance.sink.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sink against a real broker and the shared Redis on 127.0.0.1:6379, each test under its own key prefix. */
class RedisSinkIT {

    private static final String REDIS_URL = "redis://127.0.0.1:6379";
    private static final Duration DONE_WITHIN = Duration.ofSeconds(90);
    private static KafkaBroker broker;

    private RedisSnapshots redis;

    @BeforeAll
    static void startBroker() {
        broker = KafkaBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @BeforeEach
    void connectRedis() {
        redis = new RedisSnapshots("127.0.0.1", 6379);
    }

    @AfterEach
    void cleanRedis() {
        redis.deleteAll();
        redis.close();
    }

    @Test
    void shouldHoldExactlyTheLastAppliedBalancesAfterAKnownEventStream() {
        // Given a stream of applied, rejected, replayed, conflicting and invalid events, with an
        // aborted transaction of would-be newer balances in the middle and a committed one after it
        EventTopic topic = new EventTopic(broker, 3);
        EventStream stream = new EventStream(11, 1_000, 40);
        topic.produce(stream.next(1_500));
        topic.produceAborted(List.of(stream.phantomApplied(1_000, "BTC"), stream.phantomApplied(1_001, "ETH")));
        topic.produceCommitted(stream.next(300));
        topic.produce(stream.next(1_500));
        String group = "sink-" + UUID.randomUUID();
        MeterRegistry registry = SinkFixture.registry();

        // When the sink consumes all of it
        try (RedisSink sink = new RedisSink(config(topic, group), registry)) {
            sink.start();
            await().atMost(DONE_WITHIN).until(() -> topic.committedToEnd(group));
        }

        // Then Redis holds exactly the last applied balance of every account and currency, and nothing else
        assertThat(redis.read()).isEqualTo(stream.expectedSnapshot(redis.keyPrefix));
        assertThat(SinkFixture.count(registry, "events.skipped")).isPositive();
        assertThat(SinkFixture.count(registry, "batches")).isGreaterThan(1);
        assertThat(SinkFixture.count(registry, "keys.written")).isPositive();
    }

    @Test
    void shouldNeverMoveABalanceBackWhenEventsAreRedeliveredOrArriveOutOfOrder() {
        // Given a stream the sink has written completely
        EventTopic topic = new EventTopic(broker, 3);
        EventStream stream = new EventStream(23, 5_000, 30);
        topic.produce(stream.next(2_000));
        String firstGroup = "sink-" + UUID.randomUUID();
        try (RedisSink sink = new RedisSink(config(topic, firstGroup), SinkFixture.registry())) {
            sink.start();
            await().atMost(DONE_WITHIN).until(() -> topic.committedToEnd(firstGroup));
        }
        Map<String, Map<String, String>> expected = stream.expectedSnapshot(redis.keyPrefix);
        assertThat(redis.read()).isEqualTo(expected);

        // When older applied events arrive after the newer ones, shuffled
        List<BalanceEvent> late = new ArrayList<>(stream.appliedHistory());
        Collections.shuffle(late, new Random(5));
        topic.produce(late.subList(0, 500));
        // and a second sink in a new group reads the whole topic again from the start
        String secondGroup = "sink-" + UUID.randomUUID();
        MeterRegistry registry = SinkFixture.registry();
        try (RedisSink sink = new RedisSink(config(topic, secondGroup), registry)) {
            sink.start();
            await().atMost(DONE_WITHIN).until(() -> topic.committedToEnd(secondGroup));
        }

        // Then every balance still holds its newest version, and the guard refused the older writes
        assertThat(redis.read()).isEqualTo(expected);
        assertThat(SinkFixture.count(registry, "stale.writes.skipped")).isPositive();
        assertThat(SinkFixture.count(registry, "keys.written")).isZero();
    }

    @Test
    void shouldRebuildTheExactSnapshotFromTheTopicAfterRedisLostItsKeys() {
        // Given a stream the sink has written, after which Redis lost every key
        EventTopic topic = new EventTopic(broker, 3);
        EventStream stream = new EventStream(37, 9_000, 50);
        topic.produce(stream.next(1_000));
        topic.produceCommitted(stream.next(500));
        topic.produce(stream.next(1_000));
        String group = "sink-" + UUID.randomUUID();
        try (RedisSink sink = new RedisSink(config(topic, group), SinkFixture.registry())) {
            sink.start();
            await().atMost(DONE_WITHIN).until(() -> topic.committedToEnd(group));
        }
        Map<String, Map<String, String>> expected = stream.expectedSnapshot(redis.keyPrefix);
        redis.deleteAll();
        assertThat(redis.read()).isEmpty();

        // When the rebuild replays the topic
        RedisRebuild.Summary summary = new RedisRebuild(config(topic, group)).run();

        // Then the snapshot is exactly the one the sink had written
        assertThat(redis.read()).isEqualTo(expected);
        assertThat(summary.eventsRead()).isEqualTo(2_500);
        assertThat(summary.retries()).isZero();
    }

    private RedisSinkConfig config(EventTopic topic, String group) {
        return SinkFixture.config(broker, REDIS_URL, redis.keyPrefix, topic.name, group);
    }
}
