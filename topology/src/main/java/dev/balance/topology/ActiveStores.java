package dev.balance.topology;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The {@code accounts} store of each partition whose active task runs in this instance, as the
 * processor holds it: registered when the task starts processing (after its restore), removed
 * when it closes. Interactive queries reach the same store object, but look it up through every
 * task of every stream thread, under a lock, on each read; in the read path's profile that lookup
 * cost more than the RocksDB get. Reading it from another thread is what interactive queries do
 * too: the store has no record cache, so a get goes straight to RocksDB, which is thread-safe.
 *
 * <p>A store handed out here can close under a reader (its task moved or crashed): the reader
 * then gets an {@code InvalidStateStoreException} and must treat the partition as unavailable.
 */
public final class ActiveStores {

    private final ConcurrentMap<Integer, ReadOnlyKeyValueStore<Bytes, byte[]>> byPartition = new ConcurrentHashMap<>();
    private final java.util.List<java.util.function.IntConsumer> closeListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Runs {@code listener} with the partition each time an active task here closes (it moved away,
     * or its stream thread stops), on the stream thread: it must be quick.
     */
    public void onClosed(java.util.function.IntConsumer listener) {
        closeListeners.add(listener);
    }

    void opened(int partition, ReadOnlyKeyValueStore<Bytes, byte[]> store) {
        byPartition.put(partition, store);
    }

    void closed(int partition, ReadOnlyKeyValueStore<Bytes, byte[]> store) {
        if (byPartition.remove(partition, store)) {
            for (java.util.function.IntConsumer listener : closeListeners) {
                listener.accept(partition);
            }
        }
    }

    /** The store of the partition's active task in this instance, or null when there is none. */
    public ReadOnlyKeyValueStore<Bytes, byte[]> get(int partition) {
        return byPartition.get(partition);
    }
}
