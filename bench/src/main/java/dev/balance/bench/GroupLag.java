package dev.balance.bench;

import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Where a consumer group stands on one topic at one instant: the records it has not committed yet
 * ({@code lag}) and those it has ({@code committed}), summed over the topic's partitions and
 * counted from offset 0 (the benchmark's topics are new in every run, so nothing was deleted
 * before it). Offsets count transaction markers too: on a topic written in transactions both
 * figures include about one marker per partition and commit, a few hundred a second at most.
 */
record GroupLag(long lag, long committed) {

    GroupLag {
        if (lag < 0 || committed < 0) {
            throw new IllegalArgumentException("lag and committed records cannot be negative: " + lag + ", " + committed);
        }
    }

    /**
     * The lag of a group against the ends of a topic's partitions. A partition without a committed
     * offset counts from 0 (its consumer starts at the earliest record); an offset beyond the end
     * (read before it, a moment earlier) counts as the end, so lag is never negative.
     */
    static GroupLag of(Map<TopicPartition, Long> ends, Map<TopicPartition, Long> committed) {
        long lag = 0;
        long done = 0;
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            long position = Math.min(committed.getOrDefault(end.getKey(), 0L), end.getValue());
            lag += end.getValue() - position;
            done += position;
        }
        return new GroupLag(lag, done);
    }

    /** All records of the topic up to its ends, committed or not. */
    long total() {
        return lag + committed;
    }
}
