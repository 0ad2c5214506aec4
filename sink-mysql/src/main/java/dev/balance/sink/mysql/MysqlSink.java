package dev.balance.sink.mysql;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.balance.sink.mysql.DeadLetters.DeadLetter;
import dev.balance.sink.mysql.DeadLetters.DeadLetterException;
import dev.balance.sink.mysql.JournalWriter.Rejection;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes {@code balance-events} and writes every applied change into MySQL: poll, write the
 * batch in one transaction, then commit the offsets. Offsets are committed only after the
 * database commit, and the writes are idempotent, so a crash at any point leaves the tables as
 * if every event had been written exactly once once the events are re-read.
 *
 * <p>While the database is unreachable the same batch is retried with bounded exponential
 * backoff; meanwhile the consumer is paused and keeps polling (which returns nothing) so that it
 * stays in its group without reading further. An event the database refuses for good goes to the
 * dead-letter topic and the rest of the batch is written.
 *
 * <p>All Kafka and database work happens on one thread that {@link #start()} starts.
 */
public final class MysqlSink implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MysqlSink.class);
    /** Session settings the write path depends on, set on every pooled connection. */
    static final String SESSION_SQL = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
            + "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'";
    private static final long CLOSE_MARGIN_MS = 10_000;

    private final MysqlSinkConfig config;
    private final SinkMetrics metrics;
    private final KafkaClientMetrics clientMetrics;
    private final Backoff backoff;
    private final Consumer<byte[], byte[]> consumer;
    private final DeadLetters deadLetters;
    private final Thread thread;
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile Throwable failure;

    // State of the sink thread only.
    private HikariDataSource dataSource;
    private JournalWriter writer;
    private final List<ConsumerRecord<byte[], byte[]>> pending = new ArrayList<>();
    private long batchDeadlineNs;
    private Batch inFlight;
    private boolean paused;

    public MysqlSink(MysqlSinkConfig config, MeterRegistry registry) {
        this.config = config;
        this.metrics = new SinkMetrics(registry);
        this.backoff = new Backoff(config.retryBackoffMinMs(), config.retryBackoffMaxMs());
        this.consumer = new KafkaConsumer<>(consumerConfig(config), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        // The consumer's own metrics (commit latency, rebalances, fetch lag) as kafka_consumer_*.
        this.clientMetrics = new KafkaClientMetrics(consumer);
        clientMetrics.bindTo(registry);
        this.deadLetters = new DeadLetters(config);
        this.thread = new Thread(this::run, "sink-mysql-" + config.groupId());
    }

    /** Starts the sink thread; it applies the schema, then consumes until {@link #close()}. */
    public void start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("the sink was started already");
        }
        log.info("MySQL sink starting: {}", config);
        thread.start();
    }

    /** True until the sink thread ends, by {@link #close()} or by an unexpected failure. */
    public boolean isRunning() {
        return thread.isAlive();
    }

    /** The error that stopped the sink thread, if one did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** Waits until the sink thread ends. */
    public void awaitTermination() throws InterruptedException {
        thread.join();
    }

    /**
     * Stops the sink. A batch being written is either committed with its offsets or left to be
     * re-read; a batch waiting for the database is left to be re-read.
     */
    @Override
    public void close() {
        stopRequested.countDown();
        if (!started.get()) {
            closeResources();
            return;
        }
        consumer.wakeup();
        try {
            thread.join(config.socketTimeoutMs() + config.dlqDeliveryTimeoutMs() + CLOSE_MARGIN_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("MySQL sink thread did not stop in time; its uncommitted batch will be re-read");
        }
    }

    private void run() {
        try {
            installSchema();
            if (stopping()) {
                return;
            }
            dataSource = new HikariDataSource(poolConfig(config));
            writer = new JournalWriter(dataSource);
            consumer.subscribe(List.of(config.eventsTopic()), new Rebalances());
            while (!stopping()) {
                pollOnce();
                if (batchDue()) {
                    writeUntilDone(takeBatch());
                }
            }
        } catch (WakeupException e) {
            if (!stopping()) {
                fail(e);
            }
        } catch (RuntimeException | Error e) {
            fail(e);
        } finally {
            closeResources();
            log.info("MySQL sink stopped");
        }
    }

    private void fail(Throwable e) {
        failure = e;
        log.error("MySQL sink stopped by an unexpected error", e);
    }

    private void installSchema() {
        int failures = 0;
        while (!stopping()) {
            try {
                SchemaScript.apply(config);
                log.info("MySQL schema applied to database {}", config.databaseName());
                return;
            } catch (SQLException e) {
                failures++;
                metrics.retries.increment();
                long delayMs = backoff.delayMs(failures);
                log.warn("cannot apply the MySQL schema (attempt {}), retrying in {} ms: {}", failures, delayMs,
                        e.toString());
                awaitStop(delayMs);
            }
        }
    }

    private void pollOnce() {
        long waitMs = pending.isEmpty()
                ? config.flushIntervalMs()
                : Math.max(0, TimeUnit.NANOSECONDS.toMillis(batchDeadlineNs - System.nanoTime()));
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(waitMs));
        if (pending.isEmpty() && !records.isEmpty()) {
            batchDeadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.flushIntervalMs());
        }
        records.forEach(pending::add);
        updateLag();
    }

    /** A batch is written when it is full or when its first event has waited the flush interval. */
    private boolean batchDue() {
        return pending.size() >= config.batchSizeMax()
                || (!pending.isEmpty() && System.nanoTime() - batchDeadlineNs >= 0);
    }

    private Batch takeBatch() {
        List<ConsumerRecord<byte[], byte[]>> head = pending.subList(0, Math.min(pending.size(), config.batchSizeMax()));
        Batch batch = Batch.of(head);
        head.clear();
        batchDeadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.flushIntervalMs());
        return batch;
    }

    /**
     * Writes the batch and commits its offsets, retrying after any failure that is not about the
     * rows until it succeeds, the sink stops, or a rebalance takes all of its partitions away.
     */
    private void writeUntilDone(Batch batch) {
        inFlight = batch;
        long startedNs = System.nanoTime();
        int failures = 0;
        while (!inFlight.isEmpty() && !stopping()) {
            try {
                Written written = writeAndPublishDeadLetters(inFlight);
                commit(offsetsAfter(inFlight));
                record(inFlight, written, startedNs);
                break;
            } catch (SQLException | DeadLetterException e) {
                failures++;
                metrics.retries.increment();
                long delayMs = backoff.delayMs(failures);
                log.warn("batch of {} events not written (attempt {}), consumer paused, retrying in {} ms: {}",
                        inFlight.size(), failures, delayMs, e.toString());
                waitPaused(delayMs);
            }
        }
        inFlight = null;
        resumeIfPaused();
    }

    /** What became of a batch's records: rows written and records sent to the dead-letter topic. */
    private record Written(int rows, int deadLetters) {
    }

    private Written writeAndPublishDeadLetters(Batch batch) throws SQLException, DeadLetterException {
        List<Rejection> rejections = batch.eventsToWrite().isEmpty() ? List.of() : writer.write(batch.eventsToWrite());
        List<DeadLetter> letters = batch.deadLetters(rejections);
        if (!letters.isEmpty()) {
            for (DeadLetter letter : letters) {
                log.warn("event at {}-{}@{} can never be written, sending it to {}: {}", letter.source().topic(),
                        letter.source().partition(), letter.source().offset(), config.dlqTopic(),
                        letter.error().toString());
            }
            deadLetters.sendAll(letters);
        }
        return new Written(batch.eventsToWrite().size() - rejections.size(), letters.size());
    }

    /**
     * The offsets that mark the batch as written. Where no later record of a partition is waiting,
     * the consumer's position is committed instead: it can be past the last record because of
     * transaction markers and aborted records, which the sink never sees but must step over, or
     * the group's lag would never reach zero on a topic written by transactions.
     */
    private Map<TopicPartition, OffsetAndMetadata> offsetsAfter(Batch batch) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(batch.offsetsToCommit());
        Set<TopicPartition> waiting = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> record : pending) {
            waiting.add(new TopicPartition(record.topic(), record.partition()));
        }
        offsets.replaceAll((partition, offset) -> waiting.contains(partition)
                ? offset
                : new OffsetAndMetadata(Math.max(offset.offset(), consumer.position(partition))));
        return offsets;
    }

    private void commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
        try {
            consumer.commitSync(offsets);
        } catch (CommitFailedException | RebalanceInProgressException | TimeoutException e) {
            // The rows are durable; the events will be re-read and rewritten, which changes nothing.
            metrics.commitFailures.increment();
            log.warn("offsets not committed after the batch was written; its events will be re-read: {}",
                    e.toString());
        }
    }

    private void record(Batch batch, Written written, long startedNs) {
        metrics.batches.increment();
        metrics.batchSize.record(batch.size());
        metrics.rows.increment(written.rows());
        metrics.skipped.increment(batch.skippedCount());
        metrics.deadLetters.increment(written.deadLetters());
        metrics.batchLatency.record(System.nanoTime() - startedNs, TimeUnit.NANOSECONDS);
    }

    /**
     * Waits out a retry backoff with the assignment paused. Polling a paused consumer returns no
     * records and blocks for the timeout, so this does not spin, and it keeps the consumer within
     * its poll interval so the group does not evict it.
     */
    private void waitPaused(long delayMs) {
        pauseAssignment();
        long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMs);
        long remainingNs = deadlineNs - System.nanoTime();
        while (remainingNs > 0 && !stopping() && !inFlight.isEmpty()) {
            ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofNanos(remainingNs));
            rewind(records);
            updateLag();
            remainingNs = deadlineNs - System.nanoTime();
        }
    }

    private void pauseAssignment() {
        consumer.pause(consumer.assignment());
        paused = true;
    }

    private void resumeIfPaused() {
        if (paused) {
            consumer.resume(consumer.paused());
            paused = false;
        }
    }

    /**
     * A paused consumer returns no records; should one arrive anyway, the position goes back to
     * it so that nothing is passed over while the batch before it is unwritten.
     */
    private void rewind(ConsumerRecords<byte[], byte[]> records) {
        for (TopicPartition partition : records.partitions()) {
            long first = records.records(partition).get(0).offset();
            log.warn("records arrived while paused on {}; rewinding to {}", partition, first);
            consumer.seek(partition, first);
        }
    }

    private void updateLag() {
        long lag = (long) pending.size() + (inFlight == null ? 0 : inFlight.size());
        for (TopicPartition partition : consumer.assignment()) {
            lag += consumer.currentLag(partition).orElse(0);
        }
        metrics.consumerLag.set(lag);
    }

    private boolean stopping() {
        return stopRequested.getCount() == 0;
    }

    private void awaitStop(long delayMs) {
        try {
            stopRequested.await(delayMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopRequested.countDown();
        }
    }

    private void closeResources() {
        clientMetrics.close();
        try {
            consumer.close(Duration.ofMillis(CLOSE_MARGIN_MS));
        } finally {
            try {
                deadLetters.close();
            } finally {
                if (dataSource != null) {
                    dataSource.close();
                }
            }
        }
    }

    /**
     * Partitions that move away take their unwritten records with them: the next owner re-reads
     * them from the last committed offset, and nothing unwritten is committed here.
     */
    private final class Rebalances implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            forget(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            forget(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (paused) {
                // A batch is waiting for the database: new partitions must not be read past it.
                consumer.pause(partitions);
            }
            if (!partitions.isEmpty()) {
                log.info("MySQL sink assigned {}", partitions);
            }
        }

        private void forget(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            pending.removeIf(record -> partitions.contains(new TopicPartition(record.topic(), record.partition())));
            if (inFlight != null) {
                inFlight = inFlight.without(partitions);
            }
            log.info("MySQL sink gave up {}; unwritten records there are left to the next owner", partitions);
        }
    }

    private static Map<String, Object> consumerConfig(MysqlSinkConfig config) {
        return config.kafkaClientProperties().addTo(Map.ofEntries(
                Map.entry(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers()),
                Map.entry(ConsumerConfig.GROUP_ID_CONFIG, config.groupId()),
                Map.entry(ConsumerConfig.CLIENT_ID_CONFIG, config.groupId()),
                Map.entry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                Map.entry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                Map.entry(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                Map.entry(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.batchSizeMax()),
                Map.entry(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic"),
                Map.entry(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName()),
                Map.entry(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 300_000),
                Map.entry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 45_000),
                Map.entry(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000),
                Map.entry(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000)));
    }

    private static HikariConfig poolConfig(MysqlSinkConfig config) {
        HikariConfig pool = new HikariConfig();
        pool.setPoolName("sink-mysql-" + config.groupId());
        pool.setJdbcUrl(config.mysqlUrl());
        pool.setUsername(config.mysqlUser());
        pool.setPassword(config.mysqlPassword());
        pool.setMaximumPoolSize(config.poolSize());
        pool.setMinimumIdle(config.poolSize());
        pool.setAutoCommit(false);
        pool.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        pool.setConnectionTimeout(config.connectTimeoutMs());
        // The database may be down when the sink starts: the writes retry, the pool must not refuse to exist.
        pool.setInitializationFailTimeout(-1);
        pool.setConnectionInitSql(SESSION_SQL);
        pool.addDataSourceProperty("rewriteBatchedStatements", "true");
        pool.addDataSourceProperty("useServerPrepStmts", "false");
        pool.addDataSourceProperty("cachePrepStmts", "true");
        pool.addDataSourceProperty("characterEncoding", "UTF-8");
        pool.addDataSourceProperty("connectTimeout", Long.toString(config.connectTimeoutMs()));
        pool.addDataSourceProperty("socketTimeout", Long.toString(config.socketTimeoutMs()));
        return pool;
    }
}
