package dev.balance.sink.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class MysqlSinkConfigTest {

    @Test
    void shouldUseTheDocumentedDefaultsWhenNothingIsSet() {
        MysqlSinkConfig config = MysqlSinkConfig.fromEnv(Map.of());

        assertThat(config.bootstrapServers()).isEqualTo("127.0.0.1:9092");
        assertThat(config.mysqlUrl()).isEqualTo("jdbc:mysql://127.0.0.1:3306/balance_system");
        assertThat(config.mysqlUser()).isEqualTo("root");
        assertThat(config.mysqlPassword()).isEmpty();
        assertThat(config.eventsTopic()).isEqualTo("balance-events");
        assertThat(config.dlqTopic()).isEqualTo("balance-dlq");
        assertThat(config.groupId()).isEqualTo("balance-sink-mysql");
        assertThat(config.batchSizeMax()).isEqualTo(5000);
        assertThat(config.databaseName()).isEqualTo("balance_system");
        assertThat(config.serverUrl()).isEqualTo("jdbc:mysql://127.0.0.1:3306/");
    }

    @Test
    void shouldReadTheDatabaseNameAndKeepTheUrlParametersForTheServerUrl() {
        MysqlSinkConfig config = MysqlSinkConfig.fromEnv(Map.of(
                "MYSQL_URL", "jdbc:mysql://db.internal:3307/ledger_2?useSSL=true&serverTimezone=UTC",
                "SINK_MYSQL_BATCH_SIZE_MAX", "250"));

        assertThat(config.databaseName()).isEqualTo("ledger_2");
        assertThat(config.serverUrl()).isEqualTo("jdbc:mysql://db.internal:3307/?useSSL=true&serverTimezone=UTC");
        assertThat(config.batchSizeMax()).isEqualTo(250);
    }

    @Test
    void shouldRefuseAUrlWithoutADatabase() {
        assertThatThrownBy(() -> MysqlSinkConfig.fromEnv(Map.of("MYSQL_URL", "jdbc:mysql://127.0.0.1:3306")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MYSQL_URL");
    }

    @Test
    void shouldRefuseLimitsOutOfRange() {
        assertThatThrownBy(() -> MysqlSinkConfig.fromEnv(Map.of("SINK_MYSQL_BATCH_SIZE_MAX", "0")))
                .hasMessageContaining("SINK_MYSQL_BATCH_SIZE_MAX");
        assertThatThrownBy(() -> MysqlSinkConfig.fromEnv(Map.of("SINK_MYSQL_BATCH_SIZE_MAX", "99999999999")))
                .hasMessageContaining("SINK_MYSQL_BATCH_SIZE_MAX");
        assertThatThrownBy(() -> MysqlSinkConfig.fromEnv(Map.of(
                "SINK_MYSQL_RETRY_BACKOFF_MIN_MS", "500", "SINK_MYSQL_RETRY_BACKOFF_MAX_MS", "100")))
                .hasMessageContaining("SINK_MYSQL_RETRY_BACKOFF_MAX_MS");
        assertThatThrownBy(() -> MysqlSinkConfig.fromEnv(Map.of("SINK_MYSQL_POOL_SIZE", "many")))
                .hasMessageContaining("SINK_MYSQL_POOL_SIZE");
    }

    @Test
    void shouldNeverShowThePasswordInItsText() {
        MysqlSinkConfig config = MysqlSinkConfig.fromEnv(Map.of("MYSQL_PASSWORD", "s3cret-value"));

        assertThat(config.toString()).doesNotContain("s3cret-value");
    }
}
