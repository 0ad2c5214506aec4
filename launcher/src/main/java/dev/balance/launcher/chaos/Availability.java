package dev.balance.launcher.chaos;

import dev.balance.api.query.Ownership;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * How available the cluster stayed under the kill scenarios, from the time each verdict reached
 * its client. A verdict counts for the partition of its account (a transfer's, its sender's).
 *
 * <ul>
 *   <li>kill-once: the rate of verdicts of the partitions the killed node did not own, second by
 *       second after the kill, against their rate over the 20 s before it; how long after the kill
 *       each partition it owned was decided again; when the restarted node answered /ready 200.</li>
 *   <li>kill-every: the rate of verdicts while nodes are being killed against the rate over the
 *       30 s before the first kill.</li>
 * </ul>
 */
final class Availability {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private Availability() {
    }

    static Map<String, Object> figures(Chaos.Options options, Load load, Chaos.Controller controller, long loadStartNanos,
                                       long loadEndNanos, PrintStream out) {
        Map<String, Object> figures = new LinkedHashMap<>();
        List<long[]> verdicts = new ArrayList<>();   // {decidedNanos, partition}
        synchronized (load.txs) {
            for (Load.Tx tx : load.txs) {
                if (tx.told != null && tx.decidedNanos != 0) {
                    verdicts.add(new long[] {tx.decidedNanos, Ownership.partitionOf(tx.account, options.partitions())});
                }
            }
        }
        if (options.scenario().equals(Chaos.SCALE)) {
            figures.put("added_serving_ms", controller.addedServingMs);
            figures.put("added_partitions", controller.addedPartitions);
            figures.put("removed_stop_ms", controller.removedStopMs);
            figures.put("removed_partitions_moved_ms", controller.removedMovedMs);
            long before = controller.addedNanos;
            figures.put("verdicts_per_s_before_add", round(rate(verdicts, before - 20 * SECOND, before, null)));
            figures.put("verdicts_per_s_after_remove", round(rate(verdicts, controller.removedNanos, loadEndNanos, null)));
            figures.put("verdicts_per_5s", series(verdicts, loadStartNanos, loadEndNanos, 5, null));
            out.println("chaos: availability " + figures);
            return figures;
        }
        List<Chaos.Controller.Kill> kills;
        synchronized (controller.kills) {
            kills = new ArrayList<>(controller.kills);
        }
        if (kills.isEmpty()) {
            return figures;
        }
        if (options.scenario().equals(Chaos.KILL_ONCE)) {
            killOnce(options, verdicts, kills.get(0), loadEndNanos, figures);
        } else {
            // The 30 s before the first kill: past the JIT's warm-up, which a run's first minute is not.
            long faultsFrom = controller.faultsFromNanos;
            long from = Math.max(loadStartNanos + 10 * SECOND, faultsFrom - 30 * SECOND);
            double baseline = rate(verdicts, from, faultsFrom, null);
            double underFaults = rate(verdicts, faultsFrom, loadEndNanos, null);
            figures.put("baseline_verdicts_per_s", round(baseline));
            figures.put("under_kills_verdicts_per_s", round(underFaults));
            figures.put("under_kills_ratio", round(underFaults / baseline));
            figures.put("verdicts_per_5s", series(verdicts, loadStartNanos, loadEndNanos, 5, null));
            List<Long> readyMs = new ArrayList<>();
            for (Chaos.Controller.Kill kill : kills) {
                readyMs.add(kill.readyNanos() == 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(kill.readyNanos() - kill.killedNanos()));
            }
            figures.put("kills", kills.size());
            figures.put("ready_after_kill_ms", readyMs);
        }
        out.println("chaos: availability " + figures);
        return figures;
    }

