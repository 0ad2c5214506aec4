package dev.balance.sink.redis;

import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Builds the Redis client of a sink, a rebuild, a reconciliation or a benchmark from the sink's
 * configuration, and removes a run's keys.
 */
public final class RedisClients {

    /** The sink uses one connection at a time; a second one covers a connection being replaced. */
    private static final int POOL_SIZE_MAX = 2;

    private RedisClients() {
    }

    /** Keys asked for per SCAN page. */
    private static final int SCAN_COUNT = 1_000;

    static RedisClient create(RedisSinkConfig config) {
        return create(config, "balance-sink-redis");
    }

    /** @param clientName the name Redis shows for the connection (CLIENT LIST) */
    public static RedisClient create(RedisSinkConfig config, String clientName) {
        DefaultJedisClientConfig.Builder client = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(config.redisTimeoutMs())
                .socketTimeoutMillis(config.redisTimeoutMs())
                .clientName(clientName);
        if (config.redisPassword() != null) {
            client.password(config.redisPassword());
        }
        GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
        pool.setMaxTotal(POOL_SIZE_MAX);
        pool.setMaxIdle(POOL_SIZE_MAX);
        pool.setMaxWait(java.time.Duration.ofMillis(config.redisTimeoutMs()));
        // A password in the URL wins over REDIS_PASSWORD: fromURI merges into the config given first.
        return RedisClient.builder()
                .clientConfig(client.build())
                .fromURI(config.redisUrl())
                .poolConfig(pool)
                .build();
    }

    /** Deletes every key matching {@code pattern} (SCAN, page by page); returns how many were deleted. */
    public static long deleteMatching(RedisClient redis, String pattern) {
        long deleted = 0;
        String cursor = ScanParams.SCAN_POINTER_START;
        ScanParams match = new ScanParams().match(pattern).count(SCAN_COUNT);
        do {
            ScanResult<String> page = redis.scan(cursor, match);
            if (!page.getResult().isEmpty()) {
                deleted += redis.del(page.getResult().toArray(String[]::new));
            }
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return deleted;
    }
}
