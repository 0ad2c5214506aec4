package dev.balance.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PromQlTest {

    @Test
    void findsTheMetricsOfAnExpressionButNotItsFunctionsLabelsOrKeywords() {
        String expression = """
                histogram_quantile(0.95, sum by (instance, le) (rate(balance_verdict_latency_seconds_bucket[5m]))) > 0.05
                and on (instance) sum by (instance) (increase(balance_verdicts_total{status="REJECTED",reason=~"A|B"}[2m])) == 0
                or up{job="balance-node"} == 0 or max(kafka_stream_state_block_cache_usage) / 1e9 > 1
                """;
        assertThat(PromQl.metricNames(expression)).containsExactly("balance_verdict_latency_seconds_bucket",
                "balance_verdicts_total", "kafka_stream_state_block_cache_usage", "up");
    }
}
