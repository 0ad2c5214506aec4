package dev.balance.api;

import dev.balance.api.metrics.MetricsSettings;
import dev.balance.api.auth.Credentials;
import dev.balance.topology.KafkaClientProperties;
import dev.balance.topology.StreamsSettings;
import dev.balance.topology.TopicNames;
import dev.balance.topology.model.Currencies;
import java.nio.file.Path;
import java.util.Map;

/**
 * The configuration of one balance node, read once from the environment at start. Every
 * limit has a name and a unit; defaults are those of the README's configuration table.
 *
 * @param httpPort            HTTP_PORT (8080)
 * @param httpHost            HTTP_HOST: the interface to listen on; 0.0.0.0 with keys or a secret,
 *                            127.0.0.1 without, so an unauthenticated development node is not
 *                            reachable from the network unless asked for
 * @param advertisedHost      NODE_HOST (127.0.0.1): how other nodes reach this one
 * @param advertisedPort      NODE_PORT (= HTTP_PORT)
 * @param streams             Kafka Streams settings (KAFKA_BOOTSTRAP_SERVERS, KAFKA_CLIENT_PROPERTIES, STATE_DIR, ...)
 * @param verdictWaitMs       VERDICT_WAIT_MS (5000): longest wait for a verdict before 202 PENDING
 * @param batchSizeMax        BATCH_SIZE_MAX (1000): most changes in one batch request
 * @param bodyBytesMax        BODY_BYTES_MAX (1048576): largest request body, else 413
 * @param waitersMax          VERDICT_WAITERS_MAX (100000): most requests waiting for verdicts at once
 * @param forwardTimeoutMs    FORWARD_TIMEOUT_MS (10000): timeout of a request forwarded to the owner
 * @param credentials         API_KEYS, HMAC_SECRET and NODE_SECRET (none): with keys or a secret, every
 *                            request but /health, /ready and /metrics must be signed
 * @param signatureWindowMs   SIGNATURE_WINDOW_MS (300000): allowed clock distance of X-Timestamp
 * @param devMode             DEV_MODE (false): allows running without keys or a secret; has no
 *                            effect when they are configured (that is production mode)
 * @param metricsPort         METRICS_PORT (0): when set, /metrics is served on this port only, so a
 *                            deployment can keep it internal; 0 serves it on HTTP_PORT
 * @param tls                 TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE (none): HTTPS instead of HTTP
 * @param topicPartitions     TOPIC_PARTITIONS (12): used when the node creates missing topics
 * @param lookupSizeMax       LOOKUP_SIZE_MAX (1000): most items in one balance lookup request, else 413
 * @param metrics             METRICS_REFRESH_MS, INPUT_LAG_REFRESH_MS, INPUT_LAG_TIMEOUT_MS
 * @param leaveGroupOnShutdown LEAVE_GROUP_ON_SHUTDOWN (false): whether a clean stop leaves the consumer group, so
 *                            its partitions move at once (a node removed for good); by default it stays a member
 *                            until SESSION_TIMEOUT_MS, so a restart within it moves nothing
 * @param shutdownTimeoutMs   SHUTDOWN_TIMEOUT_MS (30000): longest wait for Kafka Streams to close on a clean stop
 * @param evictDeadNodes      EVICT_DEAD_NODES (true): a node that finds another refusing connections (killed, not
 *                            stopped cleanly) removes it from the consumer group, so its partitions move to the
 *                            standbys at once instead of after SESSION_TIMEOUT_MS
 * @param producerLingerMs    PRODUCER_LINGER_MS (3): how long the node's producer waits to fill a produce request
 *                            with more changes (at most; a full batch goes at once). Every change recorded by this
 *                            node may wait this long before it is sent, and each produce request the broker does
 *                            not have to answer, and each fetch of it the stream threads do not have to make, saves
 *                            CPU for more changes (see the README's performance section)
 */
