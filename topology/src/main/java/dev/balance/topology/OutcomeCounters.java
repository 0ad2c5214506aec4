package dev.balance.topology;

import dev.balance.topology.model.Leg;
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
    private final Map<Leg, LongAdder> byLeg = new EnumMap<>(Leg.class);
    private final LongAdder replays = new LongAdder();
    private final LongAdder deadLetters = new LongAdder();
    private final LongAdder purgedTransactions = new LongAdder();

    public OutcomeCounters() {
        for (Result result : Result.values()) {
            byResult.put(result, new LongAdder());
        }
        for (Leg leg : Leg.values()) {
            byLeg.put(leg, new LongAdder());
        }
    }

    void record(Result result, boolean replay, Leg leg) {
        byResult.get(result).increment();
        byLeg.get(leg).increment();
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

    /**
     * Decided commands of one leg: {@link Leg#NONE} and {@link Leg#DEBIT} are clients' changes,
     * {@link Leg#CREDIT} and {@link Leg#REFUND} the processor's own legs of two-account changes,
     * which the counts by result include too.
     */
    public long count(Leg leg) {
        return byLeg.get(leg).sum();
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
