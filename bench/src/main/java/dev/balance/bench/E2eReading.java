package dev.balance.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the e2e mode reads at one instant: the changes its generator saw answered in the current
 * phase (batch items and single changes), the records on {@code balance-events} a
 * {@code read_committed} reader can reach, the node's lag on its input ({@code balance-changes},
 * its Kafka Streams group), and per sink its group's lag on {@code balance-events} and what it
 * counted as written (rows for MySQL, hash fields for Redis; -1 when it has no such meter).
 */
record E2eReading(long nanos, long changes, long events, GroupLag node, Map<String, Sink> sinks) {

    record Sink(GroupLag lag, long written) {
    }

    E2eReading {
        // The sinks keep the order they were given in: it is the order of the printed columns.
        sinks = Collections.unmodifiableMap(new LinkedHashMap<>(sinks));
    }
}
