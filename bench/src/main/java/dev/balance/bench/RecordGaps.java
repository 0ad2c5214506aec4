package dev.balance.bench;

/**
 * The time between consecutive records on one stream thread: the per-record cost of processing,
 * whose tail shows where a thread stopped for a poll, a commit or a rebalance. It is the latency
 * the topology mode can honestly report, since its input is pre-produced and has no send time.
 */
final class RecordGaps {

    private final Latency gaps = new Latency();
    private final ThreadLocal<long[]> previous = ThreadLocal.withInitial(() -> new long[] {-1});

    void tick() {
        long now = System.nanoTime();
        long[] last = previous.get();
        if (last[0] >= 0) {
            gaps.recordNanos(now - last[0]);
        }
        last[0] = now;
    }

    Latency latency() {
        return gaps;
    }
}
