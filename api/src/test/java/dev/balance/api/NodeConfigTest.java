package dev.balance.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigTest {

    @Test
    void rocksDbBudgetDefaultsToOneGibibyteWithHalfForMemtables() {
        NodeConfig config = NodeConfig.fromEnv(Map.of("DEV_MODE", "true"));
        assertThat(config.streams().rocksDbCacheBytes()).isEqualTo(1024L * 1024 * 1024);
        assertThat(config.streams().rocksDbWriteBufferBytes()).isEqualTo(512L * 1024 * 1024);
    }

    @Test
    void rocksDbBudgetComesFromTheEnvironmentInMebibytes() {
        NodeConfig config = NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "ROCKSDB_CACHE_MB", "256",
                "ROCKSDB_WRITE_BUFFER_MB", "64"));
        assertThat(config.streams().rocksDbCacheBytes()).isEqualTo(256L * 1024 * 1024);
        assertThat(config.streams().rocksDbWriteBufferBytes()).isEqualTo(64L * 1024 * 1024);
    }

    @Test
    void memtablesThatDoNotFitInTheCacheAreRefused() {
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "ROCKSDB_CACHE_MB", "256",
                "ROCKSDB_WRITE_BUFFER_MB", "256")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("RocksDB");
    }

    @Test
    void kafkaClientPropertiesReachTheStreamsConfigurationAndAnOverrideOfTheDesignsSettingsIsRefused(@TempDir Path dir)
            throws IOException {
        Path tls = Files.writeString(dir.resolve("tls.properties"), "security.protocol=SSL\n"
                + "ssl.truststore.location=/etc/balance/ca.p12\nssl.truststore.password=secret\n");
        Path override = Files.writeString(dir.resolve("override.properties"), "security.protocol=SSL\n"
                + "isolation.level=read_uncommitted\n");

        NodeConfig config = NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "KAFKA_CLIENT_PROPERTIES", tls.toString()));

        assertThat(config.streams().toProperties()).containsEntry("security.protocol", "SSL")
                .containsEntry("ssl.truststore.password", "secret");
        assertThat(config.toString()).contains("ssl.truststore.password=(hidden)").doesNotContain("secret");
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true",
                "KAFKA_CLIENT_PROPERTIES", override.toString())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'isolation.level'");
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true",
                "KAFKA_CLIENT_PROPERTIES", dir.resolve("missing.properties").toString())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("KAFKA_CLIENT_PROPERTIES").hasMessageContaining("does not exist");
    }

    @Test
    void shouldRefuseToStartOutsideDevelopmentModeWithoutKeysOrASecret() {
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "false")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("API_KEYS or HMAC_SECRET");
    }

    @Test
    void shouldRunInProductionModeWhenKeysOrASecretAreConfiguredWhateverDevModeSays() {
        NodeConfig withKeys = NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "API_KEYS", "k:key-secret-0123456789:write"));
        NodeConfig withSecret = NodeConfig.fromEnv(Map.of("HMAC_SECRET", "s"));
        NodeConfig development = NodeConfig.fromEnv(Map.of("DEV_MODE", "true"));

        assertThat(withKeys.credentials().enabled()).isTrue();
        assertThat(withKeys.httpHost()).isEqualTo("0.0.0.0");
        assertThat(withSecret.credentials().enabled()).isTrue();
        assertThat(development.credentials().enabled()).isFalse();
        assertThat(development.httpHost()).isEqualTo("127.0.0.1");
    }

    @Test
    void shouldTakeTlsFilesTogetherAndAMetricsPortOfItsOwn() {
        NodeConfig tls = NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "TLS_CERT_FILE", "c.pem", "TLS_KEY_FILE", "k.pem",
                "METRICS_PORT", "9100"));

        assertThat(tls.tls().trustFile().toString()).isEqualTo("c.pem");
        assertThat(tls.metricsPort()).isEqualTo(9100);
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "TLS_CERT_FILE", "c.pem")))
                .hasMessageContaining("TLS_KEY_FILE");
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "METRICS_PORT", "8080")))
                .hasMessageContaining("METRICS_PORT");
    }

    @Test
    void shouldRunAsAStaticMemberNamedAfterItsAdvertisedAddressWithAStandbyAndAFifteenSecondSession() {
        NodeConfig config = NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "NODE_HOST", "node-1.internal",
                "HTTP_PORT", "8081"));
        Properties props = config.streams().toProperties();

        assertThat(config.nodeId()).isEqualTo("node-1.internal-8081");
        assertThat(config.streams().standbyReplicas()).isEqualTo(1);
        assertThat(config.streams().sessionTimeoutMs()).isEqualTo(15_000);
        assertThat(config.leaveGroupOnShutdown()).isFalse();
        assertThat(config.shutdownTimeoutMs()).isEqualTo(30_000);
        assertThat(props).containsEntry("main.consumer.group.instance.id", "node-1.internal-8081")
                .containsEntry("main.consumer.session.timeout.ms", 15_000)
                .containsEntry("main.consumer.heartbeat.interval.ms", 500)
                .containsEntry("num.standby.replicas", 1)
                .containsEntry("balance.assignor.return.settle.ms", 10_000L)
                .containsEntry("group.protocol", "classic")
                .containsEntry("processing.guarantee", "exactly_once_v2");
    }

    @Test
    void shouldTakeTheMembershipSettingsFromTheEnvironment() {
        NodeConfig config = NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "NODE_ID", " balance-a ",
                "SESSION_TIMEOUT_MS", "6000", "STANDBY_REPLICAS", "0", "LEAVE_GROUP_ON_SHUTDOWN", "true",
                "SHUTDOWN_TIMEOUT_MS", "5000"));
        Properties props = config.streams().toProperties();

        assertThat(config.nodeId()).isEqualTo("balance-a");
        assertThat(config.streams().standbyReplicas()).isZero();
        assertThat(config.leaveGroupOnShutdown()).isTrue();
        assertThat(config.shutdownTimeoutMs()).isEqualTo(5_000);
        assertThat(props).containsEntry("main.consumer.session.timeout.ms", 6_000)
                .containsEntry("main.consumer.heartbeat.interval.ms", 500);
    }

    @Test
    void shouldTakeTheReturnSettleFromTheEnvironmentAndRefuseANegativeOne() {
        assertThat(NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "RETURN_SETTLE_MS", "0")).streams().toProperties())
                .containsEntry("balance.assignor.return.settle.ms", 0L);
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "RETURN_SETTLE_MS", "-1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("returnSettleMs");
    }

    @Test
    void shouldDeriveAValidNodeIdFromAnyAdvertisedHost() {
        assertThat(NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "NODE_HOST", "::1", "NODE_PORT", "9000")).nodeId())
                .isEqualTo("__1-9000");
        assertThat(NodeConfig.fromEnv(Map.of("DEV_MODE", "true")).nodeId()).isEqualTo("127.0.0.1-8080");
    }

    @Test
    void shouldRefuseANodeIdKafkaWouldRefuse() {
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "NODE_ID", "node:1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NODE_ID");
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "NODE_ID", "n".repeat(201))))
                .hasMessageContaining("NODE_ID");
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "SHUTDOWN_TIMEOUT_MS", "0")))
                .hasMessageContaining("SHUTDOWN_TIMEOUT_MS");
    }

    @Test
    void shouldLetTheProducerLingerThreeMillisecondsUnlessTold() {
        assertThat(NodeConfig.fromEnv(Map.of("DEV_MODE", "true")).producerLingerMs()).isEqualTo(3);
        assertThat(NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "PRODUCER_LINGER_MS", "0")).producerLingerMs()).isZero();
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "PRODUCER_LINGER_MS", "-1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PRODUCER_LINGER_MS");
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "true", "PRODUCER_LINGER_MS", "1001")))
                .hasMessageContaining("PRODUCER_LINGER_MS");
    }
}
