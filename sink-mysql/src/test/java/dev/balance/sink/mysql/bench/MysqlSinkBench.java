package dev.balance.sink.mysql.bench;

import static org.awaitility.Awaitility.await;

import dev.balance.sink.mysql.MysqlSink;
import dev.balance.sink.mysql.MysqlSinkConfig;
import dev.balance.topology.codec.Codecs;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Result;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;

/**
 * Throughput of the MySQL sink: pre-produces applied events (by default 100,000 accounts x 2
 * currencies x 5 versions = 1,000,000) into a fresh topic, then starts the sink on a fresh
 * database and measures until the sink's committed offsets reach the end of the topic. Prints
 * rows/s, the batch size and the batch latency percentiles.
 *
 * <p>It lives with the tests because it starts the in-process broker of the topology's test kit
 * when no broker is given; it is not named *Test or *IT, so no test run picks it up.
 *
 * <p>Settings (environment): BENCH_ACCOUNTS (100000), BENCH_VERSIONS (5), BENCH_PARTITIONS (6),
 * KAFKA_BOOTSTRAP_SERVERS (unset: an in-process broker), BENCH_MYSQL_SERVER
 * (jdbc:mysql://127.0.0.1:3306), MYSQL_USER, MYSQL_PASSWORD, SINK_MYSQL_BATCH_SIZE_MAX and the
 * other sink settings, BENCH_KEEP_DATABASE (false).
 */
public final class MysqlSinkBench {

    private static final String[] CURRENCIES = {"BTC", "USDT"};
    private static final String LATENCY = "balance_sink_mysql_batch_latency";
    private static final long RUN_LIMIT_MINUTES = 30;

