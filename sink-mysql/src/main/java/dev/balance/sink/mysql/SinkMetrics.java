package dev.balance.sink.mysql;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.atomic.AtomicLong;

/** The sink's meters, all named {@code balance_sink_mysql_*}. */
final class SinkMetrics {

    static final String PREFIX = "balance_sink_mysql_";

    final Counter batches;
    final Counter rows;
    final Counter skipped;
    final Timer batchLatency;
    final DistributionSummary batchSize;
    final Counter retries;
    final Counter deadLetters;
    final Counter commitFailures;
    /** Written by the polling thread only; the gauge reads it from the scraping thread. */
    final AtomicLong consumerLag = new AtomicLong();

    SinkMetrics(MeterRegistry registry) {
        batches = Counter.builder(PREFIX + "batches")
                .description("batches written to MySQL and committed").register(registry);
        rows = Counter.builder(PREFIX + "rows")
                .description("applied events written to the journal (and balances)").register(registry);
        skipped = Counter.builder(PREFIX + "skipped")
                .description("events read but not written: rejections, replays, conflicts, invalid commands")
                .register(registry);
        batchLatency = Timer.builder(PREFIX + "batch_latency")
                .description("from the first write attempt of a batch to its offset commit, retries included")
                .register(registry);
        batchSize = DistributionSummary.builder(PREFIX + "batch_size")
                .description("events per committed batch, skipped ones included").register(registry);
        retries = Counter.builder(PREFIX + "retries")
                .description("failed batch writes that will be retried after a backoff").register(registry);
        deadLetters = Counter.builder(PREFIX + "dlq")
                .description("events sent to the dead-letter topic because they can never be written")
                .register(registry);
        commitFailures = Counter.builder(PREFIX + "commit_failures")
                .description("offset commits that failed after the rows were written (they will be re-read)")
                .register(registry);
        Gauge.builder(PREFIX + "consumer_lag", consumerLag, AtomicLong::get)
                .description("events on the assigned partitions not yet written and committed")
                .register(registry);
    }
}
