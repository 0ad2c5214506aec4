package dev.balance.launcher;

import static dev.balance.launcher.LiveStack.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One live process (node + both sinks) under a little load, looked at the way operators do:
 * its Prometheus exposition, a real Prometheus evaluating the dashboards' and alerts' queries,
 * and the status page in a real headless browser.
 */
class LiveStackIT {

    private static LiveStack stack;
    private static Load load;

    @BeforeAll
    static void startStackUnderLoad() {
        stack = LiveStack.start();
        load = Load.start(stack);
    }

    @AfterAll
    static void stop() {
        if (load != null) {
            load.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void aScrapeOfARunningNodeShowsEveryMetricOperatorsNeed() throws IOException {
        // Given applied and rejected changes have been decided and written by both sinks
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            Exposition scrape = Exposition.parse(stack.get("/metrics").text());
            assertThat(scrape.sum("balance_verdicts_total", Map.of("status", "REJECTED"))).isPositive();
            assertThat(scrape.sum("balance_sink_mysql_rows_total", Map.of())).isPositive();
            assertThat(scrape.sum("balance_sink_redis_keys_written_total", Map.of())).isPositive();
            assertThat(scrape.has("kafka_stream_state_block_cache_usage")).isTrue();
        });

        // When the node's /metrics is scraped
        LiveStack.Answer answer = stack.get("/metrics");
        Exposition scrape = Exposition.parse(answer.text());
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "metrics-scrape.txt"), answer.text());
        Files.write(Path.of("target", "metrics-names.txt"), new TreeSet<>(scrape.names()));

        // Then it holds every metric of the monitoring section of the README
        assertThat(answer.status()).isEqualTo(200);
        assertThat(scrape.names()).containsAll(MetricNames.REQUIRED);
        assertThat(scrape.samples("balance_http_requests_seconds_bucket"))
                .anySatisfy(s -> assertThat(s.labels()).containsEntry("route", "/api/v1/balance/change")
                        .containsEntry("status", "200").containsKey("le"));
        assertThat(scrape.samples("balance_verdicts_total")).extracting(s -> s.labels().get("reason"))
                .contains("APPLIED", "INSUFFICIENT_FUNDS", "INSUFFICIENT_FROZEN");
        assertThat(scrape.sum("balance_verdict_latency_seconds_count", Map.of())).isPositive();
        assertThat(scrape.sum("balance_consumer_success_total", Map.of())).isPositive();
    }
}
