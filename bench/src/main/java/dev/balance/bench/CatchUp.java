package dev.balance.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * When each sink caught up once the load stopped: the first reading in which the node had
 * committed all of its input (so no event is left to come) and the sink's group had committed
 * every event. The node's lag is read before the sinks' in each reading, so a sink at zero after
 * a node at zero has written everything there will be.
 */
final class CatchUp {

    private final long loadEndNanos;
    private final List<String> sinks;
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    CatchUp(long loadEndNanos, List<String> sinks) {
        if (sinks.isEmpty()) {
            throw new IllegalArgumentException("catching up needs at least one sink");
        }
        this.loadEndNanos = loadEndNanos;
        this.sinks = List.copyOf(sinks);
    }

    void observe(E2eReading reading) {
        if (reading.node().lag() != 0) {
            return;
        }
        for (String sink : sinks) {
            E2eReading.Sink state = reading.sinks().get(sink);
            if (state == null) {
                throw new IllegalArgumentException("the reading has no sink " + sink);
            }
            if (state.lag().lag() == 0) {
                seconds.putIfAbsent(sink, Math.max(0, reading.nanos() - loadEndNanos) / 1e9);
            }
        }
    }

    boolean complete() {
        return seconds.size() == sinks.size();
    }

    /** Seconds from the end of the load until the sink had caught up, or null while it has not. */
    Double seconds(String sink) {
        return seconds.get(sink);
    }

    Map<String, Double> all() {
        return Collections.unmodifiableMap(seconds);
    }
}
