package dev.balance.sink.redis;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.MalformedRecordException;
import dev.balance.topology.model.BalanceEvent;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Keeps the Redis balance snapshot: poll a batch of events, write it in one guarded pipeline,
 * then commit its offsets, on one thread of its own.
 *
 * <p>Offsets are committed only after every reply of the pipeline was read, so a crash at any
 * point re-delivers at most the unacknowledged batch, and the version guard makes writing it
 * again harmless. While Redis fails, the same batch is retried with bounded exponential backoff
 * and the consumer is paused, still polling so it keeps its partitions but reading nothing new.
 */
public final class RedisSink implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RedisSink.class);

    private final RedisSinkConfig config;
    private final SinkMetrics metrics;
    private final KafkaClientMetrics clientMetrics;
    private final RedisClient redis;
    private final SnapshotWriter writer;
    private final KafkaConsumer<Long, byte[]> consumer;
    private final Thread thread;
    private final PendingBatch batch = new PendingBatch();
    /** The last offset committed per partition, so an idle partition is committed once, not every loop. */
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    /** Records polled beyond the batch's size limit; they open the next batch. */
    private final ArrayDeque<ConsumerRecord<Long, byte[]>> backlog = new ArrayDeque<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean running = true;
    private volatile Throwable failure;
    /** Touched by the sink thread only: true while a failed batch waits for its retry. */
    private boolean paused;

    public RedisSink(RedisSinkConfig config, MeterRegistry registry) {
        this.config = config;
        this.metrics = new SinkMetrics(registry);
        this.redis = RedisClients.create(config);
        this.writer = new SnapshotWriter(redis, config.keyPrefix());
        this.consumer = EventConsumers.forGroup(config);
        // The consumer's own metrics (commit latency, rebalances, fetch lag) as kafka_consumer_*.
        this.clientMetrics = new KafkaClientMetrics(consumer);
        clientMetrics.bindTo(registry);
        this.thread = new Thread(this::run, "redis-sink");
    }

    /** Starts consuming on the sink's own thread. */
    public void start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("the Redis sink was already started");
        }
        log.info("Redis sink starting: {}", config);
        thread.start();
    }

    /** Waits until the sink thread has stopped, after {@link #close()} or on an unexpected error. */
    public void awaitStopped() throws InterruptedException {
        thread.join();
    }

    /** The error that stopped the sink thread, if one did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /**
     * Stops the sink: a batch being written or retried is abandoned uncommitted (the next start
     * writes it again), then the consumer and the Redis client are closed.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        running = false;
        if (!started.get()) {
            clientMetrics.close();
            consumer.close();
            redis.close();
            return;
        }
        consumer.wakeup();
        try {
            thread.join(config.closeTimeoutMs());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("Redis sink thread still running {} ms after close", config.closeTimeoutMs());
        }
    }

    private void run() {
        try {
            consumer.subscribe(List.of(config.eventsTopic()), new RevokedBatchDropper());
            while (running) {
                collect();
                if (!batch.isEmpty()) {
                    flush();
                } else if (backlog.isEmpty()) {
                    commitIdlePositions();
                }
            }
        } catch (WakeupException e) {
            log.info("Redis sink woken up to close");
        } catch (RuntimeException e) {
            failure = e;
            log.error("Redis sink stopped on an unexpected error", e);
        } finally {
            clientMetrics.close();
            consumer.close();
            redis.close();
            log.info("Redis sink stopped");
        }
    }

    /** Fills the batch until it holds batchSizeMax records or flushIntervalMs has passed. */
    private void collect() {
        long deadlineNs = System.nanoTime() + Duration.ofMillis(config.flushIntervalMs()).toNanos();
        takeFromBacklog();
        while (running && batch.size() < config.batchSizeMax()) {
            long remainingMs = Duration.ofNanos(deadlineNs - System.nanoTime()).toMillis();
            if (remainingMs <= 0) {
                return;
            }
            ConsumerRecords<Long, byte[]> records = consumer.poll(Duration.ofMillis(remainingMs));
            updateLag();
            records.forEach(backlog::add);
            takeFromBacklog();
        }
    }

    private void takeFromBacklog() {
        while (batch.size() < config.batchSizeMax() && !backlog.isEmpty()) {
            ConsumerRecord<Long, byte[]> record = backlog.poll();
            batch.add(new TopicPartition(record.topic(), record.partition()), record.offset(), decode(record));
        }
    }

    private BalanceEvent decode(ConsumerRecord<Long, byte[]> record) {
        metrics.eventsConsumed.increment();
        try {
            BalanceEvent event = Codecs.decodeEvent(record.value());
            if (!event.movedBalance()) {
                metrics.eventsSkipped.increment();
            }
            return event;
        } catch (MalformedRecordException e) {
            // It can never be written; its offset is still committed so it does not block the partition.
            metrics.malformedEvents.increment();
            log.warn("skipping undecodable record {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                    e.getMessage());
            return null;
        }
    }

    private void flush() {
        Timer.Sample sample = Timer.start();
        int size = batch.size();
        Optional<SnapshotWriter.Outcome> outcome = writeUntilDone();
        if (outcome.isEmpty()) {
            return;
        }
        commit(batch.offsetsToCommit());
        batch.clear();
        sample.stop(metrics.batchLatency);
        metrics.batches.increment();
        metrics.batchSize.record(size);
        metrics.keysWritten.increment(outcome.get().fieldsWritten());
        metrics.staleWritesSkipped.increment(outcome.get().staleSkipped());
    }

    /** Writes the batch, retrying until it lands; empty only when the sink is closing. */
    private Optional<SnapshotWriter.Outcome> writeUntilDone() {
        Backoff backoff = new Backoff(config.retryBackoffMinMs(), config.retryBackoffMaxMs());
        for (int attempt = 1; running; attempt++) {
            try {
                SnapshotWriter.Outcome outcome = writer.write(batch.events());
                resumeIfPaused();
                return Optional.of(outcome);
            } catch (JedisException e) {
                long waitMs = backoff.nextMs();
                metrics.retries.increment();
                log.warn("writing a batch of {} events to Redis failed (attempt {}), retrying in {} ms: {}",
                        batch.size(), attempt, waitMs, e.toString());
                waitPaused(waitMs);
            }
        }
        return Optional.empty();
    }

    /**
     * Waits without reading: all partitions are paused, yet poll keeps being called so the group
     * sees this member alive and rebalances still run their callbacks.
     */
    private void waitPaused(long waitMs) {
        long deadlineNs = System.nanoTime() + Duration.ofMillis(waitMs).toNanos();
        while (running) {
            consumer.pause(consumer.assignment());
            paused = true;
            long remainingMs = Duration.ofNanos(deadlineNs - System.nanoTime()).toMillis();
            if (remainingMs <= 0) {
                return;
            }
            rewind(consumer.poll(Duration.ofMillis(remainingMs)));
            updateLag();
        }
    }

    /**
     * Records can still arrive while paused from a partition assigned inside that very poll. They
     * are not lost: seeking back makes the consumer fetch them again once it resumes.
     */
    private void rewind(ConsumerRecords<Long, byte[]> records) {
        for (TopicPartition partition : records.partitions()) {
            consumer.seek(partition, records.records(partition).get(0).offset());
        }
    }

    private void resumeIfPaused() {
        if (paused) {
            consumer.resume(consumer.paused());
            paused = false;
        }
    }

    private void commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(offsets, Duration.ofMillis(config.commitTimeoutMs()));
            offsets.forEach((partition, offset) -> committed.put(partition, offset.offset()));
        } catch (CommitFailedException | RebalanceInProgressException | TimeoutException e) {
            // The batch is in Redis; without the commit it is read and written again, which the
            // version guard turns into stale-write skips. Nothing is lost or moved back.
            log.warn("offsets of a written batch were not committed; it will be delivered again: {}", e.toString());
        }
    }

    /**
     * With nothing pending, everything before each position was written, so the position itself
     * may be committed. This moves a committed offset past transaction markers, which carry no
     * record and would otherwise leave a lag of one behind every topology transaction.
     */
    private void commitIdlePositions() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition partition : consumer.assignment()) {
            long position = consumer.position(partition, Duration.ofMillis(config.commitTimeoutMs()));
            if (position > committed.getOrDefault(partition, -1L)) {
                offsets.put(partition, new OffsetAndMetadata(position));
            }
        }
        commit(offsets);
    }

    private void updateLag() {
        long lag = 0;
        for (TopicPartition partition : consumer.assignment()) {
            OptionalLong partitionLag = consumer.currentLag(partition);
            if (partitionLag.isPresent()) {
                lag += partitionLag.getAsLong();
            }
        }
        metrics.consumerLag(lag);
    }

    /** Never commits for a partition this member lost: its unwritten records belong to the next owner. */
    private final class RevokedBatchDropper implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            drop(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            drop(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (paused) {
                consumer.pause(partitions);
            }
        }

        private void drop(Collection<TopicPartition> partitions) {
            batch.dropPartitions(partitions);
            committed.keySet().removeAll(partitions);
            backlog.removeIf(record -> partitions.contains(new TopicPartition(record.topic(), record.partition())));
        }
    }
}
