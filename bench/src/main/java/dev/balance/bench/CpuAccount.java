package dev.balance.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the CPU of a measured phase went: this JVM's threads grouped by role, the process time in
 * no live Java thread (RocksDB's native flush and compaction threads, GC, JIT), the broker process,
 * the database servers a mode names (e2e: MySQL and Redis) and the whole machine. On a
 * machine shared by broker, node and load generator, this is what shows which part a change's cost
 * is spent in, and whether the machine was out of CPU.
 *
 * <p>The broker's process id comes from {@code BENCH_BROKER_PID} (set by {@code scripts/bench}
 * for the broker it manages) and its time from {@code /proc/<pid>/stat}, in clock ticks of
 * {@code BENCH_CLK_TCK} (default 100). Without them, or off Linux, those parts are left out.
 * Threads that ended during the phase lose their time to the JVM's share.
 */
final class CpuAccount {

    /**
     * Thread roles, first match wins. The sinks' threads carry their consumer group in their names
     * (the sink thread, HikariCP's pool threads, the consumer's heartbeat thread, the dead-letter
     * producer's network thread), so they are matched before the producer network threads; a
     * mode without sinks leaves their parts out.
     */
    enum Role {
        STREAM_THREADS("stream threads (processing, RocksDB, sends)", Pattern.compile(".*-StreamThread-\\d+$")),
        SINK_MYSQL("MySQL sink (its thread, pool, consumer heartbeat, dead-letter producer)",
                Pattern.compile(".*sink-mysql.*"), true),
        SINK_REDIS("Redis sink (its thread, consumer heartbeat)", Pattern.compile("^redis-sink$|.*sink-redis.*"), true),
        PRODUCER_NETWORK("Kafka producer network threads", Pattern.compile("^kafka-producer-network-thread.*")),
        HTTP("HTTP server and answer threads", Pattern.compile("^(JettyServerThreadPool|qtp|answer-|Jetty).*")),
        FORWARDER("node-to-node forwarding client", Pattern.compile("^forward-.*")),
        GENERATOR("load generator", Pattern.compile("^(main|loadgen-.*|HttpClient-.*)$")),
        OTHER("other threads (consumers' heartbeat, admin, metrics)", Pattern.compile(".*"));

        final String label;
        final Pattern names;
        /** Left out of a phase's parts when it used no CPU: the sinks run in one mode only. */
        final boolean optional;

        Role(String label, Pattern names) {
            this(label, names, false);
        }

        Role(String label, Pattern names, boolean optional) {
            this.label = label;
            this.names = names;
            this.optional = optional;
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

    /**
     * CPU nanoseconds at one instant; -1 where a part could not be read. {@code servers} holds the
     * other processes of the run by part name (the database servers of e2e).
     */
    record Snapshot(long wallNanos, Map<Role, Long> threads, long processNanos, long brokerNanos, long machineBusyTicks,
                    long machineTotalTicks, Map<String, Long> servers) {

        Snapshot(long wallNanos, Map<Role, Long> threads, long processNanos, long brokerNanos, long machineBusyTicks,
                 long machineTotalTicks) {
            this(wallNanos, threads, processNanos, brokerNanos, machineBusyTicks, machineTotalTicks, Map.of());
        }
    }

    private static final String PROCESS_TOTAL = "bench_process_total";

    private final ThreadMXBean threadBean = ManagementFactory.getThreadMXBean();
    private final OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final Long brokerPid;
    private final long clockTicksPerSecond;
    /** Part name (e.g. {@code mysql_server_process}) to process id, in the order the parts are shown. */
    private final Map<String, Long> serverPids;

    CpuAccount(Map<String, String> env) {
        this(env, Map.of());
    }

    /** @param serverPids other processes of the run whose CPU is a part of its own, by part name */
    CpuAccount(Map<String, String> env, Map<String, Long> serverPids) {
        this.brokerPid = parsePositive(env.get("BENCH_BROKER_PID"));
        Long ticks = parsePositive(env.get("BENCH_CLK_TCK"));
        this.clockTicksPerSecond = ticks == null ? 100 : ticks;
        this.serverPids = new LinkedHashMap<>(serverPids);
    }

    /**
     * The id of a running process whose command name ({@code /proc/<pid>/comm}) is one of
     * {@code names}, or null when there is none or {@code /proc} cannot be read. Used for servers
     * on this machine that have no pid file of ours (MariaDB's {@code mariadbd}, {@code redis-server}).
     */
    static Long pidOf(Set<String> names) {
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    if (names.contains(Files.readString(entry.resolve("comm")).trim())) {
                        return Long.parseLong(name);
                    }
                } catch (IOException e) {
                    // The process ended while the list was read, or is not ours to read: not the one.
                }
            }
            return null;
        } catch (IOException | UncheckedIOException e) {
            return null;
        }
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
        Map<String, Long> servers = new LinkedHashMap<>();
        serverPids.forEach((part, pid) -> servers.put(part, processNanos(pid)));
        return new Snapshot(System.nanoTime(), byRole, os.getProcessCpuTime(), processNanos(brokerPid), machine[0],
                machine[1], servers);
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
            if (nanos > 0 || !role.optional) {
                parts.put(key(role), part(nanos, units));
            }
        }
        long processNanos = after.processNanos() - before.processNanos();
        // Native threads (RocksDB's flushes and compactions) and the JVM's own (GC, JIT) are not Java threads.
        parts.put("native_gc_jit_and_ended_threads", part(Math.max(0, processNanos - threadSum), units));
        parts.put(PROCESS_TOTAL, part(processNanos, units));
        if (before.brokerNanos() >= 0 && after.brokerNanos() >= 0) {
            parts.put("broker_process", part(after.brokerNanos() - before.brokerNanos(), units));
        }
        after.servers().forEach((server, nanos) -> {
            Long earlier = before.servers().get(server);
            if (earlier != null && earlier >= 0 && nanos >= 0) {
                parts.put(server, part(nanos - earlier, units));
            }
        });
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
        return describe(account, "changes", "change");
    }

    /** One line per part, for the console, per unit of work ({@code units} and {@code unit}: "changes", "change"). */
    static String describe(Map<String, Object> account, String units, String unit) {
        StringBuilder text = new StringBuilder();
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> parts = (Map<String, Map<String, Object>>) account.get("parts");
        text.append(String.format("cpu over %s s for %,d %s (core-seconds, CPU microseconds per %s):%n",
                account.get("wall_s"), (Long) account.get("units"), units, unit));
        for (Map.Entry<String, Map<String, Object>> part : parts.entrySet()) {
            text.append(String.format("  %-34s %7.1f s  %7.2f us%n", part.getKey(), part.getValue().get("cpu_s"),
                    part.getValue().get("us_per_unit")));
        }
        if (account.containsKey("machine_busy_share")) {
            text.append(String.format("  machine busy %.0f%% (%.2f cores), %.2f us per %s in all:"
                            + " at that cost %d cores carry at most %,d %s/s%n",
                    100 * (Double) account.get("machine_busy_share"), account.get("machine_busy_cores"),
                    account.get("machine_cpu_us_per_unit"), unit, Runtime.getRuntime().availableProcessors(),
                    account.get("ceiling_per_s_at_this_cost"), units));
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

    /** User and system CPU of a process from {@code /proc/<pid>/stat}; -1 without a pid or when unreadable. */
    /** CPU time of a process of this machine so far, from /proc; -1 when unknown. */
    long processNanos(Long pid) {
        if (pid == null) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc", pid.toString(), "stat"));
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

    static Long parsePositive(String text) {
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
