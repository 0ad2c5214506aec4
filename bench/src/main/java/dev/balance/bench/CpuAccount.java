package dev.balance.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where the CPU of a measured phase went: this JVM's threads grouped by role, the process time in
 * no live Java thread (RocksDB's native flush and compaction threads, GC, JIT), the broker process
 * and the whole machine. On a
 * machine shared by broker, node and load generator, this is what shows which part a change's cost
 * is spent in, and whether the machine was out of CPU.
 *
 * <p>The broker's process id comes from {@code BENCH_BROKER_PID} (set by {@code scripts/bench}
 * for the broker it manages) and its time from {@code /proc/<pid>/stat}, in clock ticks of
 * {@code BENCH_CLK_TCK} (default 100). Without them, or off Linux, those parts are left out.
 * Threads that ended during the phase lose their time to the JVM's share.
 */
final class CpuAccount {

    /** Thread roles, first match wins. */
    enum Role {
        STREAM_THREADS("stream threads (processing, RocksDB, sends)", Pattern.compile(".*-StreamThread-\\d+$")),
        PRODUCER_NETWORK("Kafka producer network threads", Pattern.compile("^kafka-producer-network-thread.*")),
        HTTP("HTTP server and answer threads", Pattern.compile("^(JettyServerThreadPool|qtp|answer-|Jetty).*")),
        FORWARDER("node-to-node forwarding client", Pattern.compile("^forward-.*")),
        GENERATOR("load generator", Pattern.compile("^(main|loadgen-.*|HttpClient-.*)$")),
        OTHER("other threads (consumers' heartbeat, admin, metrics)", Pattern.compile(".*"));

        final String label;
        final Pattern names;

        Role(String label, Pattern names) {
            this.label = label;
            this.names = names;
        }

        static Role of(String threadName) {
            for (Role role : values()) {
                if (role.names.matcher(threadName).matches()) {
                    return role;
                }
            }
            return OTHER;
        }
    }

    /** CPU nanoseconds at one instant; -1 where a part could not be read. */
    record Snapshot(long wallNanos, Map<Role, Long> threads, long processNanos, long brokerNanos, long machineBusyTicks,
                    long machineTotalTicks) {
    }

    private static final String PROCESS_TOTAL = "bench_process_total";

    private final ThreadMXBean threadBean = ManagementFactory.getThreadMXBean();
    private final OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final Long brokerPid;
    private final long clockTicksPerSecond;

    CpuAccount(Map<String, String> env) {
        this.brokerPid = parsePositive(env.get("BENCH_BROKER_PID"));
        Long ticks = parsePositive(env.get("BENCH_CLK_TCK"));
        this.clockTicksPerSecond = ticks == null ? 100 : ticks;
    }

