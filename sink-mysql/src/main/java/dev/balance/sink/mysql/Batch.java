package dev.balance.sink.mysql;

import dev.balance.sink.mysql.DeadLetters.DeadLetter;
import dev.balance.sink.mysql.JournalWriter.Rejection;
import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.MalformedRecordException;
import dev.balance.topology.model.BalanceEvent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The records of one batch, decoded once: the applied events to write, the records that could not
 * be decoded, and the offsets to commit once the batch is durable. Immutable; a rebalance makes a
 * smaller copy without the partitions this sink lost.
 */
final class Batch {

    private final List<ConsumerRecord<byte[], byte[]>> records;
    private final List<ConsumerRecord<byte[], byte[]>> toWriteSources = new ArrayList<>();
    private final List<BalanceEvent> toWrite = new ArrayList<>();
    private final List<DeadLetter> undecodable = new ArrayList<>();

    private Batch(List<ConsumerRecord<byte[], byte[]>> records) {
        this.records = List.copyOf(records);
        for (ConsumerRecord<byte[], byte[]> record : this.records) {
            classify(record);
        }
    }

    static Batch of(List<ConsumerRecord<byte[], byte[]>> records) {
        return new Batch(records);
    }

    private void classify(ConsumerRecord<byte[], byte[]> record) {
        BalanceEvent event;
        try {
            event = decode(record.value());
        } catch (RuntimeException e) {
            // Bytes from the topic are input: any failure to read them (a malformed payload, a
            // field the event refuses) means this record can never be written.
            undecodable.add(new DeadLetter(record, e));
            return;
        }
        if (event.movedBalance()) {
            toWriteSources.add(record);
            toWrite.add(event);
        }
    }

    private static BalanceEvent decode(byte[] value) {
        if (value == null) {
            throw new MalformedRecordException("record has no value");
        }
        return Codecs.decodeEvent(value);
    }

    /** The applied events, in record order: what the journal and balances receive. */
    List<BalanceEvent> eventsToWrite() {
        return toWrite;
    }

    /** Records that could not be decoded plus the events the database refused for good. */
    List<DeadLetter> deadLetters(List<Rejection> rejections) {
        List<DeadLetter> letters = new ArrayList<>(undecodable);
        for (Rejection rejection : rejections) {
            letters.add(new DeadLetter(toWriteSources.get(rejection.index()), rejection.error()));
        }
        return letters;
    }

    /** Records read but neither written nor dead-lettered: rejections, replays, conflicts. */
    int skippedCount() {
        return records.size() - toWrite.size() - undecodable.size();
    }

    /** For each partition, the offset after the batch's last record there. */
    Map<TopicPartition, OffsetAndMetadata> offsetsToCommit() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            offsets.merge(new TopicPartition(record.topic(), record.partition()),
                    new OffsetAndMetadata(record.offset() + 1),
                    (kept, next) -> next.offset() > kept.offset() ? next : kept);
        }
        return offsets;
    }

    Batch without(Collection<TopicPartition> lost) {
        List<ConsumerRecord<byte[], byte[]>> kept = new ArrayList<>(records.size());
        for (ConsumerRecord<byte[], byte[]> record : records) {
            if (!lost.contains(new TopicPartition(record.topic(), record.partition()))) {
                kept.add(record);
            }
        }
        return kept.size() == records.size() ? this : new Batch(kept);
    }

    int size() {
        return records.size();
    }

    boolean isEmpty() {
        return records.isEmpty();
    }
}
