package dev.balance.sink.redis;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sink's meters. Names use Micrometer's dotted form; the Prometheus registry shows them as
 * {@code balance_sink_redis_batches_total}, {@code balance_sink_redis_batch_latency_seconds} and so on.
 */
final class SinkMetrics {

    static final String PREFIX = "balance.sink.redis.";

    final Counter batches;
    final Counter eventsConsumed;
    final Counter eventsSkipped;
    final Counter malformedEvents;
    final Counter keysWritten;
    final Counter staleWritesSkipped;
    final Counter retries;
    final Timer batchLatency;
    final DistributionSummary batchSize;
    private final AtomicLong consumerLag = new AtomicLong();

    SinkMetrics(MeterRegistry registry) {
        batches = Counter.builder(PREFIX + "batches").description("batches written and committed").register(registry);
        eventsConsumed = Counter.builder(PREFIX + "events.consumed").description("events read from the topic")
                .register(registry);
        eventsSkipped = Counter.builder(PREFIX + "events.skipped")
                .description("events that moved no balance (rejected, replay, conflict, invalid)").register(registry);
        malformedEvents = Counter.builder(PREFIX + "events.malformed")
                .description("records that could not be decoded as events").register(registry);
        keysWritten = Counter.builder(PREFIX + "keys.written").description("hash fields written to Redis")
                .register(registry);
        staleWritesSkipped = Counter.builder(PREFIX + "stale.writes.skipped")
                .description("writes refused by the version guard because Redis held that version or newer")
                .register(registry);
        retries = Counter.builder(PREFIX + "retries").description("failed batch writes that were retried")
                .register(registry);
        batchLatency = Timer.builder(PREFIX + "batch.latency")
                .description("time to write one batch to Redis, retries included, until its offsets were committed")
                .publishPercentiles(0.5, 0.95, 0.99)
                .register(registry);
        batchSize = DistributionSummary.builder(PREFIX + "batch.size").description("records per batch")
                .register(registry);
        Gauge.builder(PREFIX + "consumer.lag", consumerLag, AtomicLong::get)
                .description("records of the assigned partitions not yet consumed").register(registry);
    }

    void consumerLag(long lag) {
        consumerLag.set(lag);
    }

    long consumerLag() {
        return consumerLag.get();
    }
}