    Snapshot snapshot() {
        Map<Role, Long> byRole = new LinkedHashMap<>();
        for (Role role : Role.values()) {
            byRole.put(role, 0L);
        }
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            long cpu = threadBean.getThreadCpuTime(thread.getId());
            if (cpu > 0) {
                byRole.merge(Role.of(thread.getName()), cpu, Long::sum);
            }
        }
        long[] machine = machineTicks();
        return new Snapshot(System.nanoTime(), byRole, os.getProcessCpuTime(), brokerNanos(), machine[0], machine[1]);
    }

    /**
     * The phase between two snapshots: seconds of CPU per part, microseconds of CPU per unit of
     * work (a change) per part, and the machine's busy share.
     */
    static Map<String, Object> between(Snapshot before, Snapshot after, long units, int cores) {
        double wallS = (after.wallNanos() - before.wallNanos()) / 1e9;
        Map<String, Object> parts = new LinkedHashMap<>();
        long threadSum = 0;
        for (Role role : Role.values()) {
            long nanos = Math.max(0, after.threads().get(role) - before.threads().get(role));
            threadSum += nanos;
            parts.put(key(role), part(nanos, units));
        }
        long processNanos = after.processNanos() - before.processNanos();
        // Native threads (RocksDB's flushes and compactions) and the JVM's own (GC, JIT) are not Java threads.
        parts.put("native_gc_jit_and_ended_threads", part(Math.max(0, processNanos - threadSum), units));
        parts.put(PROCESS_TOTAL, part(processNanos, units));
        if (before.brokerNanos() >= 0 && after.brokerNanos() >= 0) {
            parts.put("broker_process", part(after.brokerNanos() - before.brokerNanos(), units));
        }
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("wall_s", round(wallS, 1));
        map.put("units", units);
        map.put("parts", parts);
        long totalTicks = after.machineTotalTicks() - before.machineTotalTicks();
        if (before.machineTotalTicks() > 0 && totalTicks > 0) {
            double busyShare = (double) (after.machineBusyTicks() - before.machineBusyTicks()) / totalTicks;
            map.put("machine_busy_share", round(busyShare, 3));
            map.put("machine_busy_cores", round(busyShare * cores, 2));
            // What the whole machine spent per unit: the budget a 2-core box has is cores x 1e6 us per second.
            double busyCoreS = busyShare * cores * wallS;
            map.put("machine_cpu_us_per_unit", units == 0 ? null : round(busyCoreS * 1e6 / units, 2));
            map.put("ceiling_per_s_at_this_cost", busyCoreS == 0 ? null : Math.round(units * cores / busyCoreS));
        }
        return map;
    }

    /** One line per part, for the console. */
    static String describe(Map<String, Object> account) {
        StringBuilder text = new StringBuilder();
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> parts = (Map<String, Map<String, Object>>) account.get("parts");
        text.append(String.format("cpu over %s s for %,d changes (core-seconds, CPU microseconds per change):%n",
                account.get("wall_s"), (Long) account.get("units")));
        for (Map.Entry<String, Map<String, Object>> part : parts.entrySet()) {
            text.append(String.format("  %-34s %7.1f s  %7.2f us%n", part.getKey(), part.getValue().get("cpu_s"),
                    part.getValue().get("us_per_unit")));
        }
        if (account.containsKey("machine_busy_share")) {
            text.append(String.format("  machine busy %.0f%% (%.2f cores), %.2f us per change in all:"
                            + " at that cost %d cores carry at most %,d changes/s%n",
                    100 * (Double) account.get("machine_busy_share"), account.get("machine_busy_cores"),
                    account.get("machine_cpu_us_per_unit"), Runtime.getRuntime().availableProcessors(),
                    account.get("ceiling_per_s_at_this_cost")));
        }
        return text.toString();
    }

    /** The CPU seconds one role used in a phase described by {@link #between}. */
    static double seconds(Map<String, Object> account, Role role) {
        return partSeconds(account, key(role));
    }

    /** The CPU seconds the whole bench process used in a phase described by {@link #between}. */
    static double processSeconds(Map<String, Object> account) {
        return partSeconds(account, PROCESS_TOTAL);
    }

    @SuppressWarnings("unchecked")
    private static double partSeconds(Map<String, Object> account, String part) {
        Map<String, Map<String, Object>> parts = (Map<String, Map<String, Object>>) account.get("parts");
        return (Double) parts.get(part).get("cpu_s");
    }

    static String key(Role role) {
        return role.name().toLowerCase();
    }

    private static Map<String, Object> part(long nanos, long units) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("cpu_s", round(nanos / 1e9, 2));
        map.put("us_per_unit", units == 0 ? 0.0 : round(nanos / 1e3 / units, 2));
        return map;
    }

    private long brokerNanos() {
        if (brokerPid == null) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc", brokerPid.toString(), "stat"));
            // Fields after the command name (which may hold spaces) start after the last ')'.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
            return ticks * 1_000_000_000L / clockTicksPerSecond;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Busy and total jiffies of all cores together, from the first line of /proc/stat; zeros when unreadable. */
    private static long[] machineTicks() {
        try {
            String first = Files.readAllLines(Path.of("/proc/stat")).get(0);
            return parseMachineLine(first);
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }

    static long[] parseMachineLine(String line) {
        String[] fields = line.trim().split("\\s+");
        long total = 0;
        long idle = 0;
        // cpu user nice system idle iowait irq softirq steal [guest guest_nice, already counted in user/nice]
        for (int i = 1; i < Math.min(fields.length, 9); i++) {
            long value = Long.parseLong(fields[i]);
            total += value;
            if (i == 4 || i == 5) {
                idle += value;
            }
        }
        return new long[] {total - idle, total};
    }

    private static Long parsePositive(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            long value = Long.parseLong(text.trim());
            return value > 0 ? value : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static double round(double value, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(value * scale) / scale;
    }
}
