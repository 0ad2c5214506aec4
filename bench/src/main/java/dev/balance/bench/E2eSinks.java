package dev.balance.bench;

import dev.balance.sink.mysql.MysqlSink;
import dev.balance.sink.mysql.MysqlSinkConfig;
import dev.balance.sink.redis.RedisClients;
import dev.balance.sink.redis.RedisSink;
import dev.balance.sink.redis.RedisSinkConfig;
import dev.balance.topology.KafkaClientProperties;
import dev.balance.topology.TopicNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.RedisClient;

/**
 * The two sinks of the e2e mode, started in this JVM beside the node as the launcher starts them
 * (its START_SINK_MYSQL and START_SINK_REDIS forced on), from the same environment variables
 * (MYSQL_URL, MYSQL_USER, MYSQL_PASSWORD, REDIS_URL, REDIS_PASSWORD, SINK_MYSQL_BATCH_SIZE_MAX, ...)
 * with what belongs to the run put in: the node's topics, consumer groups {@code <run>-sink-mysql}
 * and {@code <run>-sink-redis}, a database of its own ({@code bench_<run>} on the MYSQL_URL's server,
 * created by the sink with the project's schema) and the key prefix {@code <run>:} in Redis.
 *
 * <p>Closing stops both sinks, deletes their groups (unless {@code --keep-topics}) and drops the
 * database and the keys, unless they are kept ({@code --keep-stores}, or a failed check).
 */
final class E2eSinks implements AutoCloseable {

    static final String MYSQL = "mysql";
    static final String REDIS = "redis";
    static final List<String> NAMES = List.of(MYSQL, REDIS);
    /** The sinks' own counts of what they wrote (their SinkMetrics): journal rows, hash fields. */
    static final String MYSQL_ROWS_METER = "balance_sink_mysql_rows";
    static final String REDIS_FIELDS_METER = "balance.sink.redis.keys.written";
    private static final int PROBE_TIMEOUT_S = 5;

    private final Map<String, String> env;
    private final MysqlSinkConfig mysqlConfig;
    private final RedisSinkConfig redisConfig;
    private final boolean keepGroups;
    private final PrintStream out;
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private MysqlSink mysql;
    private RedisSink redis;
    private String keptBecause;

    private E2eSinks(Map<String, String> env, boolean keepGroups, String keptBecause, PrintStream out) {
        this.env = Map.copyOf(env);
        this.mysqlConfig = MysqlSinkConfig.fromEnv(env);
        this.redisConfig = RedisSinkConfig.fromEnv(env);
        this.keepGroups = keepGroups;
        this.keptBecause = keptBecause;
        this.out = out;
    }

    /**
     * Fails unless MySQL and Redis answer as the sinks would reach them: a wrong address or password
     * then stops the run before anything starts, rather than showing as a lag that never falls.
     */
    static void requireReachable(HttpTarget.Settings target, String runId, PrintStream out) {
        new E2eSinks(sinkEnv(target.env(), target.bootstrapServers(), runId), true, null, out).probe();
    }

    /** Starts both sinks on the run's topics. */
    static E2eSinks start(HttpTarget.Settings target, String runId, boolean keepStores, PrintStream out) {
        E2eSinks sinks = new E2eSinks(sinkEnv(target.env(), target.bootstrapServers(), runId), target.keepTopics(),
                keepStores ? "--keep-stores" : null, out);
        try {
            out.println("starting the MySQL sink (database " + sinks.mysqlConfig.databaseName() + ", group "
                    + sinks.mysqlConfig.groupId() + ") and the Redis sink (" + sinks.redisConfig.redisUrl().getHost()
                    + ":" + sinks.redisConfig.redisUrl().getPort() + ", keys " + sinks.redisConfig.keyPrefix()
                    + "balance:*, group " + sinks.redisConfig.groupId() + ")");
            sinks.mysql = new MysqlSink(sinks.mysqlConfig, sinks.registry);
            sinks.mysql.start();
            sinks.redis = new RedisSink(sinks.redisConfig, sinks.registry);
            sinks.redis.start();
            return sinks;
        } catch (RuntimeException e) {
            sinks.close();
            throw e;
        }
    }

