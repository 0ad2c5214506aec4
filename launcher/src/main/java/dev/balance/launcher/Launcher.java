package dev.balance.launcher;

import dev.balance.api.BalanceNode;
import dev.balance.api.NodeConfig;
import dev.balance.api.metrics.JvmMeters;
import dev.balance.sink.mysql.MysqlSink;
import dev.balance.sink.mysql.MysqlSinkConfig;
import dev.balance.sink.redis.RedisSink;
import dev.balance.sink.redis.RedisSinkConfig;
import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process, roles chosen by the environment: START_API (true), START_SINK_MYSQL and
 * START_SINK_REDIS (auto: on when the store answers at its configured address, else off; true
 * forces on; false off). Stops every role in reverse order on SIGTERM or Ctrl-C.
 */
public final class Launcher {

    private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);
    private static final int PROBE_TIMEOUT_MS = 1_000;

    private Launcher() {
    }

    public static void main(String[] args) throws InterruptedException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        JvmMeters.bindTo(registry);
        CountDownLatch stopped = new CountDownLatch(1);
        List<AutoCloseable> roles = new CopyOnWriteArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopAll(roles);
            stopped.countDown();
        }, "launcher-shutdown"));
        try {
            start(System.getenv(), registry, roles);
        } catch (RuntimeException e) {
            LOG.error("start failed: {}", e.getMessage(), e);
            System.exit(1);
        }
        stopped.await();
    }

    /**
     * Starts the roles the environment asks for, all on one meter registry, adding each to
     * {@code roles} as it starts (so a failure part-way leaves the started ones to be stopped).
     */
    static void start(Map<String, String> environment, PrometheusMeterRegistry registry, List<AutoCloseable> roles) {
        Map<String, String> env = withTopicDefaults(environment);
        if (flag(env, "START_API", "true").equals("true")) {
            roles.add(new BalanceNode(NodeConfig.fromEnv(env), registry).start());
        } else {
            roles.add(metricsOnly(registry, Integer.parseInt(env.getOrDefault("HTTP_PORT", "8080"))));
        }
        startMysqlSink(env, registry, roles);
        startRedisSink(env, registry, roles);
    }

    private static void startMysqlSink(Map<String, String> env, PrometheusMeterRegistry registry, List<AutoCloseable> roles) {
        String mode = flag(env, "START_SINK_MYSQL", "auto");
        MysqlSinkConfig config = MysqlSinkConfig.fromEnv(env);
        URI address = URI.create(config.mysqlUrl().substring("jdbc:".length()));
        if (decide("MySQL sink", mode, address.getHost(), address.getPort() < 0 ? 3306 : address.getPort())) {
            MysqlSink sink = new MysqlSink(config, registry);
            sink.start();
            roles.add(sink);
        }
    }

    private static void startRedisSink(Map<String, String> env, PrometheusMeterRegistry registry, List<AutoCloseable> roles) {
        String mode = flag(env, "START_SINK_REDIS", "auto");
        URI address = URI.create(env.getOrDefault("REDIS_URL", "redis://127.0.0.1:6379"));
        if (decide("Redis sink", mode, address.getHost(), address.getPort() < 0 ? 6379 : address.getPort())) {
            RedisSink sink = new RedisSink(RedisSinkConfig.fromEnv(env), registry);
            sink.start();
            roles.add(sink);
        }
    }

    /** Says at start which optional roles run and why. */
    private static boolean decide(String role, String mode, String host, int port) {
        switch (mode) {
            case "true" -> {
                LOG.info("{}: on (forced), writing to {}:{}", role, host, port);
                return true;
            }
            case "false" -> {
                LOG.info("{}: off (disabled)", role);
                return false;
            }
            case "auto" -> {
                boolean reachable = reachable(host, port);
                LOG.info("{}: {} ({}:{} {})", role, reachable ? "on" : "off", host, port,
                        reachable ? "is reachable" : "is not reachable; set the URL or start it to enable");
                return reachable;
            }
            default -> throw new IllegalArgumentException(role + " mode must be auto, true or false, got '" + mode + "'");
        }
    }

    private static boolean reachable(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), PROBE_TIMEOUT_MS);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A process without the API still serves /health and /metrics for its sinks. */
    private static AutoCloseable metricsOnly(PrometheusMeterRegistry registry, int port) {
        Javalin http = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.routes.get("/health", ctx -> ctx.contentType("application/json").result("{\"status\":\"UP\"}"));
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(registry.scrape()));
        }).start(port);
        LOG.info("sink process serving /health and /metrics on port {}", http.port());
        return http::stop;
    }

    /** The sinks read the same topics as the node, including the node's TOPIC_PREFIX. */
    private static Map<String, String> withTopicDefaults(Map<String, String> env) {
        Map<String, String> merged = new HashMap<>(env);
        String prefix = env.getOrDefault("TOPIC_PREFIX", "");
        merged.putIfAbsent("BALANCE_EVENTS_TOPIC", prefix + "balance-events");
        merged.putIfAbsent("BALANCE_DLQ_TOPIC", prefix + "balance-dlq");
        return Map.copyOf(merged);
    }

    private static String flag(Map<String, String> env, String name, String fallback) {
        return env.getOrDefault(name, fallback).trim().toLowerCase(Locale.ROOT);
    }

    static void stopAll(List<AutoCloseable> roles) {
        for (int i = roles.size() - 1; i >= 0; i--) {
            try {
                roles.get(i).close();
            } catch (Exception e) {
                LOG.warn("stopping {} failed: {}", roles.get(i).getClass().getSimpleName(), e.toString());
            }
        }
        LOG.info("stopped");
    }
}
