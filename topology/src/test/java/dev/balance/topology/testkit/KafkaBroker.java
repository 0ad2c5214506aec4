package dev.balance.topology.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real single-node KRaft broker (broker and controller in one), started in this JVM from the
 * project's Maven test dependencies, on free ports, with its data under the build's target
 * folder. Transactions work: the internal topics are configured for one replica.
 *
 * <p>{@link #startWithTls(TlsStores)} adds two listeners beside the PLAINTEXT one (which the kit
 * itself and inter-broker traffic keep using): SSL, and SASL_SSL with the PLAIN mechanism and one
 * user, {@link #SASL_USER}.
 */
public final class KafkaBroker implements AutoCloseable {

    /** How often the broker deletes segments past retention; public so a test can wait for a check. */
    public static final long RETENTION_CHECK_INTERVAL_MS = 1_000;

    /** The one user of the SASL_SSL listener (mechanism PLAIN). */
    public static final String SASL_USER = "balance";
    public static final String SASL_PASSWORD = "balance-sasl-password";

    private final Path logDir;
    private final int brokerPort;
    private final int controllerPort;
    private final TlsStores tls;
    private final int sslPort;
    private final int saslSslPort;
    private KafkaRaftServer server;

    private KafkaBroker(Path logDir, int brokerPort, int controllerPort, TlsStores tls, int sslPort, int saslSslPort) {
        this.logDir = logDir;
        this.brokerPort = brokerPort;
        this.controllerPort = controllerPort;
        this.tls = tls;
        this.sslPort = sslPort;
        this.saslSslPort = saslSslPort;
    }

    /** Formats a fresh log directory and starts the broker; returns once it accepts admin requests. */
    public static KafkaBroker start() {
        return start(null);
    }

    /**
     * As {@link #start()}, with an SSL and a SASL_SSL listener serving the key store's certificate
     * ({@link #tlsBootstrapServers()}, {@link #saslTlsBootstrapServers()}).
     */
    public static KafkaBroker startWithTls(TlsStores stores) {
        return start(java.util.Objects.requireNonNull(stores, "stores"));
    }

    private static KafkaBroker start(TlsStores tls) {
        try {
            Path base = Paths.get("target", "kafka-test");
            Files.createDirectories(base);
            Path logDir = Files.createTempDirectory(base.toAbsolutePath(), "broker-");
            KafkaBroker broker = tls == null
                    ? new KafkaBroker(logDir, freePort(), freePort(), null, 0, 0)
                    : new KafkaBroker(logDir, freePort(), freePort(), tls, freePort(), freePort());
            broker.startServer(true);
            return broker;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void startServer(boolean format) {
        Properties props = serverProperties();
        if (format) {
            format(props);
        }
        server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        server.startup();
        awaitReady();
    }

    /** Stops the broker (clean shutdown) and starts it again on the same ports with the same data. */
    public void restart() {
        stopServer();
        startServer(false);
    }

    /** Stops the broker; {@link #startAgain()} brings it back with the same data. */
    public void stop() {
        stopServer();
    }

    public void startAgain() {
        startServer(false);
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + brokerPort;
    }

    /** The SSL listener's address (only with {@link #startWithTls(TlsStores)}). */
    public String tlsBootstrapServers() {
        requireTls();
        return "127.0.0.1:" + sslPort;
    }

    /** The SASL_SSL listener's address (only with {@link #startWithTls(TlsStores)}). */
    public String saslTlsBootstrapServers() {
        requireTls();
        return "127.0.0.1:" + saslSslPort;
    }

    private void requireTls() {
        if (tls == null) {
            throw new IllegalStateException("this broker was started without TLS listeners");
        }
    }

    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000));
    }

    /**
     * Creates topics with the given partition count, one replica each, kept forever
     * ({@code retention.ms=-1}): tests stamp records years in the past, and a record stamped
     * before the retention window rolls its segment at once and is deleted by the next retention
     * check while the test still reads it. Returns once every
     * partition has a leader. Producing to a partition whose leader is not yet elected fails with
     * NOT_LEADER_OR_FOLLOWER, which on a loaded machine was seen to wedge an idempotent producer
     * in OUT_OF_ORDER_SEQUENCE_NUMBER retries.
     */
    public void createTopics(int partitions, String... names) {
        createTopics(partitions, Map.of(), names);
    }

    /** As {@link #createTopics(int, String...)}, with topic configs that override the kit's. */
    public void createTopics(int partitions, Map<String, String> configs, String... names) {
        Map<String, String> merged = new java.util.HashMap<>(Map.of(
                "min.insync.replicas", "1", "retention.ms", "-1", "retention.bytes", "-1"));
        merged.putAll(configs);
        try (Admin admin = admin()) {
            List<NewTopic> topics = new ArrayList<>();
            for (String name : names) {
                topics.add(new NewTopic(name, partitions, (short) 1).configs(merged));
            }
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
            awaitLeaders(admin, List.of(names), partitions);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("could not create topics", e);
        }
    }

    private static void awaitLeaders(Admin admin, List<String> names, int partitions) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!allLed(admin, names, partitions)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("partitions of " + names + " have no leader after 60 s");
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    /** False while the topics are unknown to the broker's metadata or a partition has no leader yet. */
    private static boolean allLed(Admin admin, List<String> names, int partitions) throws InterruptedException {
        try {
            return admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS).values().stream()
                    .allMatch(topic -> topic.partitions().size() == partitions
                            && topic.partitions().stream().allMatch(partition -> partition.leader() != null));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
                return false;
            }
            throw new IllegalStateException("could not describe " + names, e);
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() {
        stopServer();
        deleteRecursively(logDir);
    }

    private void stopServer() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
    }

    private Properties serverProperties() {
        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        if (tls != null) {
            addTlsListeners(props);
        }
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("log.dirs", logDir.toString());
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "4");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "4");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("auto.create.topics.enable", "false");
        props.put("num.partitions", "1");
        props.put("default.replication.factor", "1");
        props.put("min.insync.replicas", "1");
        props.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
        // Topics the code under test creates itself (a node's topic set-up, Streams' changelogs)
        // keep old-stamped records too. The check runs often so a test that relies on retention
        // by mistake fails at once rather than now and then.
        props.put("log.retention.ms", "-1");
        props.put("log.retention.check.interval.ms", Long.toString(RETENTION_CHECK_INTERVAL_MS));
        props.put("log.initial.task.delay.ms", "0");
        return props;
    }

    private void addTlsListeners(Properties props) {
        String ssl = "SSL://127.0.0.1:" + sslPort + ",SASL_SSL://127.0.0.1:" + saslSslPort;
        props.put("listeners", props.getProperty("listeners") + "," + ssl);
        props.put("advertised.listeners", props.getProperty("advertised.listeners") + "," + ssl);
        props.put("listener.security.protocol.map",
                props.getProperty("listener.security.protocol.map") + ",SSL:SSL,SASL_SSL:SASL_SSL");
        props.put("ssl.keystore.location", tls.keyStore().toAbsolutePath().toString());
        props.put("ssl.keystore.type", "PKCS12");
        props.put("ssl.keystore.password", tls.password());
        props.put("ssl.key.password", tls.password());
        props.put("ssl.client.auth", "none");
        props.put("sasl.enabled.mechanisms", "PLAIN");
        props.put("listener.name.sasl_ssl.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required user_" + SASL_USER + "=\""
                        + SASL_PASSWORD + "\";");
    }

    private void format(Properties props) {
        try {
            new Formatter()
                    .setPrintStream(System.out)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setNodeId(1)
                    .setDirectories(List.of(logDir.toString()))
                    .setMetadataLogDirectory(logDir.toString())
                    .setControllerListenerName("CONTROLLER")
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("could not format the broker's log directory", e);
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try (Admin admin = admin()) {
                if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (Exception e) {
                last = e;
            }
        }
        throw new IllegalStateException("broker not ready within 60 s", last);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
