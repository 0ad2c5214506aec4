package dev.balance.sink.redis.bench;

import dev.balance.sink.redis.RedisSink;
import dev.balance.sink.redis.RedisSinkConfig;
import dev.balance.topology.codec.Codecs;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Result;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Throughput of the Redis sink: pre-produces applied events to a real in-process broker, then runs
 * the sink from the first event until its committed offsets reach the end, and prints updates/s
 * with the batch latency percentiles. Not part of the test run: start it by hand (see the README).
 *
 * <p>Settings from the environment: BENCH_EVENTS (1000000), BENCH_ACCOUNTS (250000),
 * BENCH_PARTITIONS (12), SINK_REDIS_BATCH_SIZE_MAX (2000), SINK_REDIS_FLUSH_INTERVAL_MS (50), and
 * BENCH_REDIS_URL: when unset a private redis-server without persistence is started on a free port,
 * so the benchmark never loads a Redis that others use.
 */
public final class RedisSinkBench {

    private static final String[] CURRENCIES = {"BTC", "ETH", "USDT"};
    private static final int[] SCALES = {8, 18, 6};
    private static final Duration RUN_WITHIN = Duration.ofMinutes(30);

    private RedisSinkBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> env = System.getenv();
        int events = Integer.parseInt(env.getOrDefault("BENCH_EVENTS", "1000000"));
        int accounts = Integer.parseInt(env.getOrDefault("BENCH_ACCOUNTS", "250000"));
        int partitions = Integer.parseInt(env.getOrDefault("BENCH_PARTITIONS", "12"));
        Process privateRedis = null;
        String redisUrl = env.get("BENCH_REDIS_URL");
        if (redisUrl == null) {
            int port = freePort();
            privateRedis = startRedis(port);
            redisUrl = "redis://127.0.0.1:" + port;
        }
        String prefix = "bench-" + UUID.randomUUID().toString().substring(0, 8) + ":";
        try (KafkaBroker broker = KafkaBroker.start()) {
            String topic = "bench-events";
            broker.createTopics(partitions, topic);
            long produceStart = System.nanoTime();
            produce(broker, topic, events, accounts);
            System.out.printf("produced %,d applied events over %,d accounts x %d currencies in %d ms%n", events,
                    accounts, CURRENCIES.length, Duration.ofNanos(System.nanoTime() - produceStart).toMillis());
            run(broker, topic, redisUrl, prefix, env, events, partitions);
        } finally {
            deleteKeys(redisUrl, prefix);
            if (privateRedis != null) {
                privateRedis.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    private static void run(KafkaBroker broker, String topic, String redisUrl, String prefix, Map<String, String> env,
                            int events, int partitions) throws Exception {
        Map<String, String> sinkEnv = new HashMap<>(env);
        sinkEnv.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
        sinkEnv.put("REDIS_URL", redisUrl);
        sinkEnv.put("REDIS_KEY_PREFIX", prefix);
        sinkEnv.put("BALANCE_EVENTS_TOPIC", topic);
        sinkEnv.put("SINK_REDIS_GROUP_ID", "bench-" + UUID.randomUUID());
        RedisSinkConfig config = RedisSinkConfig.fromEnv(sinkEnv);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        long startNs = System.nanoTime();
        try (RedisSink sink = new RedisSink(config, registry); Admin admin = broker.admin()) {
            sink.start();
            long deadlineNs = startNs + RUN_WITHIN.toNanos();
            while (!committedToEnd(admin, topic, config.groupId(), partitions)) {
                if (System.nanoTime() > deadlineNs || sink.failure().isPresent()) {
                    throw new IllegalStateException("sink did not finish: " + sink.failure().orElse(null));
                }
                // A benchmark's progress probe: the admin call itself takes milliseconds, this bounds its rate.
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
        report(registry, config, events, Duration.ofNanos(System.nanoTime() - startNs));
    }

    private static void report(SimpleMeterRegistry registry, RedisSinkConfig config, int events, Duration elapsed) {
        String p = "balance.sink.redis.";
        double seconds = elapsed.toNanos() / 1e9;
        double batches = registry.get(p + "batches").counter().count();
        double written = registry.get(p + "keys.written").counter().count();
        double stale = registry.get(p + "stale.writes.skipped").counter().count();
        Timer latency = registry.get(p + "batch.latency").timer();
        System.out.printf("settings: batchSizeMax=%d flushIntervalMs=%d%n", config.batchSizeMax(),
                config.flushIntervalMs());
        System.out.printf("events: %,d in %.2f s = %,.0f events/s%n", events, seconds, events / seconds);
        System.out.printf("snapshot updates (fields written): %,.0f = %,.0f updates/s; stale skipped %,.0f%n",
                written, written / seconds, stale);
        System.out.printf("batches: %,.0f, mean batch size %.0f events%n", batches,
                registry.get(p + "batch.size").summary().mean());
        StringBuilder percentiles = new StringBuilder("batch latency (write + commit):");
        for (ValueAtPercentile value : latency.takeSnapshot().percentileValues()) {
            percentiles.append(String.format(" P%.0f=%.2f ms", value.percentile() * 100,
                    value.value(TimeUnit.MILLISECONDS)));
        }
        percentiles.append(String.format(" max=%.2f ms", latency.max(TimeUnit.MILLISECONDS)));
        System.out.println(percentiles);
    }

    private static void produce(KafkaBroker broker, String topic, int events, int accounts) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, LongSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        Random random = new Random(1);
        long[][] versions = new long[accounts][CURRENCIES.length];
        try (KafkaProducer<Long, byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < events; i++) {
                int account = random.nextInt(accounts);
                int currency = random.nextInt(CURRENCIES.length);
                long version = ++versions[account][currency];
                BalanceEvent event = applied(account + 1L, currency, version, random, i);
                producer.send(new ProducerRecord<>(topic, event.accountId(), Codecs.encodeEvent(event)));
            }
            producer.flush();
        }
    }

    private static BalanceEvent applied(long account, int currency, long version, Random random, int sequence) {
        BigDecimal available = BigDecimal.valueOf(random.nextInt(1_000_000_000), 3).setScale(SCALES[currency]);
        BigDecimal frozen = BigDecimal.valueOf(random.nextInt(1_000_000), 3).setScale(SCALES[currency]);
        BigDecimal zero = BigDecimal.ZERO.setScale(SCALES[currency]);
        return new BalanceEvent("bench-" + sequence, account, CURRENCIES[currency], ChangeType.DEPOSIT,
                BigDecimal.ONE, 0, Result.APPLIED, false, zero, zero, available, frozen, version,
                1_700_000_000_000L + sequence, null, null, null);
    }

    private static boolean committedToEnd(Admin admin, String topic, String group, int partitions) throws Exception {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (int partition = 0; partition < partitions; partition++) {
            request.put(new TopicPartition(topic, partition), OffsetSpec.latest());
        }
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        var ends = admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                .get(30, TimeUnit.SECONDS);
        for (var end : ends.entrySet()) {
            OffsetAndMetadata offset = committed.get(end.getKey());
            if (offset == null || offset.offset() < end.getValue().offset()) {
                return false;
            }
        }
        return true;
    }

    private static Process startRedis(int port) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(Paths.get("target").toAbsolutePath(), "bench-redis-");
        Process process = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString())
                .redirectErrorStream(true).redirectOutput(new File(dir.toFile(), "redis.log")).start();
        long deadlineNs = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try (RedisClient client = RedisClient.create("127.0.0.1", port)) {
                client.ping();
                return process;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadlineNs) {
                    throw new IllegalStateException("private redis-server did not start", e);
                }
                TimeUnit.MILLISECONDS.sleep(50);
            }
        }
    }

    private static void deleteKeys(String redisUrl, String prefix) {
        try (RedisClient client = RedisClient.create(redisUrl)) {
            ScanParams params = new ScanParams().match(prefix + "*").count(10_000);
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                ScanResult<String> page = client.scan(cursor, params);
                if (!page.getResult().isEmpty()) {
                    client.del(page.getResult().toArray(String[]::new));
                }
                cursor = page.getCursor();
            } while (!ScanParams.SCAN_POINTER_START.equals(cursor));
        }
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
