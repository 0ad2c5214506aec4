package dev.balance.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One interval of the e2e mode, between two readings: the node's rate (changes answered to the
 * generator, events it published), and per sink its lag at the end of the interval, how much the
 * lag changed, the events it got through (its committed offsets' advance) and what it wrote by
 * its own count.
 */
record E2eSample(String phase, double elapsedS, double intervalS, double changesPerS, double eventsPerS,
                 long nodeLag, List<Sink> sinks) {

    /** @param writtenPerS rows (MySQL) or hash fields (Redis) per second by the sink's meter; null without one */
    record Sink(String name, long lag, long lagChange, double eventsPerS, Double writtenPerS) {
    }

    E2eSample {
        sinks = List.copyOf(sinks);
    }

    /** The interval from {@code before} to {@code after}, {@code elapsedS} into its phase that began at {@code phaseStartNanos}. */
    static E2eSample between(String phase, long phaseStartNanos, E2eReading before, E2eReading after) {
        double intervalS = (after.nanos() - before.nanos()) / 1e9;
        List<Sink> sinks = new ArrayList<>();
        after.sinks().forEach((name, now) -> {
            E2eReading.Sink then = before.sinks().get(name);
            if (then == null) {
                throw new IllegalArgumentException("the sink " + name + " is not in the earlier reading");
            }
            Double writtenPerS = now.written() < 0 || then.written() < 0 ? null
                    : perS(now.written() - then.written(), intervalS);
            sinks.add(new Sink(name, now.lag().lag(), now.lag().lag() - then.lag().lag(),
                    perS(now.lag().committed() - then.lag().committed(), intervalS), writtenPerS));
        });
        return new E2eSample(phase, (after.nanos() - phaseStartNanos) / 1e9, intervalS,
                perS(after.changes() - before.changes(), intervalS), perS(after.events() - before.events(), intervalS),
                after.node().lag(), sinks);
    }

    private static double perS(long count, double seconds) {
        return seconds <= 0 ? 0 : count / seconds;
    }

    /**
     * The console line: {@code [load]   10 s  node 41,234 changes/s | mysql lag 120,000 (+9,000) 23,456 events/s
     * | redis lag 0 (+0) 41,200 events/s}.
     */
    String line() {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "[%s] %5.0f s  node %,.0f changes/s", phase,
                elapsedS, changesPerS));
        for (Sink sink : sinks) {
            line.append(String.format(Locale.ROOT, " | %s lag %,d (%+,d) %,.0f events/s", sink.name(), sink.lag(),
                    sink.lagChange(), sink.eventsPerS()));
        }
        return line.toString();
    }

    Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("phase", phase);
        map.put("elapsed_s", round(elapsedS));
        map.put("interval_s", round(intervalS));
        map.put("node_changes_per_s", Math.round(changesPerS));
        map.put("node_events_per_s", Math.round(eventsPerS));
        map.put("node_input_lag", nodeLag);
        for (Sink sink : sinks) {
            Map<String, Object> part = new LinkedHashMap<>();
            part.put("lag", sink.lag());
            part.put("lag_change", sink.lagChange());
            part.put("events_per_s", Math.round(sink.eventsPerS()));
            part.put("written_per_s", sink.writtenPerS() == null ? null : Math.round(sink.writtenPerS()));
            map.put(sink.name(), part);
        }
        return map;
    }

    private static double round(double seconds) {
        return Math.round(seconds * 10) / 10.0;
    }

    /** The samples of a run, phase by phase, each printed as it is taken. */
    static final class Series {
        private final PrintStream out;
        private final List<E2eSample> samples = new ArrayList<>();
        private String phase;
        private long phaseStartNanos;
        private E2eReading last;

        Series(PrintStream out) {
            this.out = out;
        }

        /** Starts a phase at {@code first}, the reading its first interval is measured from. */
        void begin(String phase, E2eReading first) {
            this.phase = phase;
            this.phaseStartNanos = first.nanos();
            this.last = first;
        }

        /** The interval since the last reading of the phase: printed, kept and returned. */
        E2eSample add(E2eReading reading) {
            if (phase == null) {
                throw new IllegalStateException("a sample needs a phase begun first");
            }
            E2eSample sample = between(phase, phaseStartNanos, last, reading);
            last = reading;
            samples.add(sample);
            out.println(sample.line());
            return sample;
        }

        List<E2eSample> inPhase(String name) {
            return samples.stream().filter(sample -> sample.phase().equals(name)).toList();
        }

        List<Map<String, Object>> toMaps() {
            return samples.stream().map(E2eSample::toMap).toList();
        }
    }
}
