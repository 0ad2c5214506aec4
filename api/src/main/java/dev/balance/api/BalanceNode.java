package dev.balance.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.balance.api.auth.Authenticator;
import dev.balance.api.auth.NodeSigner;
import dev.balance.api.http.ApiException;
import dev.balance.api.http.AuthGate;
import dev.balance.api.http.ChangeRoutes;
import dev.balance.api.http.HttpApi;
import dev.balance.api.http.LookupRoutes;
import dev.balance.api.http.QueryRoutes;
import dev.balance.api.http.Requests;
import dev.balance.api.http.Responses;
import dev.balance.api.http.StopGate;
import dev.balance.api.metrics.JvmMeters;
import dev.balance.api.metrics.NodeMetrics;
import dev.balance.api.http.Tls;
import dev.balance.api.query.Forwarder;
import dev.balance.api.query.LocalStores;
import dev.balance.api.query.Ownership;
import dev.balance.api.query.PeerFencer;
import dev.balance.api.query.Readiness;
import dev.balance.api.status.StatusRoutes;
import dev.balance.api.verdict.VerdictWaiters;
import dev.balance.topology.ActiveStores;
import dev.balance.topology.BalanceTopology;
import dev.balance.topology.OutcomeCounters;
import dev.balance.topology.StayingTaskAssignor;
import dev.balance.topology.StreamsSettings;
import dev.balance.topology.TopicSetup;
import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A balance node: its Kafka Streams instance of the topology and its HTTP API. Starts in the
 * order config → topics → streams → producer → HTTP, and stops in reverse.
 */
