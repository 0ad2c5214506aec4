package dev.balance.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.balance.api.NodeConfig;
import dev.balance.topology.KafkaClientProperties;
import dev.balance.topology.Stores;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The {@code restart} mode: how a node with many accounts in its stores comes back. It starts one
 * node as a JVM of its own ({@link NodeProcess}), funds {@code --accounts} accounts with one deposit
 * each by batches, and records the funding rate, the process's resident memory, its state directory's
 * size on disk and the changelog's size. Then it restarts the node three times, each timed from the
 * new process's launch to the first 200 from {@code /ready}, with the records it restored:
 * killed (SIGKILL) with its state kept, stopped cleanly (SIGTERM), and killed with its state wiped
 * (a restore from zero: the changelog replay). After each, a random sample of the funded accounts
 * must read back exactly the funded balance; one that does not fails the run.
 */
final class RestartBench {

    static final Set<String> OPTIONS;

    static {
        Set<String> options = new HashSet<>(HttpTarget.OPTIONS);
        options.addAll(Set.of("accounts", "write-buffer-mb", "cache-mb", "sample", "ready-timeout-s", "stop-timeout-s",
                "seed"));
        OPTIONS = Set.copyOf(options);
    }

    /** Connections funding the accounts, each with a batch in flight (http-batch's default). */
    static final int FUNDING_CONNECTIONS = 4;
    static final int MISMATCHES_SHOWN_MAX = 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BigDecimal FUNDED = new BigDecimal(ChangeBodies.PREFILL_AMOUNT);

    /** The three restarts, in the order they run. */
    enum Restart {
        KILL("kill -9, state kept"),
        STOP("clean stop (SIGTERM), state kept"),
        WIPE("kill -9, state wiped (restore from zero)");

        final String description;

        Restart(String description) {
            this.description = description;
        }
    }

    /**
     * @param writeBufferMb ROCKSDB_WRITE_BUFFER_MB for the node, or null for the node's default
     * @param cacheMb       ROCKSDB_CACHE_MB for the node, or null for the node's default
     */
    record Settings(HttpTarget.Settings target, int accounts, Long writeBufferMb, Long cacheMb, int sample,
                    long readyTimeoutS, long stopTimeoutS, long seed) {

        static Settings from(Args args, Map<String, String> env) {
            args.requireKnown(OPTIONS);
            HttpTarget.Settings target = HttpTarget.Settings.from(args, env);
            if (target.url() != null || target.nodes() != 1) {
                throw new IllegalArgumentException("restart starts its own node process: --url and --nodes do not apply");
            }
            Settings settings = new Settings(target, args.intValue("accounts", 1_000_000), optional(args, "write-buffer-mb"),
                    optional(args, "cache-mb"), args.intValue("sample", 1_000), args.longValue("ready-timeout-s", 600),
                    args.longValue("stop-timeout-s", 60), args.longValue("seed", 17));
            if (settings.accounts <= 0 || settings.sample <= 0 || settings.readyTimeoutS <= 0 || settings.stopTimeoutS <= 0) {
                throw new IllegalArgumentException("--accounts, --sample, --ready-timeout-s and --stop-timeout-s must be"
                        + " positive");
            }
            return settings;
        }

        private static Long optional(Args args, String name) {
            long value = args.longValue(name, -1);
            if (value == -1) {
                return null;
            }
            if (value <= 0) {
                throw new IllegalArgumentException("--" + name + " must be positive");
            }
            return value;
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>(target.toMap());
            map.put("target", "one node process (launcher, API only)");
            map.put("accounts", accounts);
            map.put("funding", "one DEPOSIT of " + ChangeBodies.PREFILL_AMOUNT + " " + ChangeBodies.CURRENCY
                    + " per account, batches of " + HttpSingleBench.PREFILL_BATCH_SIZE + " on " + FUNDING_CONNECTIONS
                    + " connections");
            map.put("sample", sample);
            map.put("ready_timeout_s", readyTimeoutS);
            map.put("stop_timeout_s", stopTimeoutS);
            return map;
        }
    }

