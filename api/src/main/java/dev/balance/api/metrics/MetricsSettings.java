package dev.balance.api.metrics;

import java.util.Map;

/**
 * How often a node refreshes the metrics it does not count itself.
 *
 * @param kafkaMetricsRefreshMs METRICS_REFRESH_MS (10000): how often new Kafka client and Streams
 *                              metrics (those of newly assigned tasks: RocksDB, partition lag) are
 *                              looked for and bound
 * @param inputLagRefreshMs     INPUT_LAG_REFRESH_MS (5000): how often the input lag is read from the broker
 * @param brokerCallTimeoutMs   INPUT_LAG_TIMEOUT_MS (5000): longest wait for the broker's offsets
 */
public record MetricsSettings(long kafkaMetricsRefreshMs, long inputLagRefreshMs, long brokerCallTimeoutMs) {

    public MetricsSettings {
        if (kafkaMetricsRefreshMs < 100 || inputLagRefreshMs < 100 || brokerCallTimeoutMs < 100) {
            throw new IllegalArgumentException("METRICS_REFRESH_MS, INPUT_LAG_REFRESH_MS and INPUT_LAG_TIMEOUT_MS must be at least 100");
        }
    }

    public static MetricsSettings fromEnv(Map<String, String> env) {
        return new MetricsSettings(longValue(env, "METRICS_REFRESH_MS", 10_000), longValue(env, "INPUT_LAG_REFRESH_MS", 5_000),
                longValue(env, "INPUT_LAG_TIMEOUT_MS", 5_000));
    }

    private static long longValue(Map<String, String> env, String name, long fallback) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + value + "'");
        }
    }
}
