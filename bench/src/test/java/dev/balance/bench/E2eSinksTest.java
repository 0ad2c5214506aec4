package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.sink.mysql.MysqlSinkConfig;
import dev.balance.sink.redis.RedisSinkConfig;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class E2eSinksTest {

    @Test
    void theRunGetsItsOwnDatabaseOnTheConfiguredServerWithItsParameters() {
        assertThat(E2eSinks.databaseUrl("jdbc:mysql://10.0.0.5:3307/", "bench_b1"))
                .isEqualTo("jdbc:mysql://10.0.0.5:3307/bench_b1");
        assertThat(E2eSinks.databaseUrl("jdbc:mysql://db:3306/?useSSL=false&x=1", "bench_b1"))
                .isEqualTo("jdbc:mysql://db:3306/bench_b1?useSSL=false&x=1");
    }

    @Test
    void theSinksReadTheRunsTopicsInTheirOwnGroupsAndWriteToTheRunsDatabaseAndKeys() {
        Map<String, String> env = Map.of("MYSQL_URL", "jdbc:mysql://db:3306/balance_system?useSSL=false",
                "MYSQL_USER", "bench", "REDIS_URL", "redis://cache:6380", "REDIS_KEY_PREFIX", "lab:",
                "SINK_MYSQL_BATCH_SIZE_MAX", "2500", "KAFKA_BOOTSTRAP_SERVERS", "elsewhere:9092");

        Map<String, String> sinkEnv = E2eSinks.sinkEnv(env, "127.0.0.1:9092", "b1a2b3c");
        MysqlSinkConfig mysql = MysqlSinkConfig.fromEnv(sinkEnv);
        RedisSinkConfig redis = RedisSinkConfig.fromEnv(sinkEnv);

        assertThat(mysql.mysqlUrl()).isEqualTo("jdbc:mysql://db:3306/bench_b1a2b3c?useSSL=false");
        assertThat(mysql.databaseName()).isEqualTo("bench_b1a2b3c");
        assertThat(mysql.mysqlUser()).isEqualTo("bench");
        assertThat(mysql.batchSizeMax()).as("the sinks' own settings pass through").isEqualTo(2500);
        assertThat(mysql.bootstrapServers()).isEqualTo("127.0.0.1:9092");
        assertThat(mysql.eventsTopic()).isEqualTo("b1a2b3c-balance-events");
        assertThat(mysql.dlqTopic()).isEqualTo("b1a2b3c-balance-dlq");
        assertThat(mysql.groupId()).isEqualTo("b1a2b3c-sink-mysql");
        assertThat(redis.eventsTopic()).isEqualTo("b1a2b3c-balance-events");
        assertThat(redis.groupId()).isEqualTo("b1a2b3c-sink-redis");
        assertThat(redis.keyPrefix()).isEqualTo("lab:b1a2b3c:");
        assertThat(redis.redisUrl()).isEqualTo(URI.create("redis://cache:6380"));
    }

    @Test
    void withoutAnyVariableTheProjectsDefaultServersAreUsed() {
        Map<String, String> sinkEnv = E2eSinks.sinkEnv(Map.of(), "127.0.0.1:9092", "b9");

        assertThat(MysqlSinkConfig.fromEnv(sinkEnv).mysqlUrl()).isEqualTo("jdbc:mysql://127.0.0.1:3306/bench_b9");
        assertThat(RedisSinkConfig.fromEnv(sinkEnv).redisUrl()).isEqualTo(URI.create("redis://127.0.0.1:6379"));
        assertThat(RedisSinkConfig.fromEnv(sinkEnv).keyPrefix()).isEqualTo("b9:");
    }

    @Test
    void onlyServersOnThisMachineAreLocal() {
        assertThat(E2eSinks.local("127.0.0.1")).isTrue();
        assertThat(E2eSinks.local("localhost")).isTrue();
        assertThat(E2eSinks.local("192.0.2.10")).isFalse();
        assertThat(E2eSinks.local(null)).isFalse();
    }
}
