package dev.balance.topology;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds the memory of all RocksDB stores of one Streams instance: one block cache, and the
 * memtables charged against it through a write buffer manager (the pattern of the Kafka Streams
 * memory-management guide). Kafka Streams creates this class by name, once per store, so the
 * shared cache has to live in a static holder; it is created once per JVM with the first sizes
 * seen and never replaced.
 */
public final class BoundedRocksDbConfig implements RocksDBConfigSetter {

    public static final String CACHE_BYTES_CONFIG = "balance.rocksdb.cache.bytes";
    public static final String WRITE_BUFFER_BYTES_CONFIG = "balance.rocksdb.write.buffer.bytes";

    private static final Object LOCK = new Object();
    private static Cache sharedCache;
    private static WriteBufferManager sharedWriteBuffers;

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        long cacheBytes = longConfig(configs, CACHE_BYTES_CONFIG, 256L * 1024 * 1024);
        long writeBufferBytes = longConfig(configs, WRITE_BUFFER_BYTES_CONFIG, 64L * 1024 * 1024);
        synchronized (LOCK) {
            if (sharedCache == null) {
                sharedCache = new LRUCache(cacheBytes, -1, false, 0.1);
                sharedWriteBuffers = new WriteBufferManager(writeBufferBytes, sharedCache);
            }
        }
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        table.setBlockCache(sharedCache);
        table.setCacheIndexAndFilterBlocks(true);
        table.setCacheIndexAndFilterBlocksWithHighPriority(true);
        table.setPinTopLevelIndexAndFilter(true);
        // The newest files are read by almost every lookup; keeping their filters pinned spares a cache probe.
        table.setPinL0FilterAndIndexBlocksInCache(true);
        options.setWriteBufferManager(sharedWriteBuffers);
        options.setTableFormatConfig(table);
        // Nearly every lookup of a remembered verdict is a miss (a new id). A whole-key bloom filter on the
        // memtables answers those without walking the memtables' skip lists; misses in files already stop at
        // the files' bloom filters.
        options.setMemtablePrefixBloomSizeRatio(0.1);
        options.setMemtableWholeKeyFiltering(true);
        options.setMaxWriteBufferNumber(3);
        // 64 MB memtables (the manager above still bounds them all): against 16 MB, with a 512 MiB budget instead of
        // 256 MiB, the topology benchmark spent 11-13% less CPU per change, with 1M and with 3M accounts.
        options.setWriteBufferSize(64L * 1024 * 1024);
    }

    @Override
    public void close(String storeName, Options options) {
        // The cache and write buffer manager are shared by every store; closing them with one store would break the others.
    }

    private static long longConfig(Map<String, Object> configs, String key, long fallback) {
        Object value = configs.get(key);
        if (value == null) {
            return fallback;
        }
        return value instanceof Number number ? number.longValue() : Long.parseLong(value.toString());
    }
}
