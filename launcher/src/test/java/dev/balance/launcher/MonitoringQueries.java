package dev.balance.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The PromQL expressions of the checked-in dashboards and alert rules. */
final class MonitoringQueries {

    /** The range the test's Prometheus (scraping every second) uses for Grafana's $__rate_interval. */
    static final String RATE_INTERVAL = "30s";

    record Query(String source, String expression) {
    }

    private MonitoringQueries() {
    }

    /** Every Prometheus target of every panel of every dashboard, with Grafana's variables filled in. */
    static List<Query> dashboardPanels() {
        List<Query> queries = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(Tools.MONITORING.resolve("grafana/dashboards"), "*.json")) {
            for (Path file : files) {
                JsonNode dashboard = new ObjectMapper().readTree(file.toFile());
                collectPanels(file.getFileName().toString(), dashboard.path("panels"), queries);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return queries;
    }

    private static void collectPanels(String file, JsonNode panels, List<Query> queries) {
        for (JsonNode panel : panels) {
            collectPanels(file, panel.path("panels"), queries);
            for (JsonNode target : panel.path("targets")) {
                String datasource = target.path("datasource").path("type").asText(panel.path("datasource").path("type").asText());
                if (datasource.equals("prometheus")) {
                    queries.add(new Query(file + ": " + panel.path("title").asText() + " [" + target.path("refId").asText() + "]",
                            target.path("expr").asText().replace("$__rate_interval", RATE_INTERVAL)));
                }
            }
        }
    }

    /** The expression of every alert rule. */
    static List<Query> alertRules() {
        List<Query> queries = new ArrayList<>();
        try {
            JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(Tools.MONITORING.resolve("prometheus/alerts.yml").toFile());
            for (JsonNode group : rules.path("groups")) {
                for (JsonNode rule : group.path("rules")) {
                    String labels = rule.path("labels").path("sink").asText(rule.path("labels").path("source").asText(""));
                    queries.add(new Query(rule.path("alert").asText() + (labels.isEmpty() ? "" : " (" + labels + ")"),
                            rule.path("expr").asText().strip()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return queries;
    }
}
