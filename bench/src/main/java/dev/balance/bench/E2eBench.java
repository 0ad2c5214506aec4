package dev.balance.bench;

import dev.balance.launcher.Reconcile;
import dev.balance.topology.KafkaClientProperties;
import dev.balance.topology.TopicNames;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.apache.kafka.common.TopicPartition;

/**
 * The {@code e2e} mode: the node with both sinks (MySQL and Redis, in this JVM) under a sustained
 * load, to see whether the sinks keep up. After the prefill and a warm-up, batches
 * ({@code POST /api/v1/balance/changes}) and single changes ({@code POST /api/v1/balance/change})
 * run side by side in a closed model, each on its own lean generator; every {@code --sample-s}
 * one line gives the node's rate and each sink's lag on {@code balance-events} (its group's
 * committed offsets against the read_committed end) and its rate. Then it waits, bounded, until
 * the node has committed all of its input and both sinks all events, and compares every balance
 * of the run as the node, MySQL (balances and journal) and Redis hold it, with the launcher's
 * {@link Reconcile}: one difference fails the run.
 */
final class E2eBench {

    static final Set<String> OPTIONS;

    static {
        Set<String> options = new HashSet<>(HttpTarget.OPTIONS);
        options.addAll(Set.of("batch-size", "batch-concurrency", "single-concurrency", "accounts", "duration-s",
                "warmup-s", "drain-timeout-s", "sample-s", "keep-stores", "seed"));
        OPTIONS = Set.copyOf(options);
    }

    /** How often the lag is read while the sinks catch up, so the catch-up time is known to this. */
    static final long DRAIN_POLL_MS = 500;
    /** Differences printed on the console, and kept in the result file (which gives their count too). */
    static final int DIFFERENCES_SHOWN_MAX = 20;
    static final int DIFFERENCES_KEPT_MAX = 1_000;
    /** The codes of an answered change: applied, a conflicting reuse of its id, refused. 202 and 5xx are not. */
    static final Set<Integer> VERDICT_CODES = Set.of(200, 409, 422);
    /** A tick closer than this to the end of the load is left to the final sample, which would be a sliver. */
    private static final long LAST_TICK_MARGIN_NANOS = TimeUnit.SECONDS.toNanos(1);

    record Settings(HttpTarget.Settings target, int batchSize, int batchConcurrency, int singleConcurrency,
                    int accounts, long durationS, long warmupS, long drainTimeoutS, long sampleS, boolean keepStores,
                    long seed) {

        static Settings from(Args args, Map<String, String> env) {
            args.requireKnown(OPTIONS);
            HttpTarget.Settings target = HttpTarget.Settings.from(args, env);
            if (target.url() != null || target.nodes() != 1) {
                throw new IllegalArgumentException("e2e starts one node and both sinks in this process: --url and"
                        + " --nodes do not apply");
            }
            Settings settings = new Settings(target, args.intValue("batch-size", 1000),
                    args.intValue("batch-concurrency", 4), args.intValue("single-concurrency", 8),
                    args.intValue("accounts", 100_000), args.longValue("duration-s", 300), args.longValue("warmup-s", 30),
                    args.longValue("drain-timeout-s", 600), args.longValue("sample-s", 10), args.flag("keep-stores"),
                    args.longValue("seed", 13));
            if (settings.batchSize <= 0 || settings.accounts <= 0 || settings.durationS <= 0
                    || settings.drainTimeoutS <= 0 || settings.sampleS <= 0) {
                throw new IllegalArgumentException("--batch-size, --accounts, --duration-s, --drain-timeout-s and"
                        + " --sample-s must be positive");
            }
            if (settings.batchConcurrency < 0 || settings.singleConcurrency < 0 || settings.warmupS < 0) {
                throw new IllegalArgumentException("--batch-concurrency, --single-concurrency and --warmup-s must not"
                        + " be negative");
            }
            if (settings.batchConcurrency + settings.singleConcurrency == 0) {
                throw new IllegalArgumentException("--batch-concurrency and --single-concurrency cannot both be 0");
            }
            return settings;
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>(target.toMap());
            map.put("model", "closed model: batches and single changes side by side, each on its own connections");
            map.put("batch_size", batchSize);
            map.put("batch_concurrency", batchConcurrency);
            map.put("single_concurrency", singleConcurrency);
            map.put("duration_s", durationS);
            map.put("warmup_s", warmupS);
            map.put("drain_timeout_s", drainTimeoutS);
            map.put("sample_s", sampleS);
            map.put("accounts", accounts);
            map.put("mix", "50% DEPOSIT / 50% WITHDRAW of " + ChangeBodies.CHANGE_AMOUNT + " " + ChangeBodies.CURRENCY
                    + " after a deposit of " + ChangeBodies.PREFILL_AMOUNT + " to every account");
            return map;
        }
    }

