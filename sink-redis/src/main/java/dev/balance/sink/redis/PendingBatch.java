package dev.balance.sink.redis;

import dev.balance.topology.model.BalanceEvent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Events read but not yet written, with the offsets they cover. The offsets are what may be
 * committed once the events are in Redis, and nothing else: a record that could not be decoded
 * still counts as covered (it will never be writable), an event of a revoked partition does not.
 */
final class PendingBatch {

    private final List<Entry> entries = new ArrayList<>();

    /** One consumed record; event is null when the record could not be decoded. */
    record Entry(TopicPartition partition, long offset, BalanceEvent event) {
    }

    void add(TopicPartition partition, long offset, BalanceEvent event) {
        entries.add(new Entry(partition, offset, event));
    }

    int size() {
        return entries.size();
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Forgets the records of partitions this consumer no longer owns: their new owner reads them again. */
    void dropPartitions(Collection<TopicPartition> partitions) {
        entries.removeIf(entry -> partitions.contains(entry.partition()));
    }

    List<BalanceEvent> events() {
        List<BalanceEvent> events = new ArrayList<>(entries.size());
        for (Entry entry : entries) {
            if (entry.event() != null) {
                events.add(entry.event());
            }
        }
        return events;
    }

    /** The next offset to read per partition, as Kafka expects a commit. */
    Map<TopicPartition, OffsetAndMetadata> offsetsToCommit() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (Entry entry : entries) {
            offsets.merge(entry.partition(), new OffsetAndMetadata(entry.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        return offsets;
    }

    void clear() {
        entries.clear();
    }
}