    private MysqlSinkBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> env = System.getenv();
        int accounts = Integer.parseInt(env.getOrDefault("BENCH_ACCOUNTS", "100000"));
        int versions = Integer.parseInt(env.getOrDefault("BENCH_VERSIONS", "5"));
        int partitions = Integer.parseInt(env.getOrDefault("BENCH_PARTITIONS", "6"));
        String given = env.get("KAFKA_BOOTSTRAP_SERVERS");
        KafkaBroker broker = given == null ? KafkaBroker.start() : null;
        String bootstrap = given == null ? broker.bootstrapServers() : given;
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String database = "sink_mysql_bench_" + suffix;
        Map<String, String> sinkEnv = new HashMap<>(env);
        sinkEnv.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        sinkEnv.put("MYSQL_URL", env.getOrDefault("BENCH_MYSQL_SERVER", "jdbc:mysql://127.0.0.1:3306") + "/" + database);
        sinkEnv.put("BALANCE_EVENTS_TOPIC", "bench-events-" + suffix);
        sinkEnv.put("BALANCE_DLQ_TOPIC", "bench-dlq-" + suffix);
        sinkEnv.put("SINK_MYSQL_GROUP_ID", "bench-sink-" + suffix);
        MysqlSinkConfig config = MysqlSinkConfig.fromEnv(sinkEnv);
        try {
            createTopics(bootstrap, partitions, config);
            long events = produce(bootstrap, config.eventsTopic(), accounts, versions);
            run(config, events, (long) accounts * CURRENCIES.length);
        } finally {
            if (!Boolean.parseBoolean(env.getOrDefault("BENCH_KEEP_DATABASE", "false"))) {
                dropDatabase(config);
            }
            if (broker != null) {
                broker.close();
            }
        }
    }

    private static void run(MysqlSinkConfig config, long events, long balances) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        registry.config().meterFilter(wholeRunPercentiles());
        long startedNs = System.nanoTime();
        AtomicLong firstRowNs = new AtomicLong();
        try (MysqlSink sink = new MysqlSink(config, registry)) {
            sink.start();
            await().atMost(Duration.ofMinutes(RUN_LIMIT_MINUTES)).pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(100)).until(() -> {
                        if (!sink.isRunning()) {
                            throw new IllegalStateException("sink stopped", sink.failure().orElse(null));
                        }
                        if (firstRowNs.get() == 0 && registry.get("balance_sink_mysql_rows").counter().count() > 0) {
                            firstRowNs.set(System.nanoTime());
                        }
                        return committedToEnd(config);
                    });
        }
        long doneNs = System.nanoTime();
        report(config, registry, events, balances, startedNs, firstRowNs.get(), doneNs);
    }

    private static void report(MysqlSinkConfig config, SimpleMeterRegistry registry, long events, long balances,
                               long startedNs, long firstRowNs, long doneNs) throws SQLException {
        double totalS = (doneNs - startedNs) / 1e9;
        double writingS = (doneNs - firstRowNs) / 1e9;
        Timer latency = registry.get(LATENCY).timer();
        double batches = registry.get("balance_sink_mysql_batches").counter().count();
        System.out.printf("events=%d journalRows=%d balanceRows=%d (expected %d)%n", events,
                count(config, "balance_journal"), count(config, "balances"), balances);
        System.out.printf("batchSizeMax=%d flushIntervalMs=%d poolSize=%d batches=%.0f meanBatch=%.0f%n",
                config.batchSizeMax(), config.flushIntervalMs(), config.poolSize(), batches, events / batches);
        System.out.printf("total %.1f s -> %.0f rows/s (including schema, group join); writing %.1f s -> %.0f rows/s%n",
                totalS, events / totalS, writingS, events / writingS);
        StringBuilder percentiles = new StringBuilder("batch latency ms:");
        for (ValueAtPercentile p : latency.takeSnapshot().percentileValues()) {
            percentiles.append(String.format(" P%.0f=%.1f", p.percentile() * 100, p.value(TimeUnit.MILLISECONDS)));
        }
        percentiles.append(String.format(" max=%.1f mean=%.1f", latency.max(TimeUnit.MILLISECONDS),
                latency.mean(TimeUnit.MILLISECONDS)));
        System.out.println(percentiles);
    }

    /** Percentiles over the whole run rather than Micrometer's default rolling two minutes. */
    private static MeterFilter wholeRunPercentiles() {
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (!id.getName().equals(LATENCY)) {
                    return config;
                }
                return DistributionStatisticConfig.builder().percentiles(0.5, 0.95, 0.99).percentilePrecision(2)
                        .expiry(Duration.ofHours(1)).bufferLength(1).build().merge(config);
            }
        };
    }

    private static long produce(String bootstrap, String topic, int accounts, int versions) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        long count = 0;
        long startedNs = System.nanoTime();
        try (KafkaProducer<Long, byte[]> producer = new KafkaProducer<>(props, new LongSerializer(),
                new ByteArraySerializer())) {
            for (int version = 1; version <= versions; version++) {
                for (long account = 1; account <= accounts; account++) {
                    for (String currency : CURRENCIES) {
                        producer.send(new ProducerRecord<>(topic, account, Codecs.encodeEvent(
                                deposit(account, currency, version))));
                        count++;
                    }
                }
            }
            producer.flush();
        }
        System.out.printf("produced %d events in %.1f s%n", count, (System.nanoTime() - startedNs) / 1e9);
        return count;
    }

    private static BalanceEvent deposit(long account, String currency, int version) {
        BigDecimal amount = new BigDecimal("1.25");
        BigDecimal after = amount.multiply(BigDecimal.valueOf(version));
        return new BalanceEvent("bench-" + account + "-" + currency + "-" + version, account, currency,
                ChangeType.DEPOSIT, amount, 0L, Result.APPLIED, false, after.subtract(amount), BigDecimal.ZERO, after,
                BigDecimal.ZERO, version, 1_700_000_000_000L + version, "user-" + account, null, null);
    }

    private static void createTopics(String bootstrap, int partitions, MysqlSinkConfig config) throws Exception {
        try (Admin admin = admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic(config.eventsTopic(), partitions, (short) 1),
                    new NewTopic(config.dlqTopic(), 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
    }

    private static boolean committedToEnd(MysqlSinkConfig config) throws Exception {
        try (Admin admin = admin(config.bootstrapServers())) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(config.groupId())
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            int partitions = admin.describeTopics(List.of(config.eventsTopic())).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(config.eventsTopic()).partitions().size();
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                request.put(new TopicPartition(config.eventsTopic(), p), OffsetSpec.latest());
            }
            var ends = admin.listOffsets(request).all().get(30, TimeUnit.SECONDS);
            return ends.entrySet().stream().allMatch(end -> {
                OffsetAndMetadata offset = committed.get(end.getKey());
                return end.getValue().offset() == 0 || (offset != null && offset.offset() >= end.getValue().offset());
            });
        }
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000));
    }

    private static long count(MysqlSinkConfig config, String table) throws SQLException {
        try (Connection connection = DriverManager.getConnection(config.mysqlUrl(), config.mysqlUser(),
                config.mysqlPassword());
             Statement statement = connection.createStatement();
             ResultSet result = statement.executeQuery("SELECT COUNT(*) FROM " + table)) {
            result.next();
            return result.getLong(1);
        }
    }

    private static void dropDatabase(MysqlSinkConfig config) throws SQLException {
        try (Connection connection = DriverManager.getConnection(config.serverUrl(), config.mysqlUser(),
                config.mysqlPassword());
             Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS `" + config.databaseName() + "`");
        }
    }
}