    /** The two generators' phases of one load (null for a kind that does not run) and its first and last readings. */
    private record Load(LeanHttpLoad.Phase batches, LeanHttpLoad.Phase singles, E2eReading first, E2eReading last) {

        double elapsedS() {
            return (last.nanos() - first.nanos()) / 1e9;
        }

        /** Changes that got a verdict: batch items and single changes answered 200, 409 or 422. */
        long verdicts() {
            return (batches == null ? 0 : verdicts(batches.itemCodes()))
                    + (singles == null ? 0 : verdicts(singles.statuses()));
        }

        private static long verdicts(Map<Integer, Long> codes) {
            return codes.entrySet().stream().filter(code -> VERDICT_CODES.contains(code.getKey()))
                    .mapToLong(Map.Entry::getValue).sum();
        }
    }

    private final Settings settings;
    private final PrintStream out;

    E2eBench(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    Map<String, Object> run(String runId) {
        out.println("e2e benchmark " + runId + ": " + settings.toMap());
        // The in-process node names its topics behind this prefix (HttpTarget) and uses the run id as its application id.
        TopicNames topics = TopicNames.withPrefix(runId + "-");
        ChangeBodies bodies = new ChangeBodies(runId + "-", settings.accounts());
        E2eSinks.requireReachable(settings.target(), runId, out);
        ExecutorService loadThreads = Executors.newFixedThreadPool(2, daemonThreads("loadgen-phase-"));
        try (HttpTarget target = HttpTarget.open(settings.target(), runId, out);
             E2eSinks sinks = E2eSinks.start(settings.target(), runId, settings.keepStores(), out);
             BenchKafka kafka = new BenchKafka(settings.target().bootstrapServers(),
                     KafkaClientProperties.fromEnv(settings.target().env()));
             LeanHttpLoad batchLoad = new LeanHttpLoad(target.uri("/"), Math.max(1, settings.batchConcurrency()));
             LeanHttpLoad singleLoad = new LeanHttpLoad(target.uri("/"), Math.max(1, settings.singleConcurrency()))) {
            CpuAccount cpu = new CpuAccount(settings.target().env(), serverPids(sinks));
            HttpSingleBench.prefill(batchLoad, Math.max(1, settings.batchConcurrency()), bodies, settings.accounts(), out);
            Probe probe = new Probe(kafka, topics, runId, sinks);
            Generators generators = new Generators(batchLoad, singleLoad, bodies, loadThreads);
            E2eSample.Series series = new E2eSample.Series(out);
            if (settings.warmupS() > 0) {
                generators.run("warm-up", settings.warmupS(), settings.seed(), series, probe);
            }
            CpuAccount.Snapshot cpuAtStart = cpu.snapshot();
            Load load = generators.run("load", settings.durationS(), settings.seed() + 1, series, probe);
            CpuAccount.Snapshot cpuAtLoadEnd = cpu.snapshot();
            CatchUp catchUp = new CatchUp(load.last().nanos(), E2eSinks.NAMES);
            E2eReading drained = drain(series, probe, load.last(), catchUp);
            CpuAccount.Snapshot cpuAtDrainEnd = cpu.snapshot();
            Map<String, Object> result = report(load, drained, catchUp, series);
            result.put("check", check(target.uri("/"), sinks, catchUp, drained, result));
            int cores = Runtime.getRuntime().availableProcessors();
            Map<String, Object> loadCpu = CpuAccount.between(cpuAtStart, cpuAtLoadEnd, load.verdicts(), cores);
            Map<String, Object> drainCpu = CpuAccount.between(cpuAtLoadEnd, cpuAtDrainEnd,
                    eventsWritten(load.last(), drained), cores);
            out.print("e2e during the load " + CpuAccount.describe(loadCpu));
            out.print("e2e while the sinks caught up " + CpuAccount.describe(drainCpu, "events written", "event written"));
            result.put("cpu", loadCpu);
            result.put("cpu_while_catching_up", drainCpu);
            result.put("samples", series.toMaps());
            Map<String, Object> configs = new LinkedHashMap<>();
            configs.put(E2eSinks.MYSQL, sinks.mysqlConfig().toString());
            configs.put(E2eSinks.REDIS, sinks.redisConfig().toString());
            result.put("sink_configs", configs);
            result.put("settings", settings.toMap());
            if (result.containsKey("failed")) {
                sinks.keepStores("the run failed: " + result.get("failed"));
            }
            return result;
        } finally {
            loadThreads.shutdownNow();
        }
    }

    /** The node's and each sink's figures, printed and in the result. */
    private Map<String, Object> report(Load load, E2eReading drained, CatchUp catchUp, E2eSample.Series series) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("mode", "e2e");
        reportLoad(load, result);
        Map<String, Object> sinkSummaries = new LinkedHashMap<>();
        for (String sink : E2eSinks.NAMES) {
            sinkSummaries.put(sink, summary(sink, load, drained, catchUp, series));
        }
        result.put("sinks", sinkSummaries);
        result.put("drain", drainSummary(load, drained, catchUp));
        return result;
    }