    /**
     * The sinks' environment: the given one with the run's topics, groups, database and key prefix.
     * The database takes the place of the one MYSQL_URL names, on the same server with the same
     * parameters; a REDIS_KEY_PREFIX given stays in front of the run's.
     */
    static Map<String, String> sinkEnv(Map<String, String> env, String bootstrapServers, String runId) {
        TopicNames topics = TopicNames.withPrefix(runId + "-");
        Map<String, String> sinkEnv = new HashMap<>(env);
        sinkEnv.put("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers);
        sinkEnv.put("BALANCE_EVENTS_TOPIC", topics.events());
        sinkEnv.put("BALANCE_DLQ_TOPIC", topics.dlq());
        sinkEnv.put("SINK_MYSQL_GROUP_ID", runId + "-sink-mysql");
        sinkEnv.put("SINK_REDIS_GROUP_ID", runId + "-sink-redis");
        sinkEnv.put("MYSQL_URL", databaseUrl(MysqlSinkConfig.fromEnv(env).serverUrl(), "bench_" + runId));
        sinkEnv.put("REDIS_KEY_PREFIX", env.getOrDefault("REDIS_KEY_PREFIX", "") + runId + ":");
        return sinkEnv;
    }

    /** {@code jdbc:mysql://host:port/?params} with the database put in: {@code jdbc:mysql://host:port/db?params}. */
    static String databaseUrl(String serverUrl, String database) {
        int params = serverUrl.indexOf('?');
        return params < 0 ? serverUrl + database : serverUrl.substring(0, params) + database + serverUrl.substring(params);
    }

    /**
     * What {@code Reconcile} reads to compare the node at {@code nodeUrl} with this run's database
     * and keys: the sinks' variables, without keys or secrets (the benchmark's node is a DEV_MODE one
     * and takes its lookups unsigned) and without waiting (the sinks have caught up when it runs).
     */
    Map<String, String> reconcileEnv(URI nodeUrl) {
        Map<String, String> reconcile = new HashMap<>(env);
        reconcile.remove("API_KEY_ID");
        reconcile.remove("API_KEY_SECRET");
        reconcile.remove("HMAC_SECRET");
        reconcile.put("NODE_URL", nodeUrl.toString());
        reconcile.put("RECONCILE_WAIT_MS", "0");
        return reconcile;
    }

    MysqlSinkConfig mysqlConfig() {
        return mysqlConfig;
    }

    RedisSinkConfig redisConfig() {
        return redisConfig;
    }

    String groupId(String sink) {
        return switch (sink) {
            case MYSQL -> mysqlConfig.groupId();
            case REDIS -> redisConfig.groupId();
            default -> throw new IllegalArgumentException("no sink " + sink);
        };
    }

    /** What the sink counted as written so far (rows, or hash fields), or -1 when it has no such meter. */
    long written(String sink) {
        String meter = switch (sink) {
            case MYSQL -> MYSQL_ROWS_METER;
            case REDIS -> REDIS_FIELDS_METER;
            default -> throw new IllegalArgumentException("no sink " + sink);
        };
        Counter counter = registry.find(meter).counter();
        return counter == null ? -1 : (long) counter.count();
    }

    /** Fails when a sink's thread stopped on an error: its lag would never fall again. */
    void requireRunning() {
        if (mysql != null && mysql.failure().isPresent()) {
            throw new IllegalStateException("the MySQL sink stopped: " + mysql.failure().get(), mysql.failure().get());
        }
        if (redis != null && redis.failure().isPresent()) {
            throw new IllegalStateException("the Redis sink stopped: " + redis.failure().get(), redis.failure().get());
        }
    }

    /** Keeps the database and the keys after the run, saying why. */
    void keepStores(String why) {
        keptBecause = why;
    }

    /** Whether the server behind the URL's host is on this machine, so its process can be found and measured. */
    static boolean local(String host) {
        try {
            return host != null && InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    @Override
    public void close() {
        if (mysql == null && redis == null) {
            return; // nothing started, nothing written
        }
        if (redis != null) {
            redis.close();
        }
        if (mysql != null) {
            mysql.close();
        }
        if (!keepGroups) {
            try (BenchKafka kafka = new BenchKafka(mysqlConfig.bootstrapServers(), KafkaClientProperties.fromEnv(env))) {
                String problem = kafka.deleteGroups(List.of(mysqlConfig.groupId(), redisConfig.groupId()));
                if (problem != null) {
                    out.println("sink consumer groups left to the broker's retention: " + problem);
                }
            }
        }
        if (keptBecause != null) {
            out.println("kept (" + keptBecause + "): MySQL database " + mysqlConfig.databaseName() + ", Redis keys "
                    + redisConfig.keyPrefix() + "*");
            return;
        }
        dropDatabase();
        deleteKeys();
    }

    private void probe() {
        try (Connection connection = DriverManager.getConnection(mysqlConfig.serverUrl(), mysqlConfig.mysqlUser(),
                mysqlConfig.mysqlPassword())) {
            if (!connection.isValid(PROBE_TIMEOUT_S)) {
                throw new IllegalStateException("MySQL at " + mysqlConfig.serverUrl() + " does not answer");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("MySQL at " + mysqlConfig.serverUrl() + " cannot be reached: "
                    + e.getMessage(), e);
        }
        try (RedisClient client = redisClient()) {
            client.ping();
        } catch (RuntimeException e) {
            throw new IllegalStateException("Redis at " + redisConfig.redisUrl().getHost() + ":"
                    + redisConfig.redisUrl().getPort() + " cannot be reached: " + e.getMessage(), e);
        }
    }

    private void dropDatabase() {
        try (Connection connection = DriverManager.getConnection(mysqlConfig.serverUrl(), mysqlConfig.mysqlUser(),
                mysqlConfig.mysqlPassword()); Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS `" + mysqlConfig.databaseName() + "`");
            out.println("dropped MySQL database " + mysqlConfig.databaseName());
        } catch (SQLException e) {
            out.println("could not drop MySQL database " + mysqlConfig.databaseName() + ": " + e.getMessage());
        }
    }

    private void deleteKeys() {
        String pattern = redisConfig.keyPrefix() + "*";
        try (RedisClient client = redisClient()) {
            long deleted = RedisClients.deleteMatching(client, pattern);
            out.printf("deleted %,d Redis keys %s%n", deleted, pattern);
        } catch (RuntimeException e) {
            out.println("could not delete Redis keys " + pattern + ": " + e.getMessage());
        }
    }

    private RedisClient redisClient() {
        return RedisClients.create(redisConfig, "balance-bench");
    }
}
