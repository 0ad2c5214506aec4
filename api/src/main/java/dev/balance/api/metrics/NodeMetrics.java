package dev.balance.api.metrics;

import dev.balance.api.verdict.VerdictWaiters;
import dev.balance.topology.OutcomeCounters;
import dev.balance.topology.StreamsSettings;
import dev.balance.topology.model.Leg;
import dev.balance.topology.model.Result;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The meters of a balance node, bound in one place. The README's monitoring section lists them;
 * the dashboards and alert rules under {@code monitoring/} use these names, and a test checks
 * that every expression there finds its series on a live node.
 *
 * <p>Names of the earlier design are kept where they mean the same thing here:
 * {@code balance_consumer_messages_total} (records this node's processors read),
 * {@code balance_consumer_success_total} (commands decided: applied, rejected, conflict or
 * invalid), {@code balance_consumer_failed_total} (records that could not be processed and went to
 * the dead-letter topic) and {@code balance_outbox_events_created_total} (outcome events written
 * to {@code balance-events}; there is no outbox table: the event is written in the same Kafka
 * transaction as the balance).
 */
public final class NodeMetrics implements AutoCloseable {

    private static final Duration VERDICT_LATENCY_MIN = Duration.ofNanos(100_000);
    private static final Duration VERDICT_LATENCY_MAX = Duration.ofSeconds(30);

    private final Timer verdictLatency;
    private final ScheduledExecutorService refresher;
    private final KafkaStreamsMetrics streamsMetrics;
    private final KafkaClientMetrics producerMetrics;
    private final Admin admin;

    /**
     * @param streams  this node's Streams instance (started)
     * @param producer the producer of the HTTP path's commands
     * @param ready    whether the node answers (the readiness probe's rule)
     */
    public NodeMetrics(MeterRegistry registry, MetricsSettings settings, StreamsSettings streamsSettings,
                       KafkaStreams streams, Producer<?, ?> producer, OutcomeCounters counters, VerdictWaiters waiters,
                       BooleanSupplier ready) {
        refresher = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "metrics-refresh");
            thread.setDaemon(true);
            return thread;
        });
        Duration refresh = Duration.ofMillis(settings.kafkaMetricsRefreshMs());
        streamsMetrics = new KafkaStreamsMetrics(streams, Tags.empty(), refresher, refresh);
        streamsMetrics.bindTo(registry);
        producerMetrics = new KafkaClientMetrics(producer, Tags.empty(), refresher, refresh);
        producerMetrics.bindTo(registry);

        verdictLatency = Timer.builder("balance_verdict_latency")
                .description("from the command's produce on this node to its verdict from the processor (HTTP path)")
                .publishPercentileHistogram()
                .minimumExpectedValue(VERDICT_LATENCY_MIN)
                .maximumExpectedValue(VERDICT_LATENCY_MAX)
                .register(registry);
        bindVerdicts(registry, counters);
        Gauge.builder("balance_verdict_waiters", waiters, VerdictWaiters::waitingCount)
                .description("requests waiting for their verdict").register(registry);
        Gauge.builder("balance_node_ready", ready, r -> r.getAsBoolean() ? 1 : 0)
                .description("1 when stream processing runs and the node answers, else 0").register(registry);
        Gauge.builder("balance_rocksdb_budget_bytes", streamsSettings, StreamsSettings::rocksDbCacheBytes)
                .tag("kind", "cache").description("RocksDB block cache of the node (memtables are charged to it)")
                .register(registry);
        Gauge.builder("balance_rocksdb_budget_bytes", streamsSettings, StreamsSettings::rocksDbWriteBufferBytes)
                .tag("kind", "write_buffer").description("share of the cache the memtables may fill").register(registry);

        String self = streamsSettings.applicationServer() == null ? "local" : streamsSettings.applicationServer();
        admin = Admin.create(streamsSettings.clientProperties().addTo(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, streamsSettings.bootstrapServers(),
                AdminClientConfig.CLIENT_ID_CONFIG, streamsSettings.applicationId() + "-lag-" + self)));
        InputLag lag = new InputLag(streams, admin, streamsSettings.applicationId(), streamsSettings.topics().changes(),
                Duration.ofMillis(settings.brokerCallTimeoutMs()));
        Gauge.builder("balance_input_lag_records", lag, InputLag::lagRecords)
                .description("commands on this node's input partitions not yet processed and committed (read from the broker)")
                .register(registry);
        Gauge.builder("balance_input_partitions", lag, InputLag::partitions)
                .description("input partitions this node processes (active tasks)").register(registry);
        refresher.scheduleWithFixedDelay(lag::refresh, 0, settings.inputLagRefreshMs(), TimeUnit.MILLISECONDS);
    }

    /** Times a command from its produce to its verdict; recorded on the stream thread, so it must stay cheap. */
    public Timer verdictLatency() {
        return verdictLatency;
    }

    private static void bindVerdicts(MeterRegistry registry, OutcomeCounters counters) {
        for (Result result : Result.values()) {
            FunctionCounter.builder("balance_verdicts", counters, c -> c.count(result))
                    .tag("status", result.status().name())
                    .tag("reason", result.name())
                    .description("verdicts decided by this node's processors, by status and reason")
                    .register(registry);
        }
        for (Leg leg : Leg.values()) {
            FunctionCounter.builder("balance_decided_legs", counters, c -> c.count(leg))
                    .tag("leg", leg.name())
                    .description("decided commands by leg: NONE and DEBIT are clients' changes, CREDIT and REFUND the "
                            + "processor's own legs of transfers (counted in balance_verdicts_total too)")
                    .register(registry);
        }
        FunctionCounter.builder("balance_replays", counters, OutcomeCounters::replays)
                .description("verdicts that were replays of a remembered transaction id").register(registry);
        FunctionCounter.builder("balance_dead_letters", counters, OutcomeCounters::deadLetters)
                .description("input records sent to the dead-letter topic").register(registry);
        FunctionCounter.builder("balance_purged_transactions", counters, OutcomeCounters::purgedTransactions)
                .description("remembered transaction ids deleted after the dedup retention").register(registry);
        // The earlier design's names (see the class comment).
        FunctionCounter.builder("balance_consumer_messages", counters, c -> decided(c) + c.deadLetters())
                .description("input records read by this node's processors").register(registry);
        FunctionCounter.builder("balance_consumer_success", counters, NodeMetrics::decided)
                .description("commands decided (applied, rejected, conflict or invalid)").register(registry);
        FunctionCounter.builder("balance_consumer_failed", counters, OutcomeCounters::deadLetters)
                .description("input records that could not be processed (dead-letter topic)").register(registry);
        FunctionCounter.builder("balance_outbox_events_created", counters, NodeMetrics::decided)
                .description("outcome events written to balance-events").register(registry);
    }

    private static double decided(OutcomeCounters counters) {
        long sum = 0;
        for (Result result : Result.values()) {
            sum += counters.count(result);
        }
        return sum;
    }

    @Override
    public void close() {
        refresher.shutdownNow();
        streamsMetrics.close();
        producerMetrics.close();
        admin.close(Duration.ofSeconds(5));
    }
}