    /** Events both sinks together got through between two readings: the unit of the CPU while they catch up. */
    private static long eventsWritten(E2eReading from, E2eReading to) {
        long events = 0;
        for (String sink : E2eSinks.NAMES) {
            events += to.sinks().get(sink).lag().committed() - from.sinks().get(sink).lag().committed();
        }
        return events;
    }

    /** The MySQL and Redis server processes when they run on this machine: their CPU is part of what the sinks cost. */
    private Map<String, Long> serverPids(E2eSinks sinks) {
        Map<String, Long> pids = new LinkedHashMap<>();
        String mysqlHost = URI.create(sinks.mysqlConfig().mysqlUrl().substring("jdbc:".length())).getHost();
        Long mysql = E2eSinks.local(mysqlHost) ? CpuAccount.pidOf(Set.of("mariadbd", "mysqld")) : null;
        Long redis = E2eSinks.local(sinks.redisConfig().redisUrl().getHost())
                ? CpuAccount.pidOf(Set.of("redis-server")) : null;
        if (mysql != null) {
            pids.put("mysql_server_process", mysql);
        }
        if (redis != null) {
            pids.put("redis_server_process", redis);
        }
        out.println("CPU of the database servers: MySQL " + (mysql == null ? "not found on this machine" : "pid " + mysql)
                + ", Redis " + (redis == null ? "not found on this machine" : "pid " + redis)
                + " (a server not found counts in the machine's total only)");
        return pids;
    }

    /**
     * Reads where the node and the sinks stand. The node's lag is read first: at zero, every event
     * is committed, so sinks at zero afterwards have written all there will be.
     */
    private static final class Probe {
        private final BenchKafka kafka;
        private final TopicNames topics;
        private final String nodeGroup;
        private final E2eSinks sinks;
        private final int changesPartitions;
        private final int eventsPartitions;

        Probe(BenchKafka kafka, TopicNames topics, String nodeGroup, E2eSinks sinks) {
            this.kafka = kafka;
            this.topics = topics;
            this.nodeGroup = nodeGroup;
            this.sinks = sinks;
            this.changesPartitions = kafka.partitions(topics.changes());
            this.eventsPartitions = kafka.partitions(topics.events());
        }

        E2eReading read(long changes) {
            sinks.requireRunning();
            long nanos = System.nanoTime();
            GroupLag node = GroupLag.of(kafka.stableEndOffsets(topics.changes(), changesPartitions),
                    kafka.committedOffsets(nodeGroup));
            Map<TopicPartition, Long> ends = kafka.stableEndOffsets(topics.events(), eventsPartitions);
            Map<String, E2eReading.Sink> states = new LinkedHashMap<>();
            for (String sink : E2eSinks.NAMES) {
                states.put(sink, new E2eReading.Sink(GroupLag.of(ends, kafka.committedOffsets(sinks.groupId(sink))),
                        sinks.written(sink)));
            }
            long events = ends.values().stream().mapToLong(Long::longValue).sum();
            return new E2eReading(nanos, changes, events, node, states);
        }
    }

    /** The batch and single-change generators, run side by side for a phase while the samples are taken. */
    private final class Generators {
        private final LeanHttpLoad batchLoad;
        private final LeanHttpLoad singleLoad;
        private final ExecutorService threads;
        private final LeanHttpLoad.Requests batches;
        private final LeanHttpLoad.Requests singles;
        private final LeanHttpLoad.Check everyItem;

