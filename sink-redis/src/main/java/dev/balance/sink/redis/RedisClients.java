package dev.balance.sink.redis;

import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisClient;

/** Builds the Redis client of a sink or a rebuild from its configuration. */
final class RedisClients {

    /** The sink uses one connection at a time; a second one covers a connection being replaced. */
    private static final int POOL_SIZE_MAX = 2;

    private RedisClients() {
    }

    static RedisClient create(RedisSinkConfig config) {
        DefaultJedisClientConfig.Builder client = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(config.redisTimeoutMs())
                .socketTimeoutMillis(config.redisTimeoutMs())
                .clientName("balance-sink-redis");
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
}
