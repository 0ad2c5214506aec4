package dev.balance.bench;

import dev.balance.topology.KafkaClientProperties;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;

/** The broker operations of the benchmark: topics, offsets and groups' lag, a producer for pre-produced input. */
final class BenchKafka implements AutoCloseable {

    static final long ADMIN_TIMEOUT_MS = 60_000;
    /** A producer never blocks longer than this on metadata (a missing topic fails fast). */
    static final int PRODUCER_BLOCK_MS_MAX = 10_000;

    private final String bootstrapServers;
    private final KafkaClientProperties client;
    private final Admin admin;

    /** @param client TLS/SASL settings (KAFKA_CLIENT_PROPERTIES), as the node's clients take them */
    BenchKafka(String bootstrapServers, KafkaClientProperties client) {
        this.bootstrapServers = bootstrapServers;
        this.client = client;
        this.admin = Admin.create(client.addTo(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MS)));
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    void createTopics(List<String> names, int partitions) {
        List<NewTopic> topics = names.stream().map(name -> new NewTopic(name, partitions, (short) 1)).toList();
        get(admin.createTopics(topics).all(), "create topics " + names);
    }

    /** Deletes every topic whose name starts with the prefix (a run's own and its changelogs). */
    List<String> deleteTopicsStartingWith(String prefix) {
        List<String> doomed = new ArrayList<>();
        for (String name : get(admin.listTopics().names(), "list topics")) {
            if (name.startsWith(prefix)) {
                doomed.add(name);
            }
        }
        if (!doomed.isEmpty()) {
            get(admin.deleteTopics(doomed).all(), "delete topics " + doomed);
        }
        return doomed;
    }

    /** Per partition, the end of the log (read_uncommitted: records of open transactions included). */
    Map<TopicPartition, Long> endOffsets(String topic, int partitions) {
        return ends(topic, partitions, IsolationLevel.READ_UNCOMMITTED);
    }

    /** How many partitions the topic has. */
    int partitions(String topic) {
        return get(admin.describeTopics(List.of(topic)).allTopicNames(), "describe " + topic).get(topic).partitions()
                .size();
    }

    /**
     * Per partition, the end a {@code read_committed} consumer can reach: the last stable offset,
     * before any transaction still open. A sink's lag is measured against it, since records of an
     * open transaction are not the sink's to read yet.
     */
    Map<TopicPartition, Long> stableEndOffsets(String topic, int partitions) {
        return ends(topic, partitions, IsolationLevel.READ_COMMITTED);
    }

    private Map<TopicPartition, Long> ends(String topic, int partitions, IsolationLevel isolation) {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            request.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> answer = get(admin.listOffsets(request,
                new ListOffsetsOptions(isolation)).all(), "end offsets (" + isolation + ") of " + topic);
        Map<TopicPartition, Long> ends = new HashMap<>();
        answer.forEach((partition, info) -> ends.put(partition, info.offset()));
        return ends;
    }

    /** The offsets a consumer group has committed, by partition (partitions without one are absent). */
    Map<TopicPartition, Long> committedOffsets(String groupId) {
        Map<TopicPartition, OffsetAndMetadata> committed =
                get(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata(), "offsets of " + groupId);
        Map<TopicPartition, Long> offsets = new HashMap<>();
        committed.forEach((partition, offset) -> {
            if (offset != null) {
                offsets.put(partition, offset.offset());
            }
        });
        return offsets;
    }

    /**
     * Records of the given partitions a consumer group has committed, counted from offset 0 and
     * capped at the given ends. Under exactly_once_v2 an offset becomes visible only when the
     * transaction that carries it commits, so this counts inputs whose outputs are committed.
     */
    long committedRecords(String groupId, Map<TopicPartition, Long> ends) {
        return GroupLag.of(ends, committedOffsets(groupId)).committed();
    }

    /**
     * Deletes the consumer groups of a finished run; returns the problem when the broker refused
     * (a group whose members have not left yet is deleted by the broker's offset retention later).
     */
    String deleteGroups(List<String> groupIds) {
        try {
            get(admin.deleteConsumerGroups(groupIds).all(), "delete groups " + groupIds);
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /**
     * Removes every member from a consumer group whose members are all stopped (static members stay
     * until their session times out, and a group with members cannot be deleted); returns the problem
     * when the broker refused.
     */
    String removeMembers(String groupId) {
        try {
            get(admin.removeMembersFromConsumerGroup(groupId, new RemoveMembersFromConsumerGroupOptions()).all(),
                    "remove the members of " + groupId);
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /** acks=all and idempotence, as the API's producer; batching for bulk loading. */
    KafkaProducer<Long, byte[]> bulkProducer(String clientId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // One request in flight per connection: with five, the loader was seen stuck retrying
        // OUT_OF_ORDER_SEQUENCE_NUMBER for two minutes on a busy machine. Loading is not timed.
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 10);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, PRODUCER_BLOCK_MS_MAX);
        return new KafkaProducer<>(client.addTo(props), new LongSerializer(), new ByteArraySerializer());
    }

    @Override
    public void close() {
        admin.close();
    }

    static <T> T get(KafkaFuture<T> future, String what) {
        try {
            return future.get(ADMIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + what, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not " + what + ": " + e.getMessage(), e);
        }
    }
}