    private static void killOnce(Chaos.Options options, List<long[]> verdicts, Chaos.Controller.Kill kill, long loadEndNanos,
                                 Map<String, Object> figures) {
        Set<Integer> victims = new HashSet<>(kill.partitions());
        Set<Integer> others = new HashSet<>();
        for (int p = 0; p < options.partitions(); p++) {
            if (!victims.contains(p)) {
                others.add(p);
            }
        }
        long killed = kill.killedNanos();
        double baselineOthers = rate(verdicts, killed - 20 * SECOND, killed, others);
        double baselineVictims = rate(verdicts, killed - 20 * SECOND, killed, victims);
        figures.put("killed_node", kill.node());
        figures.put("killed_node_partitions", kill.partitions());
        figures.put("baseline_others_per_s", round(baselineOthers));
        figures.put("baseline_killed_partitions_per_s", round(baselineVictims));
        // Second by second after the kill, the other partitions' rate against their baseline.
        List<Double> ratios = new ArrayList<>();
        double lowest = Double.MAX_VALUE;
        double lowest5 = Double.MAX_VALUE;
        long until = Math.min(loadEndNanos, killed + 60 * SECOND);
        for (long t = killed; t + SECOND <= until; t += SECOND) {
            double ratio = rate(verdicts, t, t + SECOND, others) / baselineOthers;
            ratios.add(round(ratio));
            lowest = Math.min(lowest, ratio);
            if (t + 5 * SECOND <= until) {
                lowest5 = Math.min(lowest5, rate(verdicts, t, t + 5 * SECOND, others) / baselineOthers);
            }
        }
        // The same ratio over each second of the baseline itself: how low a second falls with no fault at
        // all (the load's own spread), against which the seconds after the kill can be read.
        double lowestBefore = Double.MAX_VALUE;
        for (long t = killed - 20 * SECOND; t + SECOND <= killed; t += SECOND) {
            lowestBefore = Math.min(lowestBefore, rate(verdicts, t, t + SECOND, others) / baselineOthers);
        }
        figures.put("others_lowest_ratio_1s_before_kill", round(lowestBefore));
        figures.put("others_ratio_by_second", ratios);
        figures.put("others_lowest_ratio_1s", round(lowest));
        figures.put("others_lowest_ratio_5s", round(lowest5));
        // When each partition the node owned was decided again (a verdict told after the kill).
        Map<Integer, Long> again = new LinkedHashMap<>();
        for (int partition : kill.partitions()) {
            long first = Long.MAX_VALUE;
            for (long[] verdict : verdicts) {
                if (verdict[1] == partition && verdict[0] > killed && verdict[0] < first) {
                    first = verdict[0];
                }
            }
            again.put(partition, first == Long.MAX_VALUE ? -1 : TimeUnit.NANOSECONDS.toMillis(first - killed));
        }
        figures.put("killed_partitions_decided_again_ms", again);
        figures.put("killed_partitions_decided_again_max_ms", again.values().stream().mapToLong(Long::longValue)
                .map(ms -> ms < 0 ? Long.MAX_VALUE : ms).max().orElse(-1));
        // When they were back at half their baseline rate, over a second.
        long backAt = -1;
        for (long t = killed; t + SECOND <= until; t += SECOND / 10) {
            if (rate(verdicts, t, t + SECOND, victims) >= baselineVictims / 2) {
                backAt = TimeUnit.NANOSECONDS.toMillis(t + SECOND - killed);
                break;
            }
        }
        figures.put("killed_partitions_half_rate_after_ms", backAt);
        figures.put("restarted_after_kill_ms", TimeUnit.NANOSECONDS.toMillis(kill.restartedNanos() - killed));
        figures.put("ready_after_restart_ms", kill.readyNanos() == 0 ? -1
                : TimeUnit.NANOSECONDS.toMillis(kill.readyNanos() - kill.restartedNanos()));
        figures.put("ready_after_kill_ms", kill.readyNanos() == 0 ? -1
                : TimeUnit.NANOSECONDS.toMillis(kill.readyNanos() - killed));
        figures.put("restored_records_seen", kill.restoredRecords());
        figures.put("verdicts_per_s_killed_partitions", series(verdicts, killed - 10 * SECOND, until, 1, victims));
    }

    /** Verdicts per second in [from, to), of the given partitions (all when null). */
    private static double rate(List<long[]> verdicts, long from, long to, Set<Integer> partitions) {
        if (to <= from) {
            return 0;
        }
        long count = 0;
        for (long[] verdict : verdicts) {
            if (verdict[0] >= from && verdict[0] < to && (partitions == null || partitions.contains((int) verdict[1]))) {
                count++;
            }
        }
        return count / ((to - from) / 1e9);
    }

    private static List<Long> series(List<long[]> verdicts, long from, long to, int stepS, Set<Integer> partitions) {
        List<Long> counts = new ArrayList<>();
        for (long t = from; t + stepS * SECOND <= to; t += stepS * SECOND) {
            counts.add(Math.round(rate(verdicts, t, t + stepS * SECOND, partitions) * stepS));
        }
        return counts;
    }

    private static double round(double value) {
        return Double.isFinite(value) ? Math.round(value * 100) / 100.0 : -1;
    }
}