        Generators(LeanHttpLoad batchLoad, LeanHttpLoad singleLoad, ChangeBodies bodies, ExecutorService threads) {
            this.batchLoad = batchLoad;
            this.singleLoad = singleLoad;
            this.threads = threads;
            int size = settings.batchSize();
            String host = batchLoad.hostHeader();
            this.batches = random -> LeanHttpLoad.post(host, HttpSingleBench.BATCH_PATH, bodies.mixedBatch(random, size));
            this.singles = random -> LeanHttpLoad.post(host, HttpSingleBench.CHANGE_PATH, bodies.mixed(random));
            // A 200 answers every item of the batch; each item's code is counted.
            this.everyItem = (body, itemCodes) -> LeanHttpLoad.itemCodes(body, itemCodes) == size;
        }

        Load run(String phase, long durationS, long seed, E2eSample.Series series, Probe probe) {
            long durationNanos = TimeUnit.SECONDS.toNanos(durationS);
            // Each generator counts its phase from zero once it starts; one that does not run is left out.
            LongSupplier changes = () -> (settings.batchConcurrency() > 0 ? batchLoad.progress() : 0)
                    + (settings.singleConcurrency() > 0 ? singleLoad.progress() : 0);
            E2eReading first = probe.read(0);
            series.begin(phase, first);
            CompletableFuture<LeanHttpLoad.Phase> batchPhase = settings.batchConcurrency() == 0
                    ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.supplyAsync(() -> batchLoad.closed(settings.batchConcurrency(), durationNanos,
                            batches, everyItem, seed), threads);
            CompletableFuture<LeanHttpLoad.Phase> singlePhase = settings.singleConcurrency() == 0
                    ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.supplyAsync(() -> singleLoad.closed(settings.singleConcurrency(), durationNanos,
                            singles, HttpSingleBench.APPLIED_CHECK, seed + 1), threads);
            CompletableFuture<Void> both = CompletableFuture.allOf(batchPhase, singlePhase);
            long periodNanos = TimeUnit.SECONDS.toNanos(settings.sampleS());
            long lastTickNanos = first.nanos() + durationNanos - LAST_TICK_MARGIN_NANOS;
            long nextNanos = first.nanos() + periodNanos;
            try {
                while (nextNanos <= lastTickNanos && !completesBy(both, nextNanos)) {
                    series.add(probe.read(changes.getAsLong()));
                    nextNanos += periodNanos;
                }
                both.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("the " + phase + " load failed: " + e.getCause().getMessage(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted during the " + phase, e);
            }
            E2eReading last = probe.read(changes.getAsLong());
            series.add(last);
            return new Load(batchPhase.join(), singlePhase.join(), first, last);
        }
    }

    /** Whether the future completes before {@code deadlineNanos} ({@link System#nanoTime()}); it fails as it failed. */
    private static boolean completesBy(CompletableFuture<?> future, long deadlineNanos)
            throws ExecutionException, InterruptedException {
        try {
            future.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }

    /**
     * Waits until the node has committed all of its input and each sink all events, or the drain
     * timeout; a sample every {@code --sample-s} as during the load. Returns the last reading.
     */
    private E2eReading drain(E2eSample.Series series, Probe probe, E2eReading loadEnd, CatchUp catchUp) {
        // No generator runs: the changes stay at the load's count, a rate of zero.
        long changes = loadEnd.changes();
        series.begin("drain", loadEnd);
        catchUp.observe(loadEnd);
        long periodNanos = TimeUnit.SECONDS.toNanos(settings.sampleS());
        long deadlineNanos = loadEnd.nanos() + TimeUnit.SECONDS.toNanos(settings.drainTimeoutS());
        long nextNanos = loadEnd.nanos() + periodNanos;
        E2eReading last = loadEnd;
        while (!catchUp.complete() && System.nanoTime() - deadlineNanos < 0) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(DRAIN_POLL_MS));
            last = probe.read(changes);
            catchUp.observe(last);
            if (last.nanos() - nextNanos >= 0 || catchUp.complete()) {
                series.add(last);
                nextNanos += periodNanos;
            }
        }
        out.println(catchUp.complete()
                ? String.format("drain: both sinks caught up %.1f s after the load (%s)",
                        (last.nanos() - loadEnd.nanos()) / 1e9, each(catchUp))
                : String.format("drain: NOT caught up %d s after the load (lag %s)", settings.drainTimeoutS(), lags(last)));
        return last;
    }