public final class BalanceNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BalanceNode.class);

    private final NodeConfig config;
    private final PrometheusMeterRegistry registry;
    private final OutcomeCounters counters = new OutcomeCounters();
    private KafkaStreams streams;
    private Producer<Long, byte[]> producer;
    private Javalin http;
    private NodeMetrics metrics;
    private Javalin metricsHttp;
    private Forwarder forwarder;
    private StopGate stopGate;
    private PeerFencer peerFencer;
    private ExecutorService dispatch;
    private ScheduledExecutorService deadlines;
    private Readiness readiness;
    private Ownership ownership;
    private StateRestoreListener restoreObserver;
    /** Threads that render and write answers once verdicts arrive, so that work never runs on stream threads. */
    private static final int DISPATCH_THREADS = 2;

    public BalanceNode(NodeConfig config, PrometheusMeterRegistry registry) {
        this.config = config;
        this.registry = registry;
    }

    public static void main(String[] args) {
        NodeConfig config = NodeConfig.fromEnv(System.getenv());
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        JvmMeters.bindTo(registry);
        BalanceNode node = new BalanceNode(config, registry);
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "node-shutdown"));
        node.start();
    }

    /** Starts every part; if one fails, stops those already started and rethrows. */
    public BalanceNode start() {
        try {
            startParts();
            return this;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void startParts() {
        StreamsSettings settings = config.streams();
        if (!config.credentials().enabled()) {
            LOG.warn("DEV_MODE: no API_KEYS or HMAC_SECRET configured, requests are not authenticated");
        } else {
            LOG.info("requests must be signed: {}", config.credentials());
        }
        LOG.info("Kafka at {} over {}: {}", settings.bootstrapServers(), settings.clientProperties().securityProtocol(),
                settings.clientProperties());
        var created = TopicSetup.ensureTopics(settings.bootstrapServers(), settings.clientProperties(),
                settings.topics(), config.topicPartitions(), settings.replicationFactor(), settings.minInsyncReplicas());
        if (!created.isEmpty()) {
            LOG.info("created topics {}", created);
        }
        dispatch = Executors.newFixedThreadPool(DISPATCH_THREADS, daemonThreads("answer"));
        deadlines = Executors.newSingleThreadScheduledExecutor(daemonThreads("verdict-deadlines"));
        VerdictWaiters waiters = new VerdictWaiters(config.waitersMax());
        ActiveStores activeStores = new ActiveStores();
        streams = new KafkaStreams(BalanceTopology.build(settings, waiters, counters, activeStores),
                settings.toProperties());
        streams.setUncaughtExceptionHandler(error -> {
            if (fenced(error)) {
                // Another process joined the group under this node's NODE_ID. A replaced thread would
                // rejoin and fence that one in turn, and the two would take turns for ever: stop here.
                LOG.error("another node joined the group with this node's NODE_ID {}; node ids must be unique: "
                        + "this node stops processing", config.nodeId(), error);
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            }
            LOG.error("stream thread failed; replacing it (its task restarts from the last commit)", error);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        HostInfo self = new HostInfo(config.advertisedHost(), config.advertisedPort());
        ownership = new Ownership(streams, self, settings.topics().changes());
        // Should this node lead the group after the leader died, the assignor knows where tasks ran.
        ownership.onAssignment(owners -> StayingTaskAssignor.observe(settings.applicationId(), owners));
        // A partition that stops running here (moved away) answers its waiting changes 202 PENDING at
        // once: their verdicts come from the new owner, and a client asking again reaches it.
        activeStores.onClosed(partition -> {
            int released = waiters.movedAway(account -> ownership.partitionIfKnown(account) == partition);
            if (released > 0) {
                LOG.info("partition {} stopped running here: {} changes waiting for a verdict answered 202 PENDING",
                        partition, released);
            }
        });
        readiness = new Readiness(activeStores, self, settings.topics().changes(), restoreObserver,
                settings.groupInstanceId());
        readiness.watch(streams);
        streams.setGlobalStateRestoreListener(readiness);
        // Owners are cached; the cache lives through a rebalance and is dropped when it ends.
        streams.setStateListener((newState, oldState) -> {
            ownership.stateChanged(newState);
            readiness.stateChanged(newState);
        });
        producer = new KafkaProducer<>(producerProperties(settings), new LongSerializer(), new ByteArraySerializer());
        metrics = new NodeMetrics(registry, config.metrics(), settings, streams, producer, counters, waiters, this::ready);

        ObjectMapper mapper = new ObjectMapper();
        AuthGate gate = new AuthGate(config.credentials().enabled()
                ? new Authenticator(config.credentials(), config.signatureWindowMs()) : null,
                System::currentTimeMillis, registry);
        forwarder = new Forwarder(Duration.ofMillis(config.forwardTimeoutMs()), new NodeSigner(config.credentials()),
                config.selfHostPort(), config.tlsEnabled() ? Tls.clientContext(config.tls()) : null);
        Requests requests = new Requests(mapper, gate.enabled());
        Responses responses = new Responses(mapper);
        ChangeSubmitter submitter = new ChangeSubmitter(producer, settings.topics().changes(), waiters, config.verdictWaitMs(),
                deadlines, metrics.verdictLatency());
        // A change for a partition this node does not run right now (restoring, moving) is answered 503
        // at once rather than recorded to wait for a verdict: the client retries, elsewhere or later,
        // instead of holding a connection for up to VERDICT_WAIT_MS.
        submitter.refuseWhen(account -> {
            int partition;
            try {
                partition = ownership.partition(account);
            } catch (ApiException e) {
                return e;
            }
            return activeStores.get(partition) != null ? null : new ApiException(503, "PARTITION_NOT_SERVED",
                    "partition " + partition + " is not served by this node right now (starting, restoring or "
                            + "moving); try again shortly", java.util.Map.of(), 1);
        });
        ChangeRoutes changes = new ChangeRoutes(requests, responses, mapper, settings.currencies(), ownership, submitter,
                forwarder, config.batchSizeMax(), dispatch);
        LocalStores stores = new LocalStores(streams, activeStores);
        QueryRoutes queries = new QueryRoutes(requests, responses, mapper, settings.currencies(), ownership, stores,
                forwarder);
        io.micrometer.core.instrument.FunctionCounter.builder("balance_stale_read_retries", queries,
                        QueryRoutes::staleRetries)
                .description("rounds of asking every copy again after all answered 503, for stale reads during a move")
                .register(registry);
        LookupRoutes lookups = new LookupRoutes(requests, responses, mapper, settings.currencies(), ownership, stores,
                forwarder, config.lookupSizeMax());
        StatusRoutes status = new StatusRoutes(mapper, registry, streams, settings.topics().changes(), config.selfHostPort(),
                this::ready);
        if (config.metricsPort() != 0) {
            metricsHttp = HttpApi.metricsServer(registry, config.httpHost(), config.metricsPort());
            LOG.info("metrics on http://{}:{}/metrics", config.httpHost(), metricsHttp.port());
        }
        // A stop lets a change waiting for its verdict have it (or its 202) before connections close.
        HttpApi.Listener listener = new HttpApi.Listener(config.httpHost(), config.httpPort(), config.tls(),
                config.metricsPort() == 0, config.verdictWaitMs() + 1_000);
        stopGate = new StopGate();
        http = HttpApi.create(changes, queries, lookups, responses, mapper, registry, readiness::report,
                config.bodyBytesMax(), status, gate, stopGate, listener).start();
        // The port is open before the stream threads produce, and stays open until they are closed: the
        // other nodes take a refused connection for a dead node and abort its transactions (PeerFencer).
        LOG.info("joining group {} as static member {} (session timeout {} ms, {} standby replica(s))",
                settings.applicationId(), config.nodeId(), settings.sessionTimeoutMs(), settings.standbyReplicas());
        streams.start();
        // With static membership a dead node keeps its partitions until its session times out; the others
        // remove it from the group once they see it dead, so its standbys take over now.
        peerFencer = new PeerFencer(fencingProperties(settings), ownership::otherNodes, forwarder, registry,
                config.evictDeadNodes() && settings.groupInstanceId() != null ? settings.applicationId() : null).start();
        LOG.info("balance node listening on {}://{}:{} (advertised as {}; requests handled {}), Kafka at {}",
                config.tlsEnabled() ? "https" : "http", config.httpHost(), http.port(), config.selfHostPort(),
                stopGate.getServer().getInvocationType() == org.eclipse.jetty.util.thread.Invocable.InvocationType.NON_BLOCKING
                        ? "on the selecting threads, blocking ones handed on" : "on pool threads",
                settings.bootstrapServers());
    }

    /**
     * Ready when the node can serve every partition it owns: Streams runs and no active task is
     * still restoring its store (see {@link Readiness}).
     */
    public boolean ready() {
        Readiness current = readiness;
        return streams != null && current != null && current.ready();
    }

    /** What the node can serve, and how many rebalances it went through. */
    public Readiness readiness() {
        return readiness;
    }

    /** Tells {@code observer} of every restore of an active task; set before {@link #start()}. */
    BalanceNode observeRestores(StateRestoreListener observer) {
        this.restoreObserver = observer;
        return this;
    }

    private static boolean fenced(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof FencedInstanceIdException) {
                return true;
            }
        }
        return false;
    }

    public int httpPort() {
        return http.port();
    }

    public KafkaStreams streams() {
        return streams;
    }

    public OutcomeCounters counters() {
        return counters;
    }

    /**
     * Stops the node. It stays in the consumer group unless LEAVE_GROUP_ON_SHUTDOWN is set: a node
     * started again under the same NODE_ID within SESSION_TIMEOUT_MS gets its partitions back and
     * nothing moves; otherwise they move when the session times out.
     */
    @Override
    public void close() {
        close(config.leaveGroupOnShutdown());
    }

    /**
     * Stops without telling anyone, as a killed process looks to the other nodes: no 503 STOPPING is
     * answered first, the node stays in the group, and the port just closes. Tests use it where a
     * real deployment would see a kill -9.
     */
    void closeUnannounced() {
        stopGate = null;
        close(false);
    }

    /**
     * Stops the node, leaving the consumer group when {@code leaveGroup} (its partitions move to the
     * other nodes at once: a node removed for good) or staying a member until its session times out
     * (a restart). Kafka Streams gets at most SHUTDOWN_TIMEOUT_MS to close.
     */
    public void close(boolean leaveGroup) {
        long stopBegan = System.nanoTime();
        boolean announceStop = !leaveGroup && stopGate != null && peerFencer != null && hasPeers();
        if (stopGate != null) {
            // New requests are turned away (503, port still open); those in flight finish first.
            try {
                if (!stopGate.stopAndDrain(config.verdictWaitMs() + 1_000)) {
                    LOG.warn("requests still in flight after {} ms; stopping anyway", config.verdictWaitMs() + 1_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (peerFencer != null) {
            peerFencer.close();
            peerFencer = null;
        }
        if (metricsHttp != null) {
            metricsHttp.stop();
            metricsHttp = null;
        }
        if (forwarder != null) {
            forwarder.close();
            forwarder = null;
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(10));
            producer = null;
        }
        if (metrics != null) {
            metrics.close();
            metrics = null;
        }
        if (streams != null) {
            long started = System.nanoTime();
            boolean closed = streams.close(CloseOptions.timeout(Duration.ofMillis(config.shutdownTimeoutMs()))
                    .withGroupMembershipOperation(leaveGroup ? CloseOptions.GroupMembershipOperation.LEAVE_GROUP
                            : CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP));
            LOG.info("stream processing {} in {} ms ({} the group)", closed ? "closed" : "did not close in time",
                    (System.nanoTime() - started) / 1_000_000, leaveGroup ? "left" : "still a member of");
            streams = null;
        }
        if (announceStop) {
            // The other nodes poll /ready every PeerFencer.POLL_MS; one that never saw this stop would take the
            // closed port for a kill and remove this node from the group, moving its partitions for a restart.
            lingerStopping(stopBegan);
        }
        // Only now that stream processing is closed does the port close.
        if (http != null) {
            try {
                http.stop();
            } catch (RuntimeException e) {
                // Jetty stops the rest anyway and reports the wait that ran out; the node still closes.
                LOG.warn("HTTP did not stop cleanly: {}", e.toString());
            }
            http = null;
        }
        if (deadlines != null) {
            deadlines.shutdownNow();
            deadlines = null;
        }
        if (dispatch != null) {
            dispatch.shutdownNow();
            dispatch = null;
        }
    }

    /** How long a clean stop answers 503 STOPPING at least, so every other node's poll sees it. */
    static final long STOPPING_VISIBLE_MS = PeerFencer.POLL_MS * 3 / 2;

    private boolean hasPeers() {
        return streams != null && ownership != null && !ownership.otherNodes().isEmpty();
    }

    private static void lingerStopping(long stopBegan) {
        long left = STOPPING_VISIBLE_MS - (System.nanoTime() - stopBegan) / 1_000_000;
        if (left > 0) {
            try {
                Thread.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** What a producer needs to reach the cluster's brokers, for fencing a dead node's transactions. */
    private static Properties fencingProperties(StreamsSettings settings) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        return settings.clientProperties().addTo(props);
    }

    private static ThreadFactory daemonThreads(String name) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    private Properties producerProperties(StreamsSettings settings) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        // A verdict is only ever given for a command every in-sync replica has.
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        // Changes of a few milliseconds share a produce request, and the stream threads fetch them together.
        props.put(ProducerConfig.LINGER_MS_CONFIG, config.producerLingerMs());
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, settings.applicationId() + "-api-" + config.selfHostPort());
        return settings.clientProperties().addTo(props);
    }

}
