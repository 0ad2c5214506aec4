package dev.balance.sink.redis;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.LongDeserializer;

/** Consumers of the events topic with every option the sink depends on set explicitly. */
final class EventConsumers {

    /** Longest gap between polls: one pipeline plus one commit stay far below it. */
    private static final int POLL_INTERVAL_MAX_MS = 300_000;

    private EventConsumers() {
    }

    /** A member of the sink's consumer group; offsets are committed by hand after each written batch. */
    static KafkaConsumer<Long, byte[]> forGroup(RedisSinkConfig config) {
        Map<String, Object> props = common(config);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, config.groupId());
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        // Cooperative rebalancing revokes only the partitions that move, so a rebalance does not
        // throw away the pending batch of partitions this member keeps.
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, POLL_INTERVAL_MAX_MS);
        return new KafkaConsumer<>(config.kafkaClientProperties().addTo(props));
    }

    /** A consumer outside any group, for the rebuild: it assigns partitions itself and commits nothing. */
    static KafkaConsumer<Long, byte[]> standalone(RedisSinkConfig config) {
        Map<String, Object> props = common(config);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, config.groupId() + "-rebuild");
        return new KafkaConsumer<>(config.kafkaClientProperties().addTo(props));
    }

    private static Map<String, Object> common(RedisSinkConfig config) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrapServers());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, LongDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        // Events of an aborted topology transaction never happened and must not reach Redis.
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.batchSizeMax());
        return props;
    }
}