    private final Settings settings;
    private final PrintStream out;

    RestartBench(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    Map<String, Object> run(String runId) {
        out.println("restart benchmark " + runId + ": " + settings.toMap());
        Path runDir = settings.target().stateDir().resolve(runId).toAbsolutePath();
        Path stateDir = runDir.resolve("state");
        int port = HttpTarget.freePort();
        Map<String, String> env = nodeEnv(settings.target(), settings.writeBufferMb(), settings.cacheMb(), runId, port,
                stateDir, runDir.resolve("logs"));
        NodeConfig config = NodeConfig.fromEnv(env);
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("heap", NodeProcess.HEAP);
        node.put("rocksdb_cache_mb", config.streams().rocksDbCacheBytes() >> 20);
        node.put("rocksdb_write_buffer_mb", config.streams().rocksDbWriteBufferBytes() >> 20);
        node.put("rocksdb_budget_from", settings.writeBufferMb() == null && settings.cacheMb() == null
                ? "the node's defaults" : "--write-buffer-mb / --cache-mb");
        out.println("node: " + node);
        NodeProbe probe = new NodeProbe(URI.create("http://127.0.0.1:" + port));
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("mode", "restart");
        Run run = new Run(env, runDir, stateDir, probe);
        try {
            Map<String, Object> firstStart = run.start("start-0", new RestoreProgress());
            out.printf("first start: ready %,d ms after launch%n", firstStart.get("ready_ms"));
            result.put("first_start", firstStart);
            fund(runId, port, result);
            long rssBytes = ResidentMemory.ofProcess(run.node.pid());
            long stateBytes = Directories.sizeOf(stateDir);
            long changelogOffsets = changelogOffsets(runId);
            out.printf("after funding: resident memory %,d MB, state on disk %,.1f MB, changelog %,d offsets"
                    + " (records and transaction markers)%n", rssBytes >> 20, stateBytes / 1e6, changelogOffsets);
            result.put("rss_mb_after_funding", rssBytes >> 20);
            result.put("state_bytes_after_funding", stateBytes);
            result.put("changelog_end_offsets", changelogOffsets);
            List<Map<String, Object>> restarts = new ArrayList<>();
            List<String> mismatches = new ArrayList<>();
            SplittableRandom random = new SplittableRandom(settings.seed());
            for (Restart restart : Restart.values()) {
                Map<String, Object> figures = run.restart(restart);
                List<String> wrong = checkSample(probe, random.split());
                figures.put("sample_checked", Math.min(settings.sample(), settings.accounts()));
                figures.put("sample_mismatches", wrong.size());
                out.printf("%s: ready %,d ms after launch, %,d records restored (/ready showed %,d changelog offsets"
                                + " to restore on %d partitions), %d of %d sampled balances wrong%n", restart.description,
                        figures.get("ready_ms"), figures.get("records_restored"), figures.get("restore_offsets_polled_from_ready"),
                        ((Map<?, ?>) figures.get("partitions_seen_restoring")).size(), wrong.size(),
                        figures.get("sample_checked"));
                wrong.stream().limit(MISMATCHES_SHOWN_MAX).forEach(line -> out.println("  " + line));
                wrong.forEach(line -> mismatches.add(restart.name().toLowerCase() + ": " + line));
                restarts.add(figures);
            }
            result.put("restarts", restarts);
            if (!mismatches.isEmpty()) {
                result.put("failed", mismatches.size() + " sampled balances differ from the funded amount after a restart");
                result.put("mismatches", mismatches.subList(0, Math.min(mismatches.size(), 1_000)));
            }
            result.put("node", node);
            result.put("settings", settings.toMap());
            return result;
        } finally {
            try {
                run.close();
            } finally {
                cleanUp(settings.target(), runId, runDir, out);
            }
        }
    }

    /** The node process of the run, started again and again with one identity, port and state directory. */
    private final class Run implements AutoCloseable {
        private final Map<String, String> env;
        private final Path runDir;
        private final Path stateDir;
        private final NodeProbe probe;
        private NodeProcess node;
        private int starts;

        Run(Map<String, String> env, Path runDir, Path stateDir, NodeProbe probe) {
            this.env = env;
            this.runDir = runDir;
            this.stateDir = stateDir;
            this.probe = probe;
        }

        /** Starts the node and waits until it is ready; the figures of that start. */
        Map<String, Object> start(String name, RestoreProgress restores) {
            Path output = runDir.resolve(name + ".out");
            Map<String, String> startEnv = new HashMap<>(env);
            // Each start logs to a folder of its own, so what one start logged is never mixed with another's.
            startEnv.put("LOG_DIR", runDir.resolve("logs-" + name).toString());
            node = NodeProcess.start(startEnv, output);
            starts++;
            long readyMs = probe.awaitReady(node, TimeUnit.SECONDS.toMillis(settings.readyTimeoutS()), restores, output);
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("ready_ms", readyMs);
            figures.put("records_restored", RestoreProgress.restoredRecords(probe.metrics()));
            figures.put("restore_offsets_polled_from_ready", restores.polledOffsets());
            figures.put("partitions_seen_restoring", restores.polledRanges());
            figures.put("rss_mb_when_ready", ResidentMemory.ofProcess(node.pid()) >> 20);
            return figures;
        }

        Map<String, Object> restart(Restart restart) {
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("restart", restart.name().toLowerCase());
            figures.put("description", restart.description);
            switch (restart) {
                case KILL -> node.kill();
                case STOP -> {
                    figures.put("stop_ms", node.stop(TimeUnit.SECONDS.toMillis(settings.stopTimeoutS())));
                    // Memtables are flushed at a clean stop: the state on disk is now the whole state.
                    figures.put("state_bytes_after_stop", Directories.sizeOf(stateDir));
                    out.printf("clean stop took %,d ms; state on disk after it %,.1f MB%n", figures.get("stop_ms"),
                            (long) figures.get("state_bytes_after_stop") / 1e6);
                }
                case WIPE -> {
                    node.kill();
                    Directories.deleteRecursively(stateDir);
                }
            }
            figures.putAll(start("start-" + starts + "-" + restart.name().toLowerCase(), new RestoreProgress()));
            return figures;
        }

        @Override
        public void close() {
            if (node != null && node.alive()) {
                // A clean stop, so the node does not leave a broken state directory behind while it is deleted.
                try {
                    node.stop(TimeUnit.SECONDS.toMillis(settings.stopTimeoutS()));
                } finally {
                    node.close();
                }
            }
        }
    }

    /** The environment of a node process of a run (DEV_MODE, API only, the run's own ids, topics and folders). */
    static Map<String, String> nodeEnv(HttpTarget.Settings target, Long writeBufferMb, Long cacheMb, String runId, int port,
                                       Path stateDir, Path logDir) {
        Map<String, String> env = HttpTarget.nodeEnv(target, runId, port, stateDir);
        env.put("START_API", "true");
        env.put("START_SINK_MYSQL", "false");
        env.put("START_SINK_REDIS", "false");
        env.put("NODE_ID", runId + "-node");
        env.put("LOG_DIR", logDir.toString());
        if (writeBufferMb != null) {
            env.put("ROCKSDB_WRITE_BUFFER_MB", writeBufferMb.toString());
        }
        if (cacheMb != null) {
            env.put("ROCKSDB_CACHE_MB", cacheMb.toString());
        }
        return env;
    }

    private void fund(String runId, int port, Map<String, Object> result) {
        ChangeBodies bodies = new ChangeBodies(runId + "-", settings.accounts());
        try (LeanHttpLoad load = new LeanHttpLoad(URI.create("http://127.0.0.1:" + port + "/"), FUNDING_CONNECTIONS)) {
            LeanHttpLoad.Phase phase = HttpSingleBench.prefill(load, FUNDING_CONNECTIONS, bodies, settings.accounts(), out);
            double perS = settings.accounts() / phase.elapsedS();
            out.printf("funding: %,d accounts in %.1f s = %,.0f changes/s; per batch request %s%n", settings.accounts(),
                    phase.elapsedS(), perS, Latency.line(phase.latency()));
            result.put("throughput_per_s", Math.round(perS));
            result.put("throughput_unit", "funding deposits per second (batches of " + HttpSingleBench.PREFILL_BATCH_SIZE
                    + ", every verdict in)");
            result.put("latency_kind", "per funding batch request, send to answer");
            Map<String, Object> latency = Latency.summary(phase.latency());
            Latency.putFigures(result, latency);
            result.put("funding", phase.toMap());
        }
    }

    /** Records (and, under exactly-once, transaction markers) in the node's store changelog. */
    private long changelogOffsets(String runId) {
        // Kafka Streams names a store's changelog <application id>-<store>-changelog.
        String changelog = runId + "-" + Stores.ACCOUNTS + "-changelog";
        try (BenchKafka kafka = kafka()) {
            return kafka.endOffsets(changelog, kafka.partitions(changelog)).values().stream().mapToLong(Long::longValue)
                    .sum();
        }
    }

    /** What is wrong with the sampled accounts' balances: each must be exactly the funded deposit, nothing frozen. */
    private List<String> checkSample(NodeProbe probe, SplittableRandom random) {
        List<String> wrong = new ArrayList<>();
        long[] accounts = random.longs(1, settings.accounts() + 1L).distinct()
                .limit(Math.min(settings.sample(), settings.accounts())).toArray();
        for (long account : accounts) {
            String problem;
            try {
                HttpResponse<String> answer = probe.balance(account, ChangeBodies.CURRENCY);
                problem = problem(answer.statusCode(), answer.body());
            } catch (IOException e) {
                problem = "no answer: " + e;
            }
            if (problem != null) {
                wrong.add("account " + account + ": " + problem);
            }
        }
        return wrong;
    }

    /** Why a balance answer is not the funded balance, or null when it is. */
    static String problem(int status, String body) throws IOException {
        if (status != 200) {
            return "HTTP " + status + " " + body;
        }
        JsonNode balance = JSON.readTree(body).path("balance");
        BigDecimal available = new BigDecimal(balance.path("available").asText("0"));
        BigDecimal frozen = new BigDecimal(balance.path("frozen").asText("0"));
        if (available.compareTo(FUNDED) != 0 || frozen.signum() != 0 || balance.path("version").asLong() != 1) {
            return "expected available " + FUNDED + ", frozen 0, version 1; got " + balance;
        }
        return null;
    }

    /** Deletes a run's folder, and its topics and consumer group unless --keep-topics. */
    static void cleanUp(HttpTarget.Settings target, String runId, Path runDir, PrintStream out) {
        Directories.deleteRecursively(runDir);
        if (target.keepTopics()) {
            return;
        }
        try (BenchKafka kafka = new BenchKafka(target.bootstrapServers(), KafkaClientProperties.fromEnv(target.env()))) {
            out.println("deleted topics " + kafka.deleteTopicsStartingWith(runId + "-"));
            // The stopped node is still a static member until its session times out; the group goes only without it.
            String problem = kafka.removeMembers(runId);
            if (problem == null) {
                problem = kafka.deleteGroups(List.of(runId));
            }
            if (problem != null) {
                out.println("consumer group left to the broker's retention: " + problem);
            }
        }
    }

    private BenchKafka kafka() {
        return new BenchKafka(settings.target().bootstrapServers(),
                KafkaClientProperties.fromEnv(settings.target().env()));
    }
}