public record NodeConfig(
        int httpPort,
        String httpHost,
        String advertisedHost,
        int advertisedPort,
        StreamsSettings streams,
        long verdictWaitMs,
        int batchSizeMax,
        int bodyBytesMax,
        int waitersMax,
        long forwardTimeoutMs,
        Credentials credentials,
        long signatureWindowMs,
        boolean devMode,
        int topicPartitions,
        int lookupSizeMax,
        MetricsSettings metrics,
        int metricsPort,
        TlsFiles tls,
        boolean leaveGroupOnShutdown,
        long shutdownTimeoutMs,
        boolean evictDeadNodes,
        int producerLingerMs) {

    private static final long MIB = 1024L * 1024;
    /**
     * Measured with scripts/bench http-single --search (open model, P95 under 50 ms) on the 2-core
     * machine, back to back: 1 ms 6,406/s, 3 ms 18,517/s; one client posting sequentially waits 1.6
     * ms (P50) at 1 ms and 3.6 ms at 3.
     */
    public static final int PRODUCER_LINGER_MS_DEFAULT = 3;
    /**
     * A third of the consumer's own 45 s: a node killed for good is noticed in 15 s (its partitions then
     * move to the warm standbys), and a restarted node (a process start, here a few seconds) still
     * comes back within it and gets its partitions back without a rebalance.
     */
    static final long SESSION_TIMEOUT_MS_DEFAULT = 15_000;

    public NodeConfig {
        require(httpPort > 0 && httpPort < 65536, "HTTP_PORT must be 1..65535");
        require(httpHost != null && !httpHost.isBlank(), "HTTP_HOST must not be blank");
        require(advertisedPort > 0 && advertisedPort < 65536, "NODE_PORT must be 1..65535");
        require(verdictWaitMs > 0, "VERDICT_WAIT_MS must be positive");
        require(batchSizeMax > 0, "BATCH_SIZE_MAX must be positive");
        require(bodyBytesMax >= 1024, "BODY_BYTES_MAX must be at least 1024");
        require(waitersMax > 0, "VERDICT_WAITERS_MAX must be positive");
        require(forwardTimeoutMs > 0, "FORWARD_TIMEOUT_MS must be positive");
        require(signatureWindowMs > 0, "SIGNATURE_WINDOW_MS must be positive");
        require(topicPartitions > 0, "TOPIC_PARTITIONS must be positive");
        require(lookupSizeMax > 0, "LOOKUP_SIZE_MAX must be positive");
        require(metricsPort >= 0 && metricsPort < 65536, "METRICS_PORT must be 0 (none) or 1..65535");
        require(metricsPort == 0 || metricsPort != httpPort, "METRICS_PORT must differ from HTTP_PORT");
        require(credentials != null, "credentials must be given (Credentials.none() for none)");
        require(shutdownTimeoutMs > 0, "SHUTDOWN_TIMEOUT_MS must be positive");
        require(producerLingerMs >= 0 && producerLingerMs <= 1_000, "PRODUCER_LINGER_MS must be 0..1000");
        if (!credentials.enabled() && !devMode) {
            throw new IllegalArgumentException("API_KEYS or HMAC_SECRET is required outside development mode "
                    + "(set DEV_MODE=true to run without them)");
        }
    }

    /**
     * PEM files of the HTTPS listener: the certificate chain, its PKCS#8 private key, and the
     * certificates a node trusts when it forwards to another node (the chain file when unset).
     */
    public record TlsFiles(Path certFile, Path keyFile, Path caFile) {
        public TlsFiles {
            require(certFile != null && keyFile != null, "TLS_CERT_FILE and TLS_KEY_FILE are set together");
        }

        /** The certificates forwarded requests trust. */
        public Path trustFile() {
            return caFile != null ? caFile : certFile;
        }

        static TlsFiles fromEnv(Map<String, String> env) {
            String cert = env.get("TLS_CERT_FILE");
            String key = env.get("TLS_KEY_FILE");
            String ca = env.get("TLS_CA_FILE");
            if (blank(cert) && blank(key)) {
                require(blank(ca), "TLS_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE");
                return null;
            }
            require(!blank(cert) && !blank(key), "TLS_CERT_FILE and TLS_KEY_FILE are set together");
            return new TlsFiles(Path.of(cert.trim()), Path.of(key.trim()), blank(ca) ? null : Path.of(ca.trim()));
        }
    }

    public boolean tlsEnabled() {
        return tls != null;
    }

    public static NodeConfig fromEnv(Map<String, String> env) {
        int httpPort = intValue(env, "HTTP_PORT", 8080);
        String host = env.getOrDefault("NODE_HOST", "127.0.0.1");
        int advertisedPort = intValue(env, "NODE_PORT", httpPort);
        String bootstrap = env.getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092");
        String stateDir = env.getOrDefault("STATE_DIR", Path.of("data", "node-" + httpPort).toAbsolutePath().toString());
        short replication = (short) intValue(env, "REPLICATION_FACTOR", 1);
        String nodeId = nodeId(env.get("NODE_ID"), host, advertisedPort);
        StreamsSettings streams = StreamsSettings.localDefaults(bootstrap, stateDir)
                .withClientProperties(KafkaClientProperties.fromEnv(env))
                .withApplicationId(env.getOrDefault("APPLICATION_ID", "balance-node"))
                .withApplicationServer(host + ":" + advertisedPort)
                .withTopics(TopicNames.withPrefix(env.getOrDefault("TOPIC_PREFIX", "")))
                .withCurrencies(Currencies.defaultsPlus(env.get("CURRENCIES")))
                .withStreamThreads(intValue(env, "STREAM_THREADS", 2))
                .withCommitIntervalMs(longValue(env, "COMMIT_INTERVAL_MS", 100))
                .withStandbyReplicas(intValue(env, "STANDBY_REPLICAS", 1))
                .withGroupInstanceId(nodeId)
                .withSessionTimeoutMs(longValue(env, "SESSION_TIMEOUT_MS", SESSION_TIMEOUT_MS_DEFAULT))
                .withReturnSettleMs(longValue(env, "RETURN_SETTLE_MS", StreamsSettings.RETURN_SETTLE_MS_DEFAULT))
                .withTransactionalStores(!"false".equalsIgnoreCase(env.getOrDefault("TRANSACTIONAL_STATE_STORES", "true").trim()))
                .withReplication(replication, intValue(env, "MIN_INSYNC_REPLICAS", 1))
                .withDedupRetentionMs(longValue(env, "DEDUP_RETENTION_MS", StreamsSettings.DEDUP_RETENTION_MS_DEFAULT))
                .withRocksDbBudget(longValue(env, "ROCKSDB_CACHE_MB", 1024) * MIB,
                        longValue(env, "ROCKSDB_WRITE_BUFFER_MB", 512) * MIB);
        Credentials credentials = Credentials.parse(env.get("API_KEYS"), env.get("HMAC_SECRET"), env.get("NODE_SECRET"));
        String httpHost = env.getOrDefault("HTTP_HOST", credentials.enabled() ? "0.0.0.0" : "127.0.0.1");
        return new NodeConfig(httpPort, httpHost, host, advertisedPort, streams,
                longValue(env, "VERDICT_WAIT_MS", 5_000),
                intValue(env, "BATCH_SIZE_MAX", 1_000),
                intValue(env, "BODY_BYTES_MAX", 1024 * 1024),
                intValue(env, "VERDICT_WAITERS_MAX", 100_000),
                longValue(env, "FORWARD_TIMEOUT_MS", 10_000),
                credentials,
                longValue(env, "SIGNATURE_WINDOW_MS", 300_000),
                Boolean.parseBoolean(env.getOrDefault("DEV_MODE", "false")),
                intValue(env, "TOPIC_PARTITIONS", 12),
                intValue(env, "LOOKUP_SIZE_MAX", 1_000),
                MetricsSettings.fromEnv(env),
                intValue(env, "METRICS_PORT", 0),
                TlsFiles.fromEnv(env),
                Boolean.parseBoolean(env.getOrDefault("LEAVE_GROUP_ON_SHUTDOWN", "false").trim()),
                longValue(env, "SHUTDOWN_TIMEOUT_MS", 30_000),
                !"false".equalsIgnoreCase(env.getOrDefault("EVICT_DEAD_NODES", "true").trim()),
                intValue(env, "PRODUCER_LINGER_MS", PRODUCER_LINGER_MS_DEFAULT));
    }

    /**
     * NODE_ID, the node's static group membership id; by default its advertised address (NODE_HOST and
     * NODE_PORT, which other nodes already need to be unique and stable), with the characters Kafka
     * does not accept in an id replaced by {@code _}: {@code 127.0.0.1:8080} gives {@code 127.0.0.1-8080}.
     */
    static String nodeId(String configured, String host, int port) {
        if (!blank(configured)) {
            String id = configured.trim();
            require(StreamsSettings.validGroupInstanceId(id), "NODE_ID must be 1..200 characters of [A-Za-z0-9._-], got '"
                    + id + "'");
            return id;
        }
        return host.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + port;
    }

    /** The node's group membership id (NODE_ID). */
    public String nodeId() {
        return streams.groupInstanceId();
    }

    public String selfHostPort() {
        return advertisedHost + ":" + advertisedPort;
    }

    private static int intValue(Map<String, String> env, String name, int fallback) {
        return (int) longValue(env, name, fallback);
    }

    private static long longValue(Map<String, String> env, String name, long fallback) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + value + "'");
        }
    }

    private static boolean blank(String text) {
        return text == null || text.isBlank();
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
