package dev.balance.bench;

/**
 * The intended send times of an open-model load at a fixed rate: request {@code i} is due at
 * {@code start + i / rate}, whatever happened to earlier requests. Measuring latency from these
 * times rather than from the actual send corrects coordinated omission: a stall of the server
 * (or of the generator) shows up in the latency of every request that should have been sent
 * during it.
 */
final class RateSchedule {

    private final long startNanos;
    private final double ratePerS;

    RateSchedule(long startNanos, double ratePerS) {
        if (!(ratePerS > 0) || Double.isInfinite(ratePerS)) {
            throw new IllegalArgumentException("the rate must be a positive number, got " + ratePerS);
        }
        this.startNanos = startNanos;
        this.ratePerS = ratePerS;
    }

    long startNanos() {
        return startNanos;
    }

    double ratePerS() {
        return ratePerS;
    }

    /** When request {@code index} (from 0) is due. */
    long dueNanos(long index) {
        return startNanos + Math.round(index * 1e9 / ratePerS);
    }

    /** How many requests fall due within {@code durationNanos} from the start. */
    long countWithin(long durationNanos) {
        return (long) Math.ceil(durationNanos * ratePerS / 1e9);
    }
}
