package dev.balance.api.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.balance.api.NodeConfig.TlsFiles;
import dev.balance.api.auth.Access;
import dev.balance.api.query.Forwarder;
import dev.balance.api.query.ReadBatcher;
import dev.balance.api.query.Readiness;
import dev.balance.api.status.StatusRoutes;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API of a node: every route in one place with the {@link Access} it needs, every error
 * mapped to JSON in one place. Nothing leaks a stack trace; an unexpected exception is logged and
 * answered with a plain 500. Access follows the route's declaration, not its HTTP method, so a
 * read served through a POST declares {@link Access#READ}.
 */
public final class HttpApi {

    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
    private static final String JSON = "application/json";
    /** Set once an answer was written, so the 404 fallback never writes a second one. */
    private static final String ANSWERED = "balance.answered";

    private HttpApi() {
    }

    /**
     * Where and how the API listens.
     *
     * @param tls           HTTPS files, or null for plain HTTP
     * @param serveMetrics  false when /metrics has a port of its own ({@link #metricsServer})
     * @param drainMs       at a stop, how long requests in flight may take to finish (new ones get 503)
     */
    public record Listener(String host, int port, TlsFiles tls, boolean serveMetrics, long drainMs) {
    }

    public static Javalin create(ChangeRoutes changes, QueryRoutes queries, LookupRoutes lookups, Responses responses,
                                 ObjectMapper mapper, PrometheusMeterRegistry registry, Supplier<Readiness.Report> ready,
                                 int bodyBytesMax, StatusRoutes status, AuthGate gate, StopGate stopGate,
                                 Listener listener) {
        return Javalin.create(config -> {
            config.http.maxRequestSize = bodyBytesMax;
            // Answers are a few hundred bytes of JSON: compressing them costs more than it saves, and
            // Javalin's compressing stream showed up in the read path's profile.
            config.http.compressionStrategy = CompressionStrategy.NONE;
            config.startup.showJavalinBanner = false;
            config.jetty.host = listener.host();
            config.jetty.port = listener.port();
            // A connector of our own replaces Javalin's plain one: HTTPS when configured, and as many
            // selecting threads as cores, since single reads are answered on them (ReadLane).
            if (listener.tls() != null) {
                config.jetty.addConnector((server, http) -> Tls.connector(server, http, listener.tls(), listener.host(),
                        listener.port()));
            } else {
                config.jetty.addConnector((server, http) -> connector(server, listener.host(), listener.port(),
                        new org.eclipse.jetty.server.HttpConnectionFactory(http)));
            }
            // Successful local reads are answered before the servlet layer; the rest reaches the routes.
            ReadLane lane = new ReadLane(queries, lookups, gate, responses, registry, bodyBytesMax);
            // Single changes decided here are taken before the servlet layer too; Javalin nests its
            // servlet context under the innermost wrapper.
            lane.setHandler(new ChangeLane(changes, responses, gate, registry, bodyBytesMax));
            config.jetty.modifyServer(server -> {
                stopGate.setHandler(lane);
                server.setHandler(stopGate);
                drainOnStop(server, listener.drainMs());
            });
            config.requestLogger.http((ctx, ms) -> {
                String route = route(ctx);
                requestTimer(registry, ctx.method().name(), route, ctx.statusCode())
                        .record((long) (ms * 1_000_000), TimeUnit.NANOSECONDS);
                RequestLog.finished(ctx, route, ms);
            });
            config.routes.before(RequestLog::start);
            config.routes.beforeMatched(gate::check);
            config.routes.post(ChangeRoutes.CHANGE_PATH, changes::change, Access.WRITE);
            config.routes.post(ChangeRoutes.BATCH_PATH, changes::batch, Access.WRITE);
            config.routes.get(ReadLane.BALANCE_ROUTE, queries::balance, Access.READ);
            config.routes.get(ReadLane.BALANCES_ROUTE, queries::balances, Access.READ);
            config.routes.get(ReadLane.TRANSACTION_ROUTE, queries::transaction, Access.READ);
            // A read with a body: a POST that read keys may call.
            config.routes.post(LookupRoutes.LOOKUP_PATH, lookups::lookup, Access.READ);
            // Reads another node forwards as a group; the lane answers them when their body came with the request.
            config.routes.post(ReadBatcher.PATH, ctx -> write(ctx, 200, lane.groupAnswer(ctx.bodyAsBytes())),
                    Access.READ);
            status.register(config.routes);
            config.routes.get("/health", ctx -> send(ctx, 200, mapper.createObjectNode().put("status", "UP")), Access.PUBLIC);
            config.routes.get("/ready", ctx -> ready(ctx, mapper, ready.get()), Access.PUBLIC);
            if (listener.serveMetrics()) {
                config.routes.get("/metrics", ctx -> scrape(ctx, registry), Access.PUBLIC);
            }
            config.routes.exception(ApiException.class, (error, ctx) -> sendError(ctx, responses, error));
            config.routes.exception(HttpResponseException.class, (error, ctx) -> sendError(ctx, responses,
                    fromJavalin(error)));
            config.routes.exception(UncheckedIOException.class, (error, ctx) ->
                    // The client went away while its answer was written; there is nobody left to answer.
                    LOG.debug("answer to {} {} not delivered: {}", ctx.method(), ctx.path(), error.getMessage()));
            config.routes.exception(Exception.class, (error, ctx) -> {
                RequestLog.withIds(ctx, () -> LOG.error("unexpected error on {} {}", ctx.method(), ctx.path(), error));
                sendError(ctx, responses, new ApiException(500, "INTERNAL", "internal error; nothing was applied unless a verdict said so"));
            });
            config.routes.error(404, ctx -> {
                if (ctx.result() == null && ctx.attribute(ANSWERED) == null) {
                    sendError(ctx, responses, new ApiException(404, "NOT_FOUND", "no route " + ctx.method() + " " + ctx.path()));
                }
            });
            config.routes.error(405, ctx -> sendError(ctx, responses,
                    new ApiException(405, "METHOD_NOT_ALLOWED", ctx.method() + " is not allowed on " + ctx.path())));
        });
    }

    /**
     * 200 when the node can serve every partition it owns, else 503 with Retry-After and the
     * partitions it cannot serve yet (and the restores under way). Either way the Streams state and
     * the owned partitions.
     */
    private static void ready(Context ctx, ObjectMapper mapper, Readiness.Report report) {
        ObjectNode body = mapper.createObjectNode();
        if (!report.ready()) {
            body.put("success", false);
            body.put("error", "NOT_READY");
            body.put("error_message", !"RUNNING".equals(report.state())
                    ? "the node's stream processing is not running (" + report.state() + ")"
                    : "the node cannot serve partitions " + report.notServing() + " yet");
        } else {
            body.put("status", "READY");
        }
        body.put("state", report.state());
        report.owned().forEach(body.putArray("partitions")::add);
        report.transactionalIds().forEach(body.putArray("transactional_ids")::add);
        report.groupInstanceIds().forEach(body.putArray("group_instance_ids")::add);
        if (!report.ready()) {
            report.notServing().forEach(body.putArray("not_serving")::add);
            var restoring = body.putArray("restoring");
            for (Readiness.Restoring restore : report.restoring()) {
                restoring.addObject().put("partition", restore.partition())
                        .put("restored_records", restore.restoredRecords())
                        .put("total_records", restore.totalRecords());
            }
            ctx.header("Retry-After", "1");
        }
        send(ctx, report.ready() ? 200 : 503, body);
    }

    /**
     * A stop drains: connectors stop accepting, idle kept-alive connections close (clients retry
     * them on another node), and requests in flight (a change waiting for its verdict, a forwarded
     * read) finish, for up to {@code drainMs}, before the rest is closed. With Jetty's default of no
     * wait, a stop cut waiting requests off with an HTML 500.
     */
    static void drainOnStop(org.eclipse.jetty.server.Server server, long drainMs) {
        server.setStopTimeout(drainMs);
    }

    /**
     * Threads selecting the connections of a listener: as many as cores (at least two, at most
     * eight). Jetty's default, half the cores, suits handlers that hand every request to another
     * thread; the read lane answers on the selecting thread itself.
     */
    static int selectors() {
        return Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Connections the kernel holds for a listener until Jetty accepts them (the kernel caps it at
     * net.core.somaxconn). Jetty's default, 0, leaves the JDK's 50: a burst of new connections (clients
     * coming back after a node restart, a load balancer opening its pool) overflowed it under load,
     * and each dropped connection attempt waited a second for its SYN to be sent again (benchmark
     * requests of 1.0-1.5 s while the rest took milliseconds, with the kernel counting listen overflows).
     */
    static final int ACCEPT_QUEUE_SIZE = 1024;

    /** A plain or TLS listener's connector with this node's selecting threads and accept queue. */
    static org.eclipse.jetty.server.ServerConnector connector(org.eclipse.jetty.server.Server server, String host,
                                                               int port, org.eclipse.jetty.server.ConnectionFactory... factories) {
        org.eclipse.jetty.server.ServerConnector connector = new org.eclipse.jetty.server.ServerConnector(
                server, -1, selectors(), factories);
        connector.setHost(host);
        connector.setPort(port);
        connector.setAcceptQueueSize(ACCEPT_QUEUE_SIZE);
        return connector;
    }

    /** /metrics alone, plain HTTP, on a port of its own (METRICS_PORT) that a deployment keeps internal. */
    public static Javalin metricsServer(PrometheusMeterRegistry registry, String host, int port) {
        return Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.routes.get("/metrics", ctx -> scrape(ctx, registry));
        }).start(host, port);
    }

    /** The timer of one route, method and status (the registry keeps one per combination). */
    static Timer requestTimer(PrometheusMeterRegistry registry, String method, String route, int status) {
        return Timer.builder("balance_http_requests")
                .tag("method", method)
                .tag("route", route)
                .tag("status", Integer.toString(status))
                .publishPercentileHistogram()
                .register(registry);
    }

    private static void scrape(Context ctx, PrometheusMeterRegistry registry) {
        ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(registry.scrape());
    }

    /** The matched route pattern, so metrics have one series per route rather than per account. */
    private static String route(Context ctx) {
        var matched = ctx.endpoints().list();
        return matched.isEmpty() ? "unmatched" : matched.get(matched.size() - 1).path;
    }

    static void send(Context ctx, int status, ObjectNode body) {
        write(ctx, status, body.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes the answer to the response at once, with its length. Javalin's result path would copy
     * it from a stream through a fresh buffer; in the read path's profile that copy was a quarter of
     * the HTTP threads' time.
     */
    static void write(Context ctx, int status, byte[] body) {
        ctx.attribute(ANSWERED, Boolean.TRUE);
        ctx.status(status).contentType(JSON);
        ctx.res().setContentLength(body.length);
        try {
            ctx.res().getOutputStream().write(body);
        } catch (IOException e) {
            // The client went away; there is nobody left to answer.
            throw new UncheckedIOException(e);
        }
    }

    static void relay(Context ctx, Forwarder.Response response) {
        if (response.location() != null) {
            ctx.header("Location", response.location());
        }
        if (response.retryAfter() != null) {
            ctx.header("Retry-After", response.retryAfter());
        }
        write(ctx, response.status(), response.body());
    }

    private static void sendError(Context ctx, Responses responses, ApiException error) {
        if (error.retryAfterS() != null) {
            ctx.header("Retry-After", Integer.toString(error.retryAfterS()));
        }
        Responses.Rendered rendered = responses.error(error);
        send(ctx, rendered.status(), rendered.body());
    }

    private static ApiException fromJavalin(HttpResponseException error) {
        int status = error.getStatus();
        if (status == 413) {
            return new ApiException(413, "BODY_TOO_LARGE", "the request body is larger than allowed");
        }
        if (status == 404) {
            return new ApiException(404, "NOT_FOUND", "no route " + error.getMessage());
        }
        return new ApiException(status, status >= 500 ? "INTERNAL" : "BAD_REQUEST", error.getMessage() == null
                ? "request refused" : error.getMessage(), Map.of(), null);
    }
}
