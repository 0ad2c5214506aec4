package dev.balance.sink.mysql;

import static org.awaitility.Awaitility.await;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.testkit.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;

/** Producing events, reading the dead-letter topic and waiting for a sink's commits, against a real broker. */
final class SinkTestSupport {

    static final Duration WRITE_WAIT = Duration.ofSeconds(90);

    private SinkTestSupport() {
    }

    /** A topic pair and a group no other test uses. */
    record Names(String events, String dlq, String group) {
        static Names random() {
            String suffix = UUID.randomUUID().toString().substring(0, 8);
            return new Names("events-" + suffix, "dlq-" + suffix, "sink-" + suffix);
        }
    }

    /** Sink settings for a test: small batches and short backoffs so faults show within seconds. */
    static MysqlSinkConfig config(KafkaBroker broker, String mysqlUrl, Names names, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
        env.put("MYSQL_URL", mysqlUrl);
        env.put("MYSQL_USER", TestDatabase.USER);
        env.put("MYSQL_PASSWORD", TestDatabase.PASSWORD);
        env.put("BALANCE_EVENTS_TOPIC", names.events());
        env.put("BALANCE_DLQ_TOPIC", names.dlq());
        env.put("SINK_MYSQL_GROUP_ID", names.group());
        env.put("SINK_MYSQL_BATCH_SIZE_MAX", "200");
        env.put("SINK_MYSQL_FLUSH_INTERVAL_MS", "50");
        env.put("SINK_MYSQL_RETRY_BACKOFF_MIN_MS", "50");
        env.put("SINK_MYSQL_RETRY_BACKOFF_MAX_MS", "500");
        env.put("SINK_MYSQL_CONNECT_TIMEOUT_MS", "2000");
        env.put("SINK_MYSQL_SOCKET_TIMEOUT_MS", "10000");
        env.put("SINK_MYSQL_DLQ_DELIVERY_TIMEOUT_MS", "10000");
        env.putAll(overrides);
        return MysqlSinkConfig.fromEnv(env);
    }

    static KafkaProducer<Long, byte[]> producer(KafkaBroker broker, String transactionalId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // One request in flight: the retry that wedged a test producer in OUT_OF_ORDER_SEQUENCE_NUMBER
        // came from several in flight while a fresh partition found its leader.
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        if (transactionalId != null) {
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        }
        return new KafkaProducer<>(props, new LongSerializer(), new ByteArraySerializer());
    }

    /** Produces the events keyed by account id, as the topology does, and waits for every acknowledgement. */
    static void produce(KafkaBroker broker, String topic, List<BalanceEvent> events) {
        try (KafkaProducer<Long, byte[]> producer = producer(broker, null)) {
            for (BalanceEvent event : events) {
                producer.send(new ProducerRecord<>(topic, event.accountId(), Codecs.encodeEvent(event)));
            }
            producer.flush();
        }
    }

    /** Produces raw bytes under an account key and waits for the acknowledgement. */
    static void produceRaw(KafkaBroker broker, String topic, long key, byte[] value) {
        try (KafkaProducer<Long, byte[]> producer = producer(broker, null)) {
            get(producer.send(new ProducerRecord<>(topic, key, value)));
        }
    }

    /** Produces the events inside a transaction that is then aborted: read_committed readers never see them. */
    static void produceAborted(KafkaBroker broker, String topic, List<BalanceEvent> events) {
        try (KafkaProducer<Long, byte[]> producer = producer(broker, "aborted-" + UUID.randomUUID())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (BalanceEvent event : events) {
                producer.send(new ProducerRecord<>(topic, event.accountId(), Codecs.encodeEvent(event)));
            }
            producer.flush();
            producer.abortTransaction();
        }
    }

    /** Waits until the group's committed offsets reach the end of every partition of the topic. */
    static void awaitCommittedToEnd(KafkaBroker broker, String group, String topic) {
        await().atMost(WRITE_WAIT).pollInterval(Duration.ofMillis(200))
                .until(() -> committedToEnd(broker, group, topic));
    }

    static boolean committedToEnd(KafkaBroker broker, String group, String topic) {
        Map<TopicPartition, Long> ends = endOffsets(broker, topic);
        Map<TopicPartition, Long> committed = committed(broker, group);
        return ends.entrySet().stream()
                .allMatch(end -> end.getValue() == 0 || end.getValue().equals(committed.get(end.getKey())));
    }

    static Map<TopicPartition, Long> committed(KafkaBroker broker, String group) {
        try (Admin admin = broker.admin()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, Long> result = new HashMap<>();
            offsets.forEach((partition, offset) -> {
                if (offset != null) {
                    result.put(partition, offset.offset());
                }
            });
            return result;
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not read committed offsets of " + group, e);
        }
    }

    static Map<TopicPartition, Long> endOffsets(KafkaBroker broker, String topic) {
        try (Admin admin = broker.admin()) {
            int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().size();
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                request.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            Map<TopicPartition, ListOffsetsResultInfo> ends = admin.listOffsets(request).all().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, Long> result = new HashMap<>();
            ends.forEach((partition, info) -> result.put(partition, info.offset()));
            return result;
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not read end offsets of " + topic, e);
        }
    }

    /** Reads the topic from the start until {@code count} records arrived or the wait ends. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(KafkaBroker broker, String topic, int count) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + WRITE_WAIT.toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private static <T> T get(java.util.concurrent.Future<T> future) {
        try {
            return future.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("send failed", e);
        }
    }
}
