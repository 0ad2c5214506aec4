package dev.balance.launcher;

import static dev.balance.launcher.LiveStack.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
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
        // Given applied and rejected changes have been decided and written by both sinks, and the JVM
        // (the node runs in this one) has paused for a collection at least once: the GC pause timer
        // appears with the first pause, and a short run may not have needed one yet
        System.gc();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertThat(Exposition.parse(stack.get("/metrics").text()).has("jvm_gc_pause_seconds_count")).isTrue();
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

    @Test
    void everyAnswerCarriesARequestIdTheCallersOwnWhenItSentOne() {
        LiveStack.Answer given = stack.post("/api/v1/balance/change", change("rid-1", 77, "BTC", "DEPOSIT", "1"),
                Map.of("X-Request-Id", "client-req.42"));
        LiveStack.Answer made = stack.get("/api/v1/balance/77/BTC");
        LiveStack.Answer refused = stack.post("/api/v1/balance/change", change("rid-2", 77, "BTC", "DEPOSIT", "1"),
                Map.of("X-Request-Id", "not a token, so not echoed"));

        assertThat(given.headers().firstValue("X-Request-Id")).contains("client-req.42");
        assertThat(made.headers().firstValue("X-Request-Id")).get().asString().matches("[0-9a-f]{16}");
        assertThat(refused.headers().firstValue("X-Request-Id")).get().asString().matches("[0-9a-f]{16}");
    }

    @Test
    void prometheusFindsDataForEveryDashboardPanelAndEveryMetricOfEveryAlert() throws IOException {
        Optional<Path> binary = Tools.onPath("prometheus");
        assumeTrue(binary.isPresent(), () -> Tools.skipping("prometheus is not installed (Debian package prometheus); live check not run"));
        List<MonitoringQueries.Query> panels = MonitoringQueries.dashboardPanels();
        List<MonitoringQueries.Query> alerts = MonitoringQueries.alertRules();
        assertThat(panels).hasSizeGreaterThan(20);
        assertThat(alerts).hasSizeGreaterThanOrEqualTo(10);

        // Given a real Prometheus scraping the live node every second, with the alert rules loaded
        Path workDir = Path.of("target", "prometheus-" + UUID.randomUUID().toString().substring(0, 8));
        try (PrometheusProcess prometheus = PrometheusProcess.start(binary.get(), workDir, "127.0.0.1:" + stack.port,
                Tools.MONITORING.resolve("prometheus/alerts.yml"))) {

            // Then every panel's expression returns data, under the load
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() ->
                    assertThat(withoutData(prometheus, panels)).as("panels without data").isEmpty());

            // And every alert expression is valid PromQL whose every metric has series
            List<String> problems = new ArrayList<>();
            for (MonitoringQueries.Query alert : alerts) {
                JsonNode answer = prometheus.query(alert.expression());
                if (!answer.path("status").asText().equals("success")) {
                    problems.add(alert.source() + ": " + answer.path("error").asText());
                }
                for (String metric : PromQl.metricNames(alert.expression())) {
                    if (prometheus.query("group(" + metric + ")").path("data").path("result").isEmpty()) {
                        problems.add(alert.source() + ": no series of " + metric);
                    }
                }
            }
            assertThat(problems).as("alert expressions").isEmpty();

            // And Prometheus evaluates every rule without error
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                List<String> rules = new ArrayList<>();
                for (JsonNode group : prometheus.getJson("/api/v1/rules").path("data").path("groups")) {
                    for (JsonNode rule : group.path("rules")) {
                        rules.add(rule.path("name").asText() + " " + rule.path("health").asText() + " "
                                + rule.path("lastError").asText());
                    }
                }
                assertThat(rules).hasSize(alerts.size()).allSatisfy(rule -> assertThat(rule).endsWith(" ok "));
            });
        }
    }

    private static List<String> withoutData(PrometheusProcess prometheus, List<MonitoringQueries.Query> queries) {
        List<String> empty = new ArrayList<>();
        for (MonitoringQueries.Query query : queries) {
            JsonNode answer = prometheus.query(query.expression());
            if (!answer.path("status").asText().equals("success")) {
                empty.add(query.source() + ": " + answer.path("error").asText() + " in " + query.expression());
            } else if (answer.path("data").path("result").isEmpty()) {
                empty.add(query.source() + ": " + query.expression());
            }
        }
        return empty;
    }

    @Test
    void theStatusPageDrawsLiveChartsListsTheClusterAndLooksUpABalance() throws IOException {
        Optional<Path> binary = Tools.onPath("chromium");
        assumeTrue(binary.isPresent(), () -> Tools.skipping("chromium is not installed (Debian package chromium); browser test not run"));

        // Given an account with a balance set up by the test
        long account = 900_000_000L + (System.nanoTime() & 0xffffff);
        LiveStack.Answer deposit = stack.post("/api/v1/balance/change", change("page-" + account, account, "BTC", "DEPOSIT", "123.45"));
        assertThat(deposit.status()).as(deposit.text()).isEqualTo(200);

        // When the status page is opened in a real headless browser with a lookup of that account
        Path workDir = Path.of("target", "chromium-" + UUID.randomUUID().toString().substring(0, 8));
        try (HeadlessChromium browser = HeadlessChromium.start(binary.get(), workDir, 1280, 1100)) {
            browser.open(stack.baseUrl() + "/?account=" + account + "&currency=BTC");

            // Then the charts draw from the node's own data as it refreshes
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                assertThat(points(browser, "throughput-chart")).isGreaterThanOrEqualTo(3);
                assertThat(points(browser, "latency-chart")).isGreaterThanOrEqualTo(3);
                assertThat(points(browser, "rejections-chart")).isGreaterThanOrEqualTo(3);
                assertThat(points(browser, "lag-chart")).isGreaterThanOrEqualTo(3);
            });
            assertThat(browser.evaluate("document.querySelectorAll('#throughput-chart path.line').length").asInt()).isPositive();
            assertThat(browser.evaluate("document.getElementById('state').textContent").asText()).isEqualTo("ready");
            assertThat(browser.evaluate("[...document.querySelectorAll('#lag-chart path[data-series]')]"
                    + ".map(p => p.dataset.series).join(',')").asText()).isEqualTo("input,mysql sink,redis sink");

            // And the cluster lists this node with its partitions
            assertThat(browser.evaluate("document.querySelector('#cluster tbody').textContent").asText())
                    .contains("(this node)").contains("0, 1, 2, 3");

            // And the lookup shows the balance
            assertThat(browser.evaluate("document.getElementById('lookup-result').textContent").asText())
                    .contains("BTC").contains("123.45000000");

            // And the page signs reads as the design's signature scheme says, for nodes that require it
            String timestamp = "1700000000000";
            assertThat(browser.evaluate("balanceStatus.signature('s3cret', '" + timestamp
                    + "', 'GET', '/api/v1/balance/42?allow_stale=true', '')").asText())
                    .isEqualTo(hmacSha256Hex("s3cret", timestamp + "\nGET\n/api/v1/balance/42?allow_stale=true\n"));

            browser.screenshot(Path.of("target", "status-page.png"));
        }
        assertThat(Path.of("target", "status-page.png")).isNotEmptyFile();
    }

    private static String hmacSha256Hex(String secret, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How many refreshes a chart of the page shows (the length of its longest series). */
    private static int points(HeadlessChromium browser, String chart) {
        return browser.evaluate("Number(document.getElementById('" + chart + "').dataset.points || 0)").asInt();
    }
}
