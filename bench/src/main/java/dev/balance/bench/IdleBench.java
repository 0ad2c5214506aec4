package dev.balance.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The {@code idle} mode: what a node and its broker cost when nobody uses them. It starts one node
 * as a JVM of its own, as a deployment runs it ({@link NodeProcess}), waits {@code --settle-s} after
 * it is ready (the JIT and the group's first rounds settle), then measures for {@code --measure-s}
 * the CPU of the node's process and of the broker ({@code BENCH_BROKER_PID}) from {@code /proc}, as a
 * share of one core. Once a second it reads one balance, so the figure is that of a node that still
 * answers, and the reads' latencies are the run's latency figures.
 */
final class IdleBench {

    static final Set<String> OPTIONS;

    static {
        Set<String> options = new HashSet<>(HttpTarget.OPTIONS);
        options.addAll(Set.of("settle-s", "measure-s", "ready-timeout-s"));
        OPTIONS = Set.copyOf(options);
    }

    private static final long PROBE_PERIOD_MS = 1_000;

    record Settings(HttpTarget.Settings target, long settleS, long measureS, long readyTimeoutS) {

        static Settings from(Args args, Map<String, String> env) {
            args.requireKnown(OPTIONS);
            HttpTarget.Settings target = HttpTarget.Settings.from(args, env);
            if (target.url() != null || target.nodes() != 1) {
                throw new IllegalArgumentException("idle starts its own node process: --url and --nodes do not apply");
            }
            Settings settings = new Settings(target, args.longValue("settle-s", 120), args.longValue("measure-s", 60),
                    args.longValue("ready-timeout-s", 300));
            if (settings.settleS < 0 || settings.measureS <= 0 || settings.readyTimeoutS <= 0) {
                throw new IllegalArgumentException("--settle-s must not be negative; --measure-s and --ready-timeout-s"
                        + " must be positive");
            }
            return settings;
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>(target.toMap());
            map.put("target", "one node process (launcher, API only), no load but one balance read a second");
            map.put("settle_s", settleS);
            map.put("measure_s", measureS);
            return map;
        }
    }

    private final Settings settings;
    private final PrintStream out;

    IdleBench(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    Map<String, Object> run(String runId) {
        out.println("idle benchmark " + runId + ": " + settings.toMap());
        Path runDir = settings.target().stateDir().resolve(runId).toAbsolutePath();
        int port = HttpTarget.freePort();
        Map<String, String> env = RestartBench.nodeEnv(settings.target(), null, null, runId, port, runDir.resolve("state"),
                runDir.resolve("logs"));
        NodeProbe probe = new NodeProbe(URI.create("http://127.0.0.1:" + port));
        CpuAccount cpu = new CpuAccount(settings.target().env());
        Long brokerPid = CpuAccount.parsePositive(settings.target().env().get("BENCH_BROKER_PID"));
        try (NodeProcess node = NodeProcess.start(env, runDir.resolve("node.out"))) {
            long readyMs = probe.awaitReady(node, TimeUnit.SECONDS.toMillis(settings.readyTimeoutS()),
                    new RestoreProgress(), runDir.resolve("node.out"));
            out.printf("node ready %,d ms after launch; settling for %d s%n", readyMs, settings.settleS());
            Latency reads = new Latency();
            probeFor(probe, settings.settleS(), new Latency());
            long nodeBefore = cpu.processNanos(node.pid());
            long brokerBefore = cpu.processNanos(brokerPid);
            long started = System.nanoTime();
            int failures = probeFor(probe, settings.measureS(), reads);
            double wallS = (System.nanoTime() - started) / 1e9;
            double nodeShare = share(cpu.processNanos(node.pid()) - nodeBefore, wallS);
            double brokerShare = brokerPid == null ? Double.NaN : share(cpu.processNanos(brokerPid) - brokerBefore, wallS);
            out.printf("idle over %.0f s: node %.2f%% of a core, broker %s, together %s (reads: %s)%n", wallS, nodeShare,
                    Double.isNaN(brokerShare) ? "not measured (no BENCH_BROKER_PID)" : String.format("%.2f%%", brokerShare),
                    Double.isNaN(brokerShare) ? "-" : String.format("%.2f%% of a core", nodeShare + brokerShare),
                    Latency.line(reads.snapshot()));
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("mode", "idle");
            result.put("throughput_per_s", Math.round(reads.snapshot().getTotalCount() / wallS));
            result.put("throughput_unit", "balance reads per second (one a second, to show the node answers)");
            result.put("latency_kind", "per balance read");
            Map<String, Object> latency = Latency.summary(reads.snapshot());
            Latency.putFigures(result, latency);
            result.put("node_cpu_percent_of_core", round(nodeShare));
            if (!Double.isNaN(brokerShare)) {
                result.put("broker_cpu_percent_of_core", round(brokerShare));
                result.put("together_cpu_percent_of_core", round(nodeShare + brokerShare));
            }
            result.put("ready_ms", readyMs);
            result.put("settings", settings.toMap());
            if (failures > 0) {
                result.put("failed", failures + " balance reads of the idle node did not answer 200");
            }
            return result;
        } finally {
            RestartBench.cleanUp(settings.target(), runId, runDir, out);
        }
    }

    /** Reads one balance a second for {@code seconds}; returns how many reads did not answer 200. */
    private static int probeFor(NodeProbe probe, long seconds, Latency latency) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        int failures = 0;
        long next = System.nanoTime();
        while (next < end) {
            long sent = System.nanoTime();
            try {
                HttpResponse<String> answer = probe.balance(1, ChangeBodies.CURRENCY);
                latency.recordNanos(System.nanoTime() - sent);
                if (answer.statusCode() != 200) {
                    failures++;
                }
            } catch (IOException e) {
                failures++;
            }
            next += TimeUnit.MILLISECONDS.toNanos(PROBE_PERIOD_MS);
            LockSupport.parkNanos(Math.max(0, Math.min(next, end) - System.nanoTime()));
        }
        return failures;
    }

    /** CPU time over wall time as a percentage of one core. */
    static double share(long cpuNanos, double wallS) {
        return cpuNanos < 0 ? Double.NaN : cpuNanos / 1e9 / wallS * 100;
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
