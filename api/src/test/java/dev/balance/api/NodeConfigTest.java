package dev.balance.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
