package dev.balance.sink.mysql;

/**
 * Bounded exponential backoff: the first wait is {@code minMs}, each further failure doubles it,
 * and no wait is longer than {@code maxMs}. Deterministic, so a test can predict it.
 */
record Backoff(long minMs, long maxMs) {

    Backoff {
        if (minMs < 1 || maxMs < minMs) {
            throw new IllegalArgumentException("backoff needs 1 <= minMs <= maxMs, got " + minMs + ".." + maxMs);
        }
    }

    /** The wait after the given number of consecutive failures (1 for the first failure). */
    long delayMs(int failures) {
        if (failures < 1) {
            throw new IllegalArgumentException("failures start at 1, got " + failures);
        }
        // Doubling stops once past the maximum, so the shift never overflows.
        long delay = minMs;
        for (int i = 1; i < failures && delay < maxMs; i++) {
            delay *= 2;
        }
        return Math.min(delay, maxMs);
    }
}
