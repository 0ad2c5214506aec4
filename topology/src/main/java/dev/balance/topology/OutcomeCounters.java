package dev.balance.topology;

import dev.balance.topology.model.Result;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts of what the processors decided, per result, plus replays and dead letters. Shared by all
 * stream threads of one node; the API exports them as metrics. Counts include work of
 * transactions that later aborted, so they are for operations, not for accounting.
 */
public final class OutcomeCounters {

    private final Map<Result, LongAdder> byResult = new EnumMap<>(Result.class);
    private final LongAdder replays = new LongAdder();
    private final LongAdder deadLetters = new LongAdder();
    private final LongAdder purgedTransactions = new LongAdder();

    public OutcomeCounters() {
        for (Result result : Result.values()) {
            byResult.put(result, new LongAdder());
        }
    }

    void record(Result result, boolean replay) {
        byResult.get(result).increment();
        if (replay) {
            replays.increment();
        }
    }

    void deadLetter() {
        deadLetters.increment();
    }

    void purged(long count) {
        purgedTransactions.add(count);
    }

    public long count(Result result) {
        return byResult.get(result).sum();
    }

    public long replays() {
        return replays.sum();
    }

    public long deadLetters() {
        return deadLetters.sum();
    }

    public long purgedTransactions() {
        return purgedTransactions.sum();
    }
}
