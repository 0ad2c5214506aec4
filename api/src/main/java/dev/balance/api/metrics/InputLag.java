package dev.balance.api.metrics;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.TaskMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commands of this node's input partitions that the broker holds but the node has not yet
 * committed as processed: the end offsets of its active {@code balance-changes} partitions minus
 * its consumer group's committed offsets, both read from the broker. Measured from outside the
 * stream threads on purpose: a stalled stream thread stops updating its consumer's own lag
 * metrics, while this value keeps growing, which is what the "node not deciding" alert needs.
 */
final class InputLag {

    private static final Logger LOG = LoggerFactory.getLogger(InputLag.class);

    private final KafkaStreams streams;
    private final Admin admin;
    private final String groupId;
    private final String inputTopic;
    private final Duration callTimeout;
    private final AtomicLong lagRecords = new AtomicLong();
    private final AtomicLong partitions = new AtomicLong();

    InputLag(KafkaStreams streams, Admin admin, String groupId, String inputTopic, Duration callTimeout) {
        this.streams = streams;
        this.admin = admin;
        this.groupId = groupId;
        this.inputTopic = inputTopic;
        this.callTimeout = callTimeout;
    }

    long lagRecords() {
        return lagRecords.get();
    }

    long partitions() {
        return partitions.get();
    }

    /** Reads the offsets once; keeps the last value when the broker does not answer in time. */
    void refresh() {
        try {
            Set<TopicPartition> mine = activeInputPartitions();
            partitions.set(mine.size());
            if (mine.isEmpty()) {
                lagRecords.set(0);
                return;
            }
            long timeoutMs = callTimeout.toMillis();
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata().get(timeoutMs, TimeUnit.MILLISECONDS);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            mine.forEach(partition -> latest.put(partition, OffsetSpec.latest()));
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all()
                    .get(timeoutMs, TimeUnit.MILLISECONDS);
            long lag = 0;
            for (TopicPartition partition : mine) {
                OffsetAndMetadata done = committed.get(partition);
                long end = ends.get(partition).offset();
                lag += Math.max(0, end - (done == null ? 0 : done.offset()));
            }
            lagRecords.set(lag);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.debug("input lag not refreshed: {}", e.toString());
        }
    }

    private Set<TopicPartition> activeInputPartitions() {
        Set<TopicPartition> result = new HashSet<>();
        if (streams.state() != KafkaStreams.State.RUNNING && streams.state() != KafkaStreams.State.REBALANCING) {
            return result;
        }
        for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
            for (TaskMetadata task : thread.activeTasks()) {
                for (TopicPartition partition : task.topicPartitions()) {
                    if (partition.topic().equals(inputTopic)) {
                        result.add(partition);
                    }
                }
            }
        }
        return result;
    }
}