    /** Prints what the generators saw during the load and puts the node's figures into the result. */
    private void reportLoad(Load load, Map<String, Object> result) {
        double elapsedS = load.elapsedS();
        double verdictsPerS = load.verdicts() / elapsedS;
        double eventsPerS = (load.last().events() - load.first().events()) / elapsedS;
        out.printf("e2e: the node answered %,d changes in %.1f s = %,.0f changes/s sustained (%,.0f events/s"
                + " published)%n", load.verdicts(), elapsedS, verdictsPerS, eventsPerS);
        if (load.batches() != null) {
            LeanHttpLoad.Phase batches = load.batches();
            out.printf("  batches of %d on %d connections: %,d requests, %,.0f changes/s, statuses %s, item codes %s,"
                            + " errors %d; latency per request %s%n", settings.batchSize(), settings.batchConcurrency(),
                    batches.requests(), batches.itemsPerS(), batches.statuses(), batches.itemCodes(), batches.errors(),
                    Latency.line(batches.latency()));
            result.put("batches", batches.toMap());
        }
        if (load.singles() != null) {
            LeanHttpLoad.Phase singles = load.singles();
            out.printf("  single changes on %d connections: %,d requests, %,.0f/s, statuses %s, errors %d; latency %s%n",
                    settings.singleConcurrency(), singles.requests(), singles.requestsPerS(), singles.statuses(),
                    singles.errors(), Latency.line(singles.latency()));
            result.put("singles", singles.toMap());
        }
        // The single changes' latency is the one a client of one change sees; without them, the batches'.
        Histogram latency = load.singles() != null ? load.singles().latency() : load.batches().latency();
        result.put("throughput_per_s", Math.round(verdictsPerS));
        result.put("throughput_unit", "changes answered with a verdict per second, batches and single changes");
        result.put("events_per_s", Math.round(eventsPerS));
        result.put("latency_kind", load.singles() != null ? "per single change request, send to answer"
                : "per batch request, send to answer");
        Map<String, Object> summary = Latency.summary(latency);
        Latency.putFigures(result, summary);
        result.put("load_elapsed_s", Math.round(elapsedS * 10) / 10.0);
        result.put("changes", load.verdicts());
    }

    /**
     * One sink's figures: its largest lag during the load, its lag at the load's start and end and
     * how fast it grew, when it caught up, and its rate during the load and while catching up, by
     * its committed offsets (events) and by its own count (rows or fields).
     */
    private Map<String, Object> summary(String sink, Load load, E2eReading drained, CatchUp catchUp,
                                        E2eSample.Series series) {
        E2eReading.Sink start = load.first().sinks().get(sink);
        E2eReading.Sink end = load.last().sinks().get(sink);
        E2eReading.Sink last = drained.sinks().get(sink);
        long maxLag = start.lag().lag();
        for (E2eSample sample : series.inPhase("load")) {
            for (E2eSample.Sink state : sample.sinks()) {
                if (state.name().equals(sink)) {
                    maxLag = Math.max(maxLag, state.lag());
                }
            }
        }
        double loadS = load.elapsedS();
        Double catchUpS = catchUp.seconds(sink);
        double drainS = catchUpS != null ? catchUpS : (drained.nanos() - load.last().nanos()) / 1e9;
        String unit = sink.equals(E2eSinks.MYSQL) ? "rows" : "fields";
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("max_lag", maxLag);
        map.put("lag_at_load_start", start.lag().lag());
        map.put("lag_at_load_end", end.lag().lag());
        map.put("lag_growth_per_s", Math.round((end.lag().lag() - start.lag().lag()) / loadS));
        map.put("catch_up_s", catchUpS == null ? null : Math.round(catchUpS * 10) / 10.0);
        map.put("events_per_s_during_load", Math.round((end.lag().committed() - start.lag().committed()) / loadS));
        map.put(unit + "_per_s_during_load", written(start, end, loadS));
        map.put("events_per_s_while_catching_up", drainS <= 0 ? null
                : Math.round((last.lag().committed() - end.lag().committed()) / drainS));
        map.put(unit + "_per_s_while_catching_up", drainS <= 0 ? null : written(end, last, drainS));
        out.printf("%s: max lag %,d during the load, %,d at its end (%+,d/s over the load), %s; %s events/s"
                        + " (%s %s/s) during the load, %s events/s while catching up%n", sink, maxLag, end.lag().lag(),
                map.get("lag_growth_per_s"), catchUpS == null ? "NOT caught up" : String.format("caught up in %.1f s",
                        catchUpS), count(map.get("events_per_s_during_load")), count(map.get(unit + "_per_s_during_load")),
                unit, count(map.get("events_per_s_while_catching_up")));
        return map;
    }

