package dev.balance.sink.redis;

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
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;

/** One test's events topic on the in-process broker: produce events, compare committed offsets. */
final class EventTopic {

    private final KafkaBroker broker;
    final String name;
    final int partitions;

    EventTopic(KafkaBroker broker, int partitions) {
        this.broker = broker;
        this.partitions = partitions;
        this.name = "events-" + UUID.randomUUID().toString().substring(0, 8);
        broker.createTopics(partitions, name);
        awaitLeaders();
    }

    /**
     * Producing before the broker has taken leadership of a fresh partition fails with
     * NOT_LEADER_OR_FOLLOWER, which on a loaded machine was seen to wedge an idempotent producer
     * in OUT_OF_ORDER_SEQUENCE_NUMBER retries; waiting for every leader first avoids that.
     */
    private void awaitLeaders() {
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            try (Admin admin = broker.admin()) {
                TopicDescription description = admin.describeTopics(List.of(name)).allTopicNames()
                        .get(10, TimeUnit.SECONDS).get(name);
                return description.partitions().size() == partitions
                        && description.partitions().stream().allMatch(partition -> partition.leader() != null);
            }
        });
    }

    /** Sends the events keyed by account id, as the topology does, and waits until all are acknowledged. */
    void produce(List<BalanceEvent> events) {
        try (KafkaProducer<Long, byte[]> producer = new KafkaProducer<>(producerProps(null))) {
            for (Future<RecordMetadata> sent : send(producer, events)) {
                sent.get(30, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not produce events to " + name, e);
        }
    }

    /** Sends the events in one transaction and aborts it: read_committed consumers never see them. */
    void produceAborted(List<BalanceEvent> events) {
        try (KafkaProducer<Long, byte[]> producer = new KafkaProducer<>(producerProps("aborted-" + name))) {
            producer.initTransactions();
            producer.beginTransaction();
            send(producer, events);
            producer.flush();
            producer.abortTransaction();
        }
    }

    /** Sends the events in one committed transaction, as the topology's exactly-once producer does. */
    void produceCommitted(List<BalanceEvent> events) {
        try (KafkaProducer<Long, byte[]> producer = new KafkaProducer<>(producerProps("committed-" + name))) {
            producer.initTransactions();
            producer.beginTransaction();
            send(producer, events);
            producer.commitTransaction();
        }
    }

    /** True when the group has committed, on every partition, the end offset a read_committed reader sees. */
    boolean committedToEnd(String group) {
        Map<TopicPartition, Long> committed = committedOffsets(group);
        return endOffsets().entrySet().stream()
                .allMatch(end -> committed.getOrDefault(end.getKey(), 0L) >= end.getValue());
    }

    Map<TopicPartition, Long> committedOffsets(String group) {
        try (Admin admin = broker.admin()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, Long> result = new HashMap<>();
            offsets.forEach((partition, offset) -> {
                if (offset != null && partition.topic().equals(name)) {
                    result.put(partition, offset.offset());
                }
            });
            return result;
        } catch (Exception e) {
            throw new IllegalStateException("could not read committed offsets of " + group, e);
        }
    }

    Map<TopicPartition, Long> endOffsets() {
        try (Admin admin = broker.admin()) {
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            for (int partition = 0; partition < partitions; partition++) {
                request.put(new TopicPartition(name, partition), OffsetSpec.latest());
            }
            return admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                    .get(30, TimeUnit.SECONDS).entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, entry -> entry.getValue().offset()));
        } catch (Exception e) {
            throw new IllegalStateException("could not read end offsets of " + name, e);
        }
    }

    private List<Future<RecordMetadata>> send(KafkaProducer<Long, byte[]> producer, List<BalanceEvent> events) {
        List<Future<RecordMetadata>> sent = new ArrayList<>(events.size());
        for (BalanceEvent event : events) {
            sent.add(producer.send(new ProducerRecord<>(name, event.accountId(), Codecs.encodeEvent(event))));
        }
        return sent;
    }

    private Properties producerProps(String transactionalId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, LongSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        // One batch in flight per partition: a retried batch can never be overtaken by the next one.
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        if (transactionalId != null) {
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        }
        return props;
    }
}
