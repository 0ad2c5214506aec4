package dev.balance.sink.redis;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/** Reads and removes the balance hashes under one test's key prefix on a real Redis. */
final class RedisSnapshots implements AutoCloseable {

    private static final int SCAN_COUNT = 1_000;

    private final RedisClient redis;
    final String keyPrefix;

    RedisSnapshots(String host, int port) {
        // Checking a pooled connection before use lets the test read on after its Redis was restarted.
        GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
        pool.setTestOnBorrow(true);
        this.redis = RedisClient.builder().hostAndPort(host, port).poolConfig(pool).build();
        this.keyPrefix = "test-" + UUID.randomUUID().toString().substring(0, 8) + ":";
    }

    RedisClient client() {
        return redis;
    }

    /** key -> (currency -> value) of every balance hash under the prefix. */
    Map<String, Map<String, String>> read() {
        Map<String, Map<String, String>> snapshot = new HashMap<>();
        for (String key : keys()) {
            snapshot.put(key, redis.hgetAll(key));
        }
        return snapshot;
    }

    void deleteAll() {
        Set<String> keys = keys();
        if (!keys.isEmpty()) {
            redis.del(keys.toArray(String[]::new));
        }
    }

    private Set<String> keys() {
        Set<String> keys = new java.util.HashSet<>();
        ScanParams params = new ScanParams().match(keyPrefix + "balance:*").count(SCAN_COUNT);
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = redis.scan(cursor, params);
            keys.addAll(page.getResult());
            cursor = page.getCursor();
        } while (!ScanParams.SCAN_POINTER_START.equals(cursor));
        return keys;
    }

    @Override
    public void close() {
        redis.close();
    }
}
