package dev.balance.sink.redis;

/** Exponential backoff between two bounds: min, 2 min, 4 min, ... capped at max. */
final class Backoff {

    private final long maxMs;
    private long nextMs;

    Backoff(long minMs, long maxMs) {
        if (minMs <= 0 || maxMs < minMs) {
            throw new IllegalArgumentException("backoff needs 0 < min <= max, got " + minMs + ".." + maxMs);
        }
        this.maxMs = maxMs;
        this.nextMs = minMs;
    }

    /** The wait before the next attempt; each call doubles the following one up to the maximum. */
    long nextMs() {
        long wait = nextMs;
        nextMs = Math.min(maxMs, nextMs * 2);
        return wait;
    }
}
