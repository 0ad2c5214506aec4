package dev.balance.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The checked-in monitoring and deployment files, checked by the tools that read them when those
 * are installed (Debian: prometheus, which brings promtool; the docker client). A missing tool
 * skips its check with the reason printed.
 */
class MonitoringConfigIT {

    private static final Duration TOOL_LIMIT = Duration.ofMinutes(2);

    @Test
    void thePrometheusConfigurationIsValid() {
        Path promtool = tool("promtool", "Debian package prometheus");
        Tools.Run run = Tools.run(List.of(promtool.toString(), "check", "config", "prometheus.yml"),
                Tools.MONITORING.resolve("prometheus"), TOOL_LIMIT);
        assertThat(run.exitCode()).as(run.output()).isZero();
    }

    @Test
    void theAlertRulesAreValid() {
        Path promtool = tool("promtool", "Debian package prometheus");
        Tools.Run run = Tools.run(List.of(promtool.toString(), "check", "rules", "alerts.yml"),
                Tools.MONITORING.resolve("prometheus"), TOOL_LIMIT);
        assertThat(run.exitCode()).as(run.output()).isZero();
    }

    @Test
    void everyAlertFiresOnItsUnitTestHistoryAndStaysQuietOnAHealthyOne() {
        Path promtool = tool("promtool", "Debian package prometheus");
        Tools.Run run = Tools.run(List.of(promtool.toString(), "test", "rules", "alerts.test.yml"),
                Tools.MONITORING.resolve("prometheus"), TOOL_LIMIT);
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).contains("SUCCESS");
    }

    @Test
    void theComposeFileIsValid() {
        List<String> compose = composeCommand();
        assumeTrue(!compose.isEmpty(), () -> Tools.skipping("neither the docker compose plugin nor docker-compose is installed"));
        List<String> command = new java.util.ArrayList<>(compose);
        command.addAll(List.of("-f", "docker-compose.yml", "config", "--quiet"));
        Tools.Run run = Tools.run(command, Tools.REPOSITORY, TOOL_LIMIT);
        assertThat(run.exitCode()).as(run.output()).isZero();
    }

    /** {@code docker compose} when the plugin is there, else the standalone {@code docker-compose}, else none. */
    private static List<String> composeCommand() {
        Optional<Path> docker = Tools.onPath("docker");
        if (docker.isPresent() && Tools.run(List.of(docker.get().toString(), "compose", "version"), Tools.REPOSITORY,
                TOOL_LIMIT).exitCode() == 0) {
            return List.of(docker.get().toString(), "compose");
        }
        return Tools.onPath("docker-compose").map(path -> List.of(path.toString())).orElse(List.of());
    }

    @Test
    void theLokiConfigurationIsValid() {
        Path loki = tool("loki", "Grafana Loki");
        Tools.Run version = Tools.run(List.of(loki.toString(), "-version"), Tools.MONITORING, TOOL_LIMIT);
        // Debian's package named loki is a genetics program, not Grafana Loki.
        assumeTrue(version.output().contains("loki, version"),
                () -> Tools.skipping("the loki on PATH is not Grafana Loki (" + firstLine(version.output()) + ")"));
        Tools.Run run = Tools.run(List.of(loki.toString(), "-config.file=loki/loki.yml", "-verify-config"),
                Tools.MONITORING, TOOL_LIMIT);
        assertThat(run.exitCode()).as(run.output()).isZero();
    }

    private static Path tool(String name, String from) {
        Optional<Path> path = Tools.onPath(name);
        assumeTrue(path.isPresent(), () -> Tools.skipping(name + " is not installed (" + from + "); check not run"));
        return path.get();
    }

    private static String firstLine(String text) {
        String trimmed = text.strip();
        int end = trimmed.indexOf('\n');
        return end < 0 ? trimmed : trimmed.substring(0, end);
    }
}
