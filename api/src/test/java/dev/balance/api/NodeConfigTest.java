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
}
