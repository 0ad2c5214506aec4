package dev.balance.topology;

import dev.balance.topology.model.Currencies;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Everything the topology and its Kafka Streams instance depend on, with every option that
 * matters for correctness set explicitly rather than left to a library default.
 *
 * @param applicationId          the Streams application id (consumer group, changelog prefix)
 * @param bootstrapServers       Kafka brokers
 * @param clientProperties       TLS/SASL settings of every Kafka client (KAFKA_CLIENT_PROPERTIES)
 * @param stateDir               where RocksDB keeps the stores
 * @param applicationServer      this node's advertised host:port for interactive queries, or null
 * @param topics                 topic names
 * @param currencies             the currency registry
 * @param dedupRetentionMs       how long (in stream time) a transaction id is remembered
 * @param purgeIntervalMs        wall-clock period of the purge of expired transaction ids
 * @param purgeBatchMax          most transaction entries examined per purge run
 * @param streamThreads          stream threads of this instance
 * @param commitIntervalMs       Streams commit interval (a transaction per commit under EOS)
 * @param replicationFactor      replication of internal topics (changelogs)
 * @param minInsyncReplicas      min.insync.replicas of internal topics
 * @param standbyReplicas        warm standby copies of each store on other nodes
 * @param rocksDbCacheBytes      block cache shared by all stores of the instance
 * @param rocksDbWriteBufferBytes memtable budget shared by all stores of the instance (counted in the cache)
 * @param groupInstanceId        this instance's static membership id, or null for a dynamic member; Kafka
 *                               Streams gives each stream thread's consumer this id plus {@code -<thread index>}
 * @param sessionTimeoutMs       how long the group coordinator waits for a silent member before it moves the
 *                               member's partitions; with static membership, also how long a restart may take
 *                               without moving anything
 * @param returnSettleMs         how long a node that returns after it died runs copies of its former tasks
 *                               before it takes them back ({@link StayingTaskAssignor#RETURN_SETTLE_CONFIG})
 */
public record StreamsSettings(
        String applicationId,
        String bootstrapServers,
        KafkaClientProperties clientProperties,
        String stateDir,
        String applicationServer,
        TopicNames topics,
        Currencies currencies,
        long dedupRetentionMs,
        long purgeIntervalMs,
        int purgeBatchMax,
        int streamThreads,
        long commitIntervalMs,
        short replicationFactor,
        int minInsyncReplicas,
        int standbyReplicas,
        long rocksDbCacheBytes,
        long rocksDbWriteBufferBytes,
        String groupInstanceId,
        long sessionTimeoutMs,
        boolean transactionalStores,
        long returnSettleMs) {

    public static final long DEDUP_RETENTION_MS_DEFAULT = Duration.ofDays(7).toMillis();
    /** The consumer's own default; a node sets its own (SESSION_TIMEOUT_MS). */
    public static final long SESSION_TIMEOUT_MS_DEFAULT = 45_000;
    /** How long a returning node runs copies of its former tasks before it takes them back (RETURN_SETTLE_MS). */
    public static final long RETURN_SETTLE_MS_DEFAULT = StayingTaskAssignor.DEFAULT_RETURN_SETTLE_MS;
    /** Kafka refuses longer group instance ids; Streams appends {@code -<thread index>} to ours. */
    private static final int GROUP_INSTANCE_ID_MAX = 200;
    /**
     * How often a member heartbeats at most; a third of a short session timeout below that. A member
     * learns that a rebalance started from its next heartbeat: at Kafka's 3 s a dead node's partitions
     * waited up to 3 s more after its removal, and each task move (two rebalances under the cooperative
     * protocol) left the moved partition unowned, and under exactly-once every other partition's
     * commits held, for up to 3 s between them (measured in the chaos test, see the README). Each
     * heartbeat costs the node and the broker a little CPU: an idle node and its broker used 3.97% of
     * a core at 3 s, 4.37% at 500 ms and 4.78-5.22% at 200 ms (`scripts/bench idle`, back to back).
     */
    private static final long HEARTBEAT_INTERVAL_MS_MAX = 500;

    public StreamsSettings {
        Objects.requireNonNull(applicationId, "applicationId");
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(clientProperties, "clientProperties (KafkaClientProperties.none() for none)");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(currencies, "currencies");
        require(dedupRetentionMs > 0, "dedupRetentionMs must be positive");
        require(purgeIntervalMs > 0, "purgeIntervalMs must be positive");
        require(purgeBatchMax > 0, "purgeBatchMax must be positive");
        require(streamThreads > 0, "streamThreads must be positive");
        require(commitIntervalMs > 0, "commitIntervalMs must be positive");
        require(replicationFactor > 0, "replicationFactor must be positive");
        require(minInsyncReplicas > 0 && minInsyncReplicas <= replicationFactor,
                "minInsyncReplicas must be 1..replicationFactor");
        require(standbyReplicas >= 0, "standbyReplicas must not be negative");
        require(rocksDbCacheBytes > 0 && rocksDbWriteBufferBytes > 0 && rocksDbWriteBufferBytes < rocksDbCacheBytes,
                "RocksDB budgets must be positive and the write buffers must fit in the cache");
        require(groupInstanceId == null || validGroupInstanceId(groupInstanceId),
                "groupInstanceId must be 1.." + GROUP_INSTANCE_ID_MAX + " characters of [A-Za-z0-9._-]");
        require(sessionTimeoutMs >= 3 && sessionTimeoutMs <= Integer.MAX_VALUE, "sessionTimeoutMs must be 3..2^31-1");
        require(returnSettleMs >= 0, "returnSettleMs must not be negative");
    }

    /** What Kafka accepts as a group instance id, less room for the thread suffix Streams appends. */
    public static boolean validGroupInstanceId(String id) {
        return id.length() >= 1 && id.length() <= GROUP_INSTANCE_ID_MAX && id.chars().allMatch(c ->
                (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
    }

    /** Settings for a single-node development broker; callers override what they need. */
    public static StreamsSettings localDefaults(String bootstrapServers, String stateDir) {
        return new StreamsSettings("balance-node", bootstrapServers, KafkaClientProperties.none(), stateDir, null,
                TopicNames.defaults(), Currencies.defaults(), DEDUP_RETENTION_MS_DEFAULT, 1_000, 10_000, 2, 100, (short) 1, 1, 0,
                1024L * 1024 * 1024, 512L * 1024 * 1024, null, SESSION_TIMEOUT_MS_DEFAULT, true,
                RETURN_SETTLE_MS_DEFAULT);
    }

    public StreamsSettings withApplicationId(String id) {
        Copy copy = new Copy(this);
        copy.applicationId = id;
        return copy.build();
    }

    /** The TLS/SASL settings every Kafka client of the node adds to its own configuration. */
    public StreamsSettings withClientProperties(KafkaClientProperties properties) {
        Copy copy = new Copy(this);
        copy.clientProperties = properties;
        return copy.build();
    }

    public StreamsSettings withTopics(TopicNames names) {
        Copy copy = new Copy(this);
        copy.topics = names;
        return copy.build();
    }

    public StreamsSettings withStateDir(String dir) {
        Copy copy = new Copy(this);
        copy.stateDir = dir;
        return copy.build();
    }

    public StreamsSettings withApplicationServer(String hostPort) {
        Copy copy = new Copy(this);
        copy.applicationServer = hostPort;
        return copy.build();
    }

    public StreamsSettings withStreamThreads(int threads) {
        Copy copy = new Copy(this);
        copy.streamThreads = threads;
        return copy.build();
    }

    public StreamsSettings withReturnSettleMs(long settleMs) {
        Copy copy = new Copy(this);
        copy.returnSettleMs = settleMs;
        return copy.build();
    }

    public StreamsSettings withCommitIntervalMs(long intervalMs) {
        Copy copy = new Copy(this);
        copy.commitIntervalMs = intervalMs;
        return copy.build();
    }

    public StreamsSettings withStandbyReplicas(int standbys) {
        Copy copy = new Copy(this);
        copy.standbyReplicas = standbys;
        return copy.build();
    }

    public StreamsSettings withCurrencies(Currencies registry) {
        Copy copy = new Copy(this);
        copy.currencies = registry;
        return copy.build();
    }

    public StreamsSettings withDedupRetentionMs(long retentionMs) {
        Copy copy = new Copy(this);
        copy.dedupRetentionMs = retentionMs;
        return copy.build();
    }

    /** RocksDB's memory for the whole instance: the block cache, and the share of it the memtables may fill. */
    public StreamsSettings withRocksDbBudget(long cacheBytes, long writeBufferBytes) {
        Copy copy = new Copy(this);
        copy.rocksDbCacheBytes = cacheBytes;
        copy.rocksDbWriteBufferBytes = writeBufferBytes;
        return copy.build();
    }

    /**
     * Static membership: a member that comes back under the same id within the session timeout gets
     * its partitions back without a rebalance. Null makes the instance a dynamic member.
     */
    public StreamsSettings withGroupInstanceId(String id) {
        Copy copy = new Copy(this);
        copy.groupInstanceId = id;
        return copy.build();
    }

    public StreamsSettings withSessionTimeoutMs(long timeoutMs) {
        Copy copy = new Copy(this);
        copy.sessionTimeoutMs = timeoutMs;
        return copy.build();
    }

    /** Transactional state stores (KIP-892) on (the default) or off, as in Kafka 4.3. */
    public StreamsSettings withTransactionalStores(boolean enabled) {
        Copy copy = new Copy(this);
        copy.transactionalStores = enabled;
        return copy.build();
    }

    public StreamsSettings withReplication(short factor, int minIsr) {
        Copy copy = new Copy(this);
        copy.replicationFactor = factor;
        copy.minInsyncReplicas = minIsr;
        return copy.build();
    }

    /** A mutable copy for the {@code with} methods; {@link #build()} validates through the record's constructor. */
    private static final class Copy {
        private String applicationId;
        private String bootstrapServers;
        private KafkaClientProperties clientProperties;
        private String stateDir;
        private String applicationServer;
        private TopicNames topics;
        private Currencies currencies;
        private long dedupRetentionMs;
        private long purgeIntervalMs;
        private int purgeBatchMax;
        private int streamThreads;
        private long commitIntervalMs;
        private short replicationFactor;
        private int minInsyncReplicas;
        private int standbyReplicas;
        private long rocksDbCacheBytes;
        private long rocksDbWriteBufferBytes;
        private String groupInstanceId;
        private long sessionTimeoutMs;
        private boolean transactionalStores;
        private long returnSettleMs;

        Copy(StreamsSettings from) {
            applicationId = from.applicationId;
            bootstrapServers = from.bootstrapServers;
            clientProperties = from.clientProperties;
            stateDir = from.stateDir;
            applicationServer = from.applicationServer;
            topics = from.topics;
            currencies = from.currencies;
            dedupRetentionMs = from.dedupRetentionMs;
            purgeIntervalMs = from.purgeIntervalMs;
            purgeBatchMax = from.purgeBatchMax;
            streamThreads = from.streamThreads;
            commitIntervalMs = from.commitIntervalMs;
            replicationFactor = from.replicationFactor;
            minInsyncReplicas = from.minInsyncReplicas;
            standbyReplicas = from.standbyReplicas;
            rocksDbCacheBytes = from.rocksDbCacheBytes;
            rocksDbWriteBufferBytes = from.rocksDbWriteBufferBytes;
            groupInstanceId = from.groupInstanceId;
            sessionTimeoutMs = from.sessionTimeoutMs;
            transactionalStores = from.transactionalStores;
            returnSettleMs = from.returnSettleMs;
        }

        StreamsSettings build() {
            return new StreamsSettings(applicationId, bootstrapServers, clientProperties, stateDir, applicationServer,
                    topics, currencies,
                    dedupRetentionMs, purgeIntervalMs, purgeBatchMax, streamThreads, commitIntervalMs, replicationFactor,
                    minInsyncReplicas, standbyReplicas, rocksDbCacheBytes, rocksDbWriteBufferBytes, groupInstanceId,
                    sessionTimeoutMs, transactionalStores, returnSettleMs);
        }
    }

    /** The Kafka Streams configuration, every option the design depends on set explicitly. */
    public Properties toProperties() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        if (applicationServer != null) {
            props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, applicationServer);
        }
        // Correctness: each input record's state changes, output and offset commit are one transaction.
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        // Transactional stores (KIP-892): a task's writes are staged and reach RocksDB, with the changelog
        // offset they match, only after its Kafka transaction commits. After a crash (kill -9) the stores
        // hold committed state only, so a restarted node replays the changelog tail since the last flush
        // instead of wiping its stores and restoring them from zero.
        props.put(StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG, transactionalStores);
        // The API reads the processor's own store (ActiveStores), which sees staged writes, so a read
        // after a verdict shows it before the commit; interactive queries (the fallback and stale reads)
        // are told the same explicitly rather than trusting a default.
        props.put(StreamsConfig.DEFAULT_INTERACTIVE_QUERY_ISOLATION_LEVEL_CONFIG, "READ_UNCOMMITTED");
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) replicationFactor);
        props.put(StreamsConfig.topicPrefix(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG), Integer.toString(minInsyncReplicas));
        // With one node a standby has nowhere to go and stays unassigned (the assignor logs it); with
        // more, a moved partition starts from a warm copy instead of restoring its whole changelog.
        props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, standbyReplicas);
        // A rebalance moves only what it must: a task stays with its running owner, a dead node's tasks
        // go to their caught-up standbys, and a node that joins gets tasks only from caught-up copies
        // (it warms copies up first; the assignor asks for a follow-up rebalance every 10 s until they
        // are). Kafka's default assignor also swapped the survivors' own tasks when a node died.
        props.put(StreamsConfig.TASK_ASSIGNOR_CLASS_CONFIG, StayingTaskAssignor.class.getName());
        props.put(StayingTaskAssignor.PROBE_INTERVAL_CONFIG, StayingTaskAssignor.DEFAULT_PROBE_INTERVAL_MS);
        // A node back after it died first runs copies of its former tasks, then takes them back.
        props.put(StayingTaskAssignor.RETURN_SETTLE_CONFIG, returnSettleMs);
        // Kafka's own follow-up rebalances (used by its assignors): one minute, Kafka's minimum.
        props.put(StreamsConfig.PROBING_REBALANCE_INTERVAL_MS_CONFIG, 60_000L);
        // The classic protocol: static membership is not supported by the streams protocol (KIP-1071).
        props.put(StreamsConfig.GROUP_PROTOCOL_CONFIG, "classic");
        if (groupInstanceId != null) {
            // Streams makes it unique per stream thread (id-1, id-2, ...); restore consumers drop it.
            props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), groupInstanceId);
        }
        props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), (int) sessionTimeoutMs);
        props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG),
                (int) Math.min(HEARTBEAT_INTERVAL_MS_MAX, sessionTimeoutMs / 3));
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, streamThreads);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
        // Every task reads one partition of one topic, so there is nothing to align between inputs and
        // no reason to idle. Disabled, Streams also skips the readiness check that formats log text for
        // every task without buffered records on every loop (7% of the stream threads' time under
        // single-change load).
        props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
        props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
        props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
        // The record cache would only delay changelog writes; every key is written once per record.
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
        // Processing errors are handled inside the processor (DLQ); this only silences the 5.0 migration warning.
        props.put("processing.exception.handler.global.enabled", true);
        props.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDbConfig.class);
        props.put(BoundedRocksDbConfig.CACHE_BYTES_CONFIG, rocksDbCacheBytes);
        props.put(BoundedRocksDbConfig.WRITE_BUFFER_BYTES_CONFIG, rocksDbWriteBufferBytes);
        // Stated although exactly_once_v2 implies them: the design depends on these values.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");
        props.put(StreamsConfig.producerPrefix(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG), true);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.ISOLATION_LEVEL_CONFIG), "read_committed");
        props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "none");
        // Outputs become visible only when the transaction commits (every commit interval), which flushes
        // them: lingering as long costs no one anything and makes a produce request per commit instead
        // of one every few milliseconds.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), (int) Math.max(5, commitIntervalMs));
        props.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 128 * 1024);
        // How to reach the brokers (TLS, SASL): taken by every client Streams creates.
        return clientProperties.addTo(props);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