    /** A whole number with grouping, or "n/a" for one that could not be measured. */
    private static String count(Object value) {
        return value == null ? "n/a" : String.format("%,d", (Long) value);
    }

    private static Long written(E2eReading.Sink from, E2eReading.Sink to, double seconds) {
        return from.written() < 0 || to.written() < 0 ? null : Math.round((to.written() - from.written()) / seconds);
    }

    private Map<String, Object> drainSummary(Load load, E2eReading drained, CatchUp catchUp) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("caught_up", catchUp.complete());
        map.put("elapsed_s", Math.round((drained.nanos() - load.last().nanos()) / 1e8) / 10.0);
        map.put("node_input_lag_at_load_end", load.last().node().lag());
        map.put("node_input_lag_at_drain_end", drained.node().lag());
        return map;
    }

    /**
     * The comparison of the stores once the sinks caught up, or why there was none; a failed run
     * gets a {@code failed} field in its result.
     */
    private Map<String, Object> check(URI nodeUrl, E2eSinks sinks, CatchUp catchUp, E2eReading drained,
                                      Map<String, Object> result) {
        if (!catchUp.complete()) {
            result.put("failed", String.format("the sinks had not caught up %d s after the load (lag %s)",
                    settings.drainTimeoutS(), lags(drained)));
            return Map.of("skipped", "the sinks had not caught up");
        }
        Check check = compare(nodeUrl, sinks);
        if (check.mismatches() > 0) {
            result.put("failed", check.mismatches() + " balances differ between the node, MySQL and Redis");
        }
        return check.toMap();
    }

    /**
     * Compares every balance of the run as the node, MySQL and Redis hold it ({@link Reconcile}: the
     * balances row, the journal's last row and row count, the Redis field, the journal's totals).
     * Every account got a deposit, so each must have been compared: one missing from both stores is
     * a mismatch too.
     */
    private Check compare(URI nodeUrl, E2eSinks sinks) {
        long start = System.nanoTime();
        Reconcile.Report report;
        try {
            report = new Reconcile(Reconcile.Settings.fromEnv(sinks.reconcileEnv(nodeUrl))).once();
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("the check could not read a store: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during the check", e);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long missing = Math.max(0, settings.accounts() - report.balances());
        long mismatches = report.differences().size() + missing;
        Check check = new Check(settings.accounts(), report.balances(), mismatches, report.differences(), seconds);
        if (mismatches == 0) {
            out.printf("check: %,d balances compared between the node, MySQL (balances and journal) and Redis in %.1f s:"
                    + " no difference%n", report.balances(), seconds);
            return check;
        }
        out.printf("check FAILED: %,d mismatches among %,d balances (%,d expected, %,d in neither store), in %.1f s%n",
                mismatches, report.balances(), settings.accounts(), missing, seconds);
        report.differences().stream().limit(DIFFERENCES_SHOWN_MAX).forEach(difference -> out.println("DIFF " + difference));
        if (report.differences().size() > DIFFERENCES_SHOWN_MAX) {
            out.printf("... and %,d more (the first %,d in the result file)%n",
                    report.differences().size() - DIFFERENCES_SHOWN_MAX, DIFFERENCES_KEPT_MAX);
        }
        return check;
    }

    /** What the comparison of the stores found: a balance missing from both stores counts as a mismatch. */
    private record Check(long expected, long compared, long mismatches, List<String> differences, double seconds) {
        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("balances_expected", expected);
            map.put("balances_compared", compared);
            map.put("mismatches", mismatches);
            map.put("differences", differences.subList(0, Math.min(differences.size(), DIFFERENCES_KEPT_MAX)));
            map.put("seconds", Math.round(seconds * 10) / 10.0);
            return map;
        }
    }

    /** "mysql 61.2 s, redis 0.5 s": when each sink caught up. */
    private static String each(CatchUp catchUp) {
        StringBuilder text = new StringBuilder();
        catchUp.all().forEach((sink, seconds) -> text.append(text.length() == 0 ? "" : ", ")
                .append(String.format("%s %.1f s", sink, seconds)));
        return text.toString();
    }

    private static String lags(E2eReading reading) {
        StringBuilder text = new StringBuilder();
        reading.sinks().forEach((sink, state) -> text.append(text.length() == 0 ? "" : ", ").append(sink).append(' ')
                .append(String.format("%,d", state.lag().lag())));
        return text.append(", node input ").append(String.format("%,d", reading.node().lag())).toString();
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
