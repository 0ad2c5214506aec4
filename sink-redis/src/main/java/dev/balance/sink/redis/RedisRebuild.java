package dev.balance.sink.redis;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.MalformedRecordException;
import dev.balance.topology.model.BalanceEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Rebuilds the Redis snapshot from the events topic, for when Redis lost its data (a restart
 * without persistence, a flush). It replays every committed event from the beginning of each
 * partition through the same guarded {@link SnapshotWriter} up to the end offsets seen at start,
 * then returns. It joins no consumer group and commits nothing, so it may run beside a live sink:
 * the version guard keeps whichever write is newer.
 */
public final class RedisRebuild {

    private static final Logger log = LoggerFactory.getLogger(RedisRebuild.class);
    /** Bound on Kafka metadata calls (partitions, offsets) at start. */
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(60);

    private final RedisSinkConfig config;

    public RedisRebuild(RedisSinkConfig config) {
        this.config = config;
    }

    /** What a rebuild did. */
    public record Summary(long eventsRead, long fieldsWritten, long staleSkipped, long retries, long durationMs) {
    }

    /** Runs the rebuild with the configuration of the environment and prints its summary. */
    public static void main(String[] args) {
        Summary summary = new RedisRebuild(RedisSinkConfig.fromEnv(System.getenv())).run();
        System.out.println("rebuild done: " + summary);
    }

    public Summary run() {
        long startNs = System.nanoTime();
        try (RedisClient redis = RedisClients.create(config);
             KafkaConsumer<Long, byte[]> consumer = EventConsumers.standalone(config)) {
            List<TopicPartition> partitions = partitionsOf(consumer);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // Under read_committed these are the last stable offsets: every event committed so far.
            Map<TopicPartition, Long> endOffsets = consumer.endOffsets(partitions, METADATA_TIMEOUT);
            log.info("rebuilding the Redis snapshot from {} up to offsets {}", config.eventsTopic(), endOffsets);
            Summary summary = replay(consumer, new SnapshotWriter(redis, config.keyPrefix()), endOffsets);
            return new Summary(summary.eventsRead(), summary.fieldsWritten(), summary.staleSkipped(),
                    summary.retries(), Duration.ofNanos(System.nanoTime() - startNs).toMillis());
        }
    }

    private List<TopicPartition> partitionsOf(KafkaConsumer<Long, byte[]> consumer) {
        List<PartitionInfo> infos = consumer.partitionsFor(config.eventsTopic(), METADATA_TIMEOUT);
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("topic " + config.eventsTopic() + " does not exist");
        }
        return infos.stream().map(info -> new TopicPartition(info.topic(), info.partition()))
                .collect(Collectors.toList());
    }

    private Summary replay(KafkaConsumer<Long, byte[]> consumer, SnapshotWriter writer,
                           Map<TopicPartition, Long> endOffsets) {
        long eventsRead = 0;
        long written = 0;
        long stale = 0;
        long retries = 0;
        while (!reachedEnd(consumer, endOffsets)) {
            ConsumerRecords<Long, byte[]> records = consumer.poll(Duration.ofMillis(config.flushIntervalMs()));
            List<BalanceEvent> events = eventsBefore(records, endOffsets);
            eventsRead += events.size();
            Backoff backoff = new Backoff(config.retryBackoffMinMs(), config.retryBackoffMaxMs());
            while (true) {
                try {
                    SnapshotWriter.Outcome outcome = writer.write(events);
                    written += outcome.fieldsWritten();
                    stale += outcome.staleSkipped();
                    break;
                } catch (JedisException e) {
                    retries++;
                    pause(backoff.nextMs(), e);
                }
            }
        }
        return new Summary(eventsRead, written, stale, retries, 0);
    }

    private static boolean reachedEnd(KafkaConsumer<Long, byte[]> consumer, Map<TopicPartition, Long> endOffsets) {
        for (Map.Entry<TopicPartition, Long> end : endOffsets.entrySet()) {
            if (consumer.position(end.getKey(), METADATA_TIMEOUT) < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static List<BalanceEvent> eventsBefore(ConsumerRecords<Long, byte[]> records,
                                                   Map<TopicPartition, Long> endOffsets) {
        List<BalanceEvent> events = new ArrayList<>(records.count());
        for (ConsumerRecord<Long, byte[]> record : records) {
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            if (record.offset() >= endOffsets.get(partition)) {
                continue;
            }
            try {
                events.add(Codecs.decodeEvent(record.value()));
            } catch (MalformedRecordException e) {
                log.warn("skipping undecodable record {}@{}: {}", partition, record.offset(), e.getMessage());
            }
        }
        return events;
    }

    /** A plain wait is right here: the rebuild is in no group, so nothing needs polling meanwhile. */
    private static void pause(long waitMs, JedisException cause) {
        log.warn("rebuild write to Redis failed, retrying in {} ms: {}", waitMs, cause.toString());
        try {
            Thread.sleep(waitMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("rebuild interrupted while Redis was unavailable", e);
        }
    }
}
