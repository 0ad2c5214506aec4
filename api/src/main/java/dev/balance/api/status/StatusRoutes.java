package dev.balance.api.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.balance.api.auth.Access;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsMetadata;

/**
 * The status page of a node, for a deployment without Grafana: {@code GET /} serves a small page
 * (static files from the jar: HTML, CSS and hand-written SVG charts in plain JavaScript, nothing
 * from a CDN), which reads {@code GET /api/v1/status} every few seconds. That endpoint is a read of
 * what this node's meters and Kafka Streams metadata already hold; it is cheap enough to poll.
 */
public final class StatusRoutes {

    public static final String PAGE_PATH = "/";
    public static final String ASSETS_PATH = "/status/{file}";
    public static final String DATA_PATH = "/api/v1/status";

    /** The page's files, read once from the jar; only these are served. */
    private static final Map<String, String> ASSETS = Map.of(
            "index.html", "text/html; charset=utf-8",
            "status.js", "text/javascript; charset=utf-8",
            "status.css", "text/css; charset=utf-8");

    private final Map<String, byte[]> assets;
    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final KafkaStreams streams;
    private final String inputTopic;
    private final String self;
    private final BooleanSupplier ready;

    /**
     * @param self       this node's advertised host:port
     * @param inputTopic the topic whose partitions are listed per node
     */
    public StatusRoutes(ObjectMapper mapper, MeterRegistry registry, KafkaStreams streams, String inputTopic, String self,
                        BooleanSupplier ready) {
        this.mapper = mapper;
        this.registry = registry;
        this.streams = streams;
        this.inputTopic = inputTopic;
        this.self = self;
        this.ready = ready;
        Map<String, byte[]> files = new HashMap<>();
        ASSETS.keySet().forEach(file -> files.put(file, read(file)));
        this.assets = Map.copyOf(files);
    }

    public void register(RoutesConfig routes) {
        // The page and its files are static and hold no data; the data is a read, signed where reads are.
        routes.get(PAGE_PATH, ctx -> asset(ctx, "index.html"), Access.PUBLIC);
        routes.get(ASSETS_PATH, ctx -> asset(ctx, ctx.pathParam("file")), Access.PUBLIC);
        routes.get(DATA_PATH, this::status, Access.READ);
    }

    private void asset(Context ctx, String file) {
        byte[] body = assets.get(file);
        if (body == null) {
            ctx.status(404).contentType("application/json")
                    .result("{\"success\":false,\"error\":\"NOT_FOUND\",\"error_message\":\"no such file\"}");
            return;
        }
        ctx.header("Cache-Control", "no-cache").contentType(ASSETS.get(file)).result(body);
    }

    private void status(Context ctx) {
        ObjectNode body = mapper.createObjectNode();
        body.put("success", true);
        body.put("node", self);
        body.put("ready", ready.getAsBoolean());
        body.put("state", streams.state().name());
        body.put("time_ms", System.currentTimeMillis());
        ArrayNode verdicts = body.putArray("verdicts");
        for (FunctionCounter counter : registry.find("balance_verdicts").functionCounters()) {
            verdicts.addObject().put("status", counter.getId().getTag("status"))
                    .put("reason", counter.getId().getTag("reason")).put("count", (long) counter.count());
        }
        body.put("http_requests", registry.find("balance_http_requests").timers().stream().mapToLong(Timer::count).sum());
        putLatency(body.putObject("verdict_latency"));
        body.put("input_lag_records", gauge("balance_input_lag_records"));
        ObjectNode sinks = body.putObject("sink_lag_records");
        sinks.put("mysql", gauge("balance_sink_mysql_consumer_lag"));
        sinks.put("redis", gauge("balance.sink.redis.consumer.lag"));
        putCluster(body.putArray("cluster"));
        ctx.contentType("application/json").result(body.toString());
    }

    /** Cumulative counts per latency bucket (upper bound in ms): the page takes differences between polls. */
    private void putLatency(ObjectNode latency) {
        Timer timer = registry.find("balance_verdict_latency").timer();
        ArrayNode buckets = latency.putArray("buckets");
        if (timer == null) {
            latency.put("count", 0);
            return;
        }
        HistogramSnapshot snapshot = timer.takeSnapshot();
        latency.put("count", snapshot.count());
        for (CountAtBucket bucket : snapshot.histogramCounts()) {
            buckets.addArray().add(bucket.bucket(TimeUnit.MILLISECONDS)).add((long) bucket.count());
        }
    }

    /** A gauge's value, or null when no such meter runs in this process (a sink elsewhere). */
    private Long gauge(String name) {
        Gauge gauge = registry.find(name).gauge();
        return gauge == null || Double.isNaN(gauge.value()) ? null : (long) gauge.value();
    }

    private void putCluster(ArrayNode cluster) {
        if (streams.state() != KafkaStreams.State.RUNNING && streams.state() != KafkaStreams.State.REBALANCING) {
            return;
        }
        for (StreamsMetadata member : streams.metadataForAllStreamsClients()) {
            ObjectNode node = cluster.addObject();
            node.put("node", member.hostInfo().host() + ":" + member.hostInfo().port());
            node.put("self", self.equals(member.hostInfo().host() + ":" + member.hostInfo().port()));
            partitions(node.putArray("active"), member.topicPartitions());
            partitions(node.putArray("standby"), member.standbyTopicPartitions());
        }
    }

    private void partitions(ArrayNode into, Set<TopicPartition> partitions) {
        new TreeSet<>(partitions.stream().filter(p -> p.topic().equals(inputTopic)).map(TopicPartition::partition)
                .toList()).forEach(into::add);
    }

    private static byte[] read(String file) {
        try (InputStream in = StatusRoutes.class.getResourceAsStream("/status/" + file)) {
            if (in == null) {
                throw new IllegalStateException("status page file missing from the jar: " + file);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
