package dev.balance.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Progress samples (time, records done) of one run, and the throughputs derived from them.
 * Overall throughput counts from the start of the run (startup, rebalance and warm-up included);
 * steady state leaves out the first seconds after the first progress and the last few percent
 * (the tail, where partitions finish one by one and the engine is no longer fully busy).
 */
final class ThroughputSamples {

    record Sample(long nanos, long done) {
    }

    private final long startNanos;
    private final List<Sample> samples = new ArrayList<>();

    ThroughputSamples(long startNanos) {
        this.startNanos = startNanos;
    }

    void add(long nanos, long done) {
        if (!samples.isEmpty() && (nanos < last().nanos() || done < last().done())) {
            throw new IllegalArgumentException("samples must grow in time and count");
        }
        samples.add(new Sample(nanos, done));
    }

    Sample last() {
        return samples.get(samples.size() - 1);
    }

    /** Seconds from the start to the last sample. */
    double elapsedS() {
        return samples.isEmpty() ? 0 : (last().nanos() - startNanos) / 1e9;
    }

    /** Records per second from the start to the last sample. */
    double overallPerS() {
        if (samples.isEmpty() || last().nanos() == startNanos) {
            return 0;
        }
        return last().done() * 1e9 / (last().nanos() - startNanos);
    }

    /** Seconds from the start until the first progress, or -1 when there was none. */
    double firstProgressS() {
        for (Sample sample : samples) {
            if (sample.done() > 0) {
                return (sample.nanos() - startNanos) / 1e9;
            }
        }
        return -1;
    }

    /**
     * Records per second between {@code warmupS} after the first progress and the moment
     * {@code endShare} of {@code total} was done. Falls back to the overall figure when the run
     * was too short to leave such a window.
     */
    double steadyPerS(long total, double warmupS, double endShare) {
        Sample first = null;
        for (Sample sample : samples) {
            if (sample.done() > 0) {
                first = sample;
                break;
            }
        }
        if (first == null) {
            return 0;
        }
        long windowStart = first.nanos() + (long) (warmupS * 1e9);
        Sample from = null;
        Sample to = null;
        for (Sample sample : samples) {
            if (from == null && sample.nanos() >= windowStart) {
                from = sample;
            }
            if (to == null && sample.done() >= endShare * total) {
                to = sample;
            }
        }
        if (from == null || to == null || to.nanos() <= from.nanos()) {
            return overallPerS();
        }
        return (to.done() - from.done()) * 1e9 / (to.nanos() - from.nanos());
    }

    /** Per-second rates over the run (from consecutive samples about a second apart). */
    List<Long> ratesPerSecond() {
        List<Long> rates = new ArrayList<>();
        Sample previous = new Sample(startNanos, 0);
        for (Sample sample : samples) {
            if (sample.nanos() - previous.nanos() >= 1_000_000_000L) {
                rates.add(Math.round((sample.done() - previous.done()) * 1e9 / (sample.nanos() - previous.nanos())));
                previous = sample;
            }
        }
        return rates;
    }
}
