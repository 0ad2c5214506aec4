package dev.balance.launcher;

import java.util.List;

/**
 * The metric names the monitoring section of the README promises on a process running a node and
 * both sinks (Prometheus names, as scraped).
 */
final class MetricNames {

    private MetricNames() {
    }

    static final List<String> REQUIRED = List.of(
            // HTTP by route and status, with a latency histogram
            "balance_http_requests_seconds_bucket", "balance_http_requests_seconds_count",
            // verdicts by status and reason, end-to-end verdict latency, waiting requests, readiness
            "balance_verdicts_total", "balance_verdict_latency_seconds_bucket", "balance_replays_total",
            "balance_dead_letters_total", "balance_decided_legs_total", "balance_verdict_waiters", "balance_node_ready",
            "balance_stale_read_retries_total",
            // the earlier design's names, and the documented equivalents of its batch meters
            "balance_consumer_messages_total", "balance_consumer_success_total", "balance_consumer_failed_total",
            "balance_outbox_events_total", "kafka_stream_thread_commit_total", "kafka_stream_thread_commit_latency_avg",
            "kafka_stream_thread_commit_latency_max", "kafka_stream_thread_process_records_avg",
            // input lag as the broker sees it, and the Streams consumer's own view
            "balance_input_lag_records", "balance_input_partitions", "kafka_consumer_fetch_manager_records_lag_max",
            // Kafka Streams and clients: commits, rebalances, threads, the HTTP path's producer
            "kafka_consumer_coordinator_rebalance_total", "kafka_consumer_coordinator_last_rebalance_seconds_ago",
            "kafka_stream_alive_stream_threads", "kafka_stream_failed_stream_threads_total",
            "kafka_stream_thread_process_total", "kafka_producer_record_send_total", "kafka_producer_request_latency_avg",
            "kafka_consumer_coordinator_commit_latency_avg",
            // RocksDB memory against its budget
            "kafka_stream_state_block_cache_usage", "kafka_stream_state_block_cache_capacity",
            "kafka_stream_state_block_cache_pinned_usage", "kafka_stream_state_size_all_mem_tables",
            "kafka_stream_state_estimate_table_readers_mem", "balance_rocksdb_budget_bytes",
            // MySQL sink: batches, rows, lag, retries, DLQ
            "balance_sink_mysql_batches_total", "balance_sink_mysql_rows_total", "balance_sink_mysql_batch_size_count",
            "balance_sink_mysql_batch_latency_seconds_count", "balance_sink_mysql_consumer_lag",
            "balance_sink_mysql_retries_total", "balance_sink_mysql_dlq_total",
            // Redis sink: batches, keys, lag, retries, malformed records (it has no DLQ)
            "balance_sink_redis_batches_total", "balance_sink_redis_keys_written_total",
            "balance_sink_redis_batch_size_count", "balance_sink_redis_batch_latency_seconds_count",
            "balance_sink_redis_consumer_lag", "balance_sink_redis_retries_total",
            "balance_sink_redis_events_malformed_total",
            // JVM and process
            "jvm_memory_used_bytes", "jvm_memory_max_bytes", "jvm_gc_pause_seconds_count", "jvm_threads_live_threads",
            "process_cpu_usage", "process_uptime_seconds", "process_files_open_files");
}
