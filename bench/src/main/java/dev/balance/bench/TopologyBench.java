package dev.balance.bench;

import dev.balance.topology.BalanceTopology;
import dev.balance.topology.OutcomeCounters;
import dev.balance.topology.KafkaClientProperties;
import dev.balance.topology.StreamsSettings;
import dev.balance.topology.TopicNames;
import dev.balance.topology.codec.Codecs;
import dev.balance.topology.model.BalanceEvent;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;

/**
 * The {@code topology} mode: pre-produces commands to fresh topics, then runs the bare baseline
 * and the real topology one after the other on the same input, each under its own application id,
 * and measures each from {@code start()} until its committed input offsets reach the end of the
 * input. Under exactly_once_v2 the input offsets are committed in the same transaction as the
 * outputs, so "offsets at the end" means "every event committed and visible to read_committed
 * readers"; polling them costs the run almost nothing, unlike a consumer reading every event.
 * Afterwards it reads all events once (outside the timing) and compares their verdicts with the
 * verdicts the generator's model expects.
 */
final class TopologyBench {

    static final Set<String> OPTIONS = Set.of("commands", "accounts", "partitions", "threads", "commit-interval-ms",
            "duplicates-per-mille", "seed", "warmup-commands", "warmup-s", "timeout-s", "skip-baseline", "profile", "keep-topics",
            "bootstrap", "results-dir", "state-dir", "transfer-share", "zipf-s", "transactional-stores", "write-buffer-mb");

    private static final long MIB = 1024L * 1024;
    /** How often the committed offsets are read. */
    private static final long SAMPLE_PERIOD_MS = 200;
    /** Steady state ends when this share of the input is committed (the tail is left out). */
    private static final double STEADY_END_SHARE = 0.95;
    private static final long VERIFY_TIMEOUT_MS = 180_000;
    private static final int PROFILE_TOP_FRAMES = 20;

    record Settings(long commands, int accounts, int partitions, int streamThreads, long commitIntervalMs,
                    int duplicatesPerMille, long seed, long warmupCommands, double warmupS, long timeoutS,
                    boolean skipBaseline, boolean profile, boolean keepTopics, String bootstrapServers, Path resultsDir, Path stateDir,
                    double transferShare, double zipfS, boolean transactionalStores, long writeBufferMb) {

        static Settings from(Args args, String defaultBootstrap) {
            args.requireKnown(OPTIONS);
            Settings settings = new Settings(args.longValue("commands", 2_000_000), args.intValue("accounts", 1_000_000),
                    args.intValue("partitions", 12), args.intValue("threads", 2),
                    args.longValue("commit-interval-ms", 100), args.intValue("duplicates-per-mille", 10),
                    args.longValue("seed", 42), args.longValue("warmup-commands", 300_000),
                    args.doubleValue("warmup-s", 5), args.longValue("timeout-s", 300),
                    args.flag("skip-baseline"), args.flag("profile"), args.flag("keep-topics"),
                    args.text("bootstrap", defaultBootstrap), Path.of(args.text("results-dir", "bench-results")),
                    Path.of(args.text("state-dir", "data/bench")), args.doubleValue("transfer-share", 0),
                    args.doubleValue("zipf-s", 0),
                    !"false".equalsIgnoreCase(args.text("transactional-stores", "true")),
                    args.longValue("write-buffer-mb", StreamsSettings.localDefaults("", "").rocksDbWriteBufferBytes() / MIB));
            if (settings.writeBufferMb < 1) {
                throw new IllegalArgumentException("--write-buffer-mb must be at least 1");
            }
            if (settings.zipfS < 0 || Double.isNaN(settings.zipfS) || Double.isInfinite(settings.zipfS)) {
                throw new IllegalArgumentException("--zipf-s must be 0 (no skewed pass) or a positive exponent");
            }
            if (settings.transferShare < 0 || settings.transferShare > 1) {
                throw new IllegalArgumentException("--transfer-share must be between 0 and 1");
            }
            if (settings.warmupCommands < 0) {
                throw new IllegalArgumentException("--warmup-commands must not be negative");
            }
            if (settings.commands <= 0 || settings.accounts <= 0 || settings.partitions <= 0 || settings.timeoutS <= 0) {
                throw new IllegalArgumentException("--commands, --accounts, --partitions and --timeout-s must be positive");
            }
            return settings;
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("commands", commands);
            map.put("accounts", accounts);
            map.put("partitions", partitions);
            map.put("stream_threads", streamThreads);
            map.put("commit_interval_ms", commitIntervalMs);
            map.put("processing_guarantee", StreamsConfig.EXACTLY_ONCE_V2);
            map.put("duplicates_per_mille", duplicatesPerMille);
            map.put("seed", seed);
            map.put("warmup_commands", warmupCommands);
            map.put("steady_warmup_s", warmupS);
            map.put("steady_end_share", STEADY_END_SHARE);
            map.put("bootstrap_servers", bootstrapServers);
            map.put("profile", profile);
            map.put("transfer_share", transferShare);
            map.put("zipf_s", zipfS);
            map.put("transactional_stores", transactionalStores);
            map.put("rocksdb_write_buffer_mb", writeBufferMb);
            return map;
        }
    }

    /** One measured Streams run. */
    record Run(String label, ThroughputSamples samples, long total, org.HdrHistogram.Histogram gaps,
               Map<String, Object> cpu) {

        /** CPU seconds of the whole bench process during the run, from the run's CPU account. */
        double processCpuS() {
            return CpuAccount.processSeconds(cpu);
        }

        Map<String, Object> toMap(double warmupS) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("overall_per_s", Math.round(samples.overallPerS()));
            map.put("steady_per_s", Math.round(samples.steadyPerS(total, warmupS, STEADY_END_SHARE)));
            map.put("first_commit_s", samples.firstProgressS());
            map.put("elapsed_s", samples.elapsedS());
            map.put("process_cpu_s", processCpuS());
            map.put("process_cpu_cores", Math.round(100 * processCpuS() / samples.elapsedS()) / 100.0);
            map.put("record_gap", Latency.summary(gaps));
            map.put("cpu", cpu);
            map.put("per_second", samples.ratesPerSecond());
            return map;
        }
    }

    private final Settings settings;
    private final PrintStream out;
    private final CpuAccount cpuAccount;
    private final KafkaClientProperties client;

    TopologyBench(Settings settings, PrintStream out, Map<String, String> env) {
        this.settings = settings;
        this.out = out;
        this.cpuAccount = new CpuAccount(env);
        this.client = KafkaClientProperties.fromEnv(env);
    }

    Map<String, Object> run(String runId) {
        out.println("topology benchmark " + runId + ": " + settings.toMap());
        try (BenchKafka kafka = new BenchKafka(settings.bootstrapServers(), client)) {
            if (settings.warmupCommands() > 0) {
                // Both apps run once, unmeasured, on a smaller input of their own, so neither is measured while
                // the JIT is still compiling the Kafka client code both share (whichever ran first paid for it).
                out.printf("warm-up: both apps on %,d other commands, not measured%n", settings.warmupCommands());
                pass(kafka, runId + "w", settings.warmupCommands(), settings.seed() + 1, false, 0, false, uniform());
            }
            Map<String, Object> result = pass(kafka, runId, settings.commands(), settings.seed(), true, 0, false, uniform());
            if (settings.transferShare() > 0) {
                // The same engine on a second input of the same size whose fresh commands are that share of
                // TRANSFERs, right after the plain mix, so the two figures come from one sitting.
                out.printf("transfer mix: %.0f%% of fresh commands are TRANSFERs to receiving accounts%n",
                        100 * settings.transferShare());
                Map<String, Object> transfers = pass(kafka, runId + "t", settings.commands(), settings.seed() + 2, true,
                        (int) Math.round(1000 * settings.transferShare()), true, uniform());
                result.put("with_transfers", transfers);
                out.printf("topology, plain mix: %s/s steady; with %.0f%% transfers: %s commands/s steady (%s records/s,"
                                + " credit legs included)%n", result.get("throughput_per_s"), 100 * settings.transferShare(),
                        transfers.get("commands_per_s"), transfers.get("throughput_per_s"));
            }
            if (settings.zipfS() > 0) {
                // Both apps again on an input of the same size whose accounts are drawn by Zipf's law: hot
                // accounts make hot partitions, as an exchange's market makers do.
                AccountDraw skewed = AccountDraw.zipf(settings.accounts(), settings.zipfS());
                out.println("skewed mix: accounts drawn " + skewed.describe());
                Map<String, Object> zipf = pass(kafka, runId + "z", settings.commands(), settings.seed() + 3, true, 0,
                        false, skewed);
                zipf.put("accounts_drawn", skewed.describe());
                result.put("zipf", zipf);
                out.printf("topology, uniform accounts: %s/s steady (%sx the baseline); Zipf s=%.2f: %s/s steady (%sx the"
                                + " baseline)%n", result.get("throughput_per_s"), result.get("ratio_to_baseline"),
                        settings.zipfS(), zipf.get("throughput_per_s"), zipf.get("ratio_to_baseline"));
            }
            return result;
        }
    }

    private AccountDraw uniform() {
        return AccountDraw.uniform(settings.accounts());
    }

    /** Creates the topics of one pass, pre-produces its input, runs the apps on it, deletes the topics. */
    private Map<String, Object> pass(BenchKafka kafka, String passId, long commands, long seed, boolean measured,
                                     int transferPerMille, boolean skipBaseline, AccountDraw draw) {
        String prefix = passId + "-";
        TopicNames topics = TopicNames.withPrefix(prefix);
        String baselineOut = prefix + "baseline-out";
        Path stateRoot = settings.stateDir().resolve(passId).toAbsolutePath();
        try {
            List<String> names = new ArrayList<>(topics.all());
            names.add(baselineOut);
            kafka.createTopics(names, settings.partitions());
            CommandMix mix = new CommandMix(draw, settings.accounts(), settings.duplicatesPerMille(), transferPerMille, seed);
            double producedPerS = produce(kafka, topics.changes(), mix, commands);
            Map<TopicPartition, Long> ends = kafka.endOffsets(topics.changes(), settings.partitions());
            long total = ends.values().stream().mapToLong(Long::longValue).sum();
            if (total != commands) {
                throw new IllegalStateException("the input holds " + total + " records, expected " + commands);
            }
            StreamsSettings streams = StreamsSettings.localDefaults(settings.bootstrapServers(), stateRoot.toString())
                    .withClientProperties(client)
                    .withTopics(topics).withStreamThreads(settings.streamThreads())
                    .withCommitIntervalMs(settings.commitIntervalMs())
                    .withTransactionalStores(settings.transactionalStores());
            streams = streams.withRocksDbBudget(streams.rocksDbCacheBytes(), settings.writeBufferMb() * MIB);
            String labelPrefix = measured ? "" : "warm-up ";
            Run baseline = null;
            if (!settings.skipBaseline() && !skipBaseline) {
                RecordGaps gaps = new RecordGaps();
                StreamsSettings app = streams.withApplicationId(prefix + "baseline");
                baseline = measure(labelPrefix + "baseline", BaselineTopology.build(topics.changes(), baselineOut, gaps),
                        app, kafka, ends, gaps, null, 0);
            }
            RecordGaps gaps = new RecordGaps();
            StreamsSettings app = streams.withApplicationId(prefix + "topology");
            Path recording = measured && settings.profile() ? settings.resultsDir().resolve(passId + "-topology.jfr") : null;
            String label = labelPrefix + (transferPerMille > 0 ? "topology with transfers" : "topology");
            Run ours = measure(label, BalanceTopology.build(app, event -> gaps.tick(),
                    new OutcomeCounters()), app, kafka, ends, gaps, recording, mix.appliedTransfers());
            if (!measured) {
                return Map.of();
            }
            Map<String, Object> verification = verify(topics.events(), mix);
            Map<String, Object> result = result(mix, producedPerS, baseline, ours, verification);
            if (transferPerMille > 0) {
                result.put("transfer_per_mille", transferPerMille);
                result.put("credit_legs", mix.appliedTransfers());
                result.put("commands_per_s", Math.round(commands / ours.samples().elapsedS()));
                result.put("throughput_kind", "records per second: commands and the credit legs they wrote");
            }
            if (recording != null) {
                JfrSummary.Summary summary = JfrSummary.read(recording, PROFILE_TOP_FRAMES);
                JfrSummary.print(summary, out);
                result.put("profile", summary);
                result.put("profile_file", recording.toString());
            }
            return result;
        } finally {
            Directories.deleteRecursively(stateRoot);
            if (!settings.keepTopics()) {
                out.println("deleted topics " + kafka.deleteTopicsStartingWith(prefix));
                String problem = kafka.deleteGroups(settings.skipBaseline()
                        ? List.of(prefix + "topology") : List.of(prefix + "baseline", prefix + "topology"));
                if (problem != null) {
                    out.println("consumer groups left to the broker's retention: " + problem);
                }
            }
        }
    }

    private double produce(BenchKafka kafka, String topic, CommandMix mix, long commands) {
        AtomicLong acked = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        long start = System.nanoTime();
        try (KafkaProducer<Long, byte[]> producer = kafka.bulkProducer("bench-loader");
             Progress progress = Progress.start(out, "produce", commands, acked::get)) {
            for (long i = 0; i < commands && failure.get() == null; i++) {
                CommandMix.Next next = mix.next();
                producer.send(new ProducerRecord<>(topic, next.accountId(), next.value()), (meta, error) -> {
                    if (error != null) {
                        failure.compareAndSet(null, error);
                    } else {
                        acked.incrementAndGet();
                    }
                });
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("pre-producing failed: " + failure.get().getMessage(), failure.get());
        }
        double perS = commands * 1e9 / (System.nanoTime() - start);
        out.printf("produced %,d commands (%,d duplicates) in %.1f s: %,.0f/s%n", commands, mix.duplicates(),
                (System.nanoTime() - start) / 1e9, perS);
        return perS;
    }

    /**
     * @param legs credit legs the run writes back into its input (0 without transfers): the run is done
     *             when its committed offsets reach the input's end after the input grew by at least that
     *             many records (commit markers of the legs' transactions take offsets too)
     */
    private Run measure(String label, Topology topology, StreamsSettings app, BenchKafka kafka,
                        Map<TopicPartition, Long> ends, RecordGaps gaps, Path recording, long legs) {
        Properties props = app.toProperties();
        // The app reads the pre-produced input from its beginning; stated rather than left to the default.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        long produced = ends.values().stream().mapToLong(Long::longValue).sum();
        long total = produced;
        Map<TopicPartition, Long> currentEnds = ends;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong done = new AtomicLong();
        out.printf("running %s (application id %s)%n", label, app.applicationId());
        Recording jfr = recording == null ? null : startRecording(recording);
        CpuAccount.Snapshot accountBefore = cpuAccount.snapshot();
        CpuAccount.Snapshot accountAfter = null;
        long start = System.nanoTime();
        ThroughputSamples samples = new ThroughputSamples(start);
        KafkaStreams streams = new KafkaStreams(topology, props);
        streams.setUncaughtExceptionHandler(error -> {
            failure.compareAndSet(null, error);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        try (Progress progress = Progress.start(out, label, total, done::get)) {
            streams.start();
            long deadline = start + TimeUnit.SECONDS.toNanos(settings.timeoutS());
            while (done.get() < total || total < produced + legs) {
                if (failure.get() != null) {
                    throw new IllegalStateException(label + " failed: " + failure.get().getMessage(), failure.get());
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(label + " did not finish within " + settings.timeoutS() + " s ("
                            + done.get() + " of " + total + " committed)");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(SAMPLE_PERIOD_MS));
                if (legs > 0) {
                    currentEnds = kafka.endOffsets(app.topics().changes(), ends.size());
                    total = currentEnds.values().stream().mapToLong(Long::longValue).sum();
                }
                long committed = kafka.committedRecords(app.applicationId(), currentEnds);
                samples.add(System.nanoTime(), committed);
                done.set(committed);
            }
            accountAfter = cpuAccount.snapshot();
        } finally {
            if (jfr != null) {
                jfr.stop();
                jfr.close();
            }
            // Leaving the group at once lets the run delete it afterwards (Streams otherwise stays until session timeout).
            streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(Duration.ofSeconds(60)));
            streams.cleanUp();
        }
        Map<String, Object> cpu = CpuAccount.between(accountBefore, accountAfter, total,
                Runtime.getRuntime().availableProcessors());
        Run run = new Run(label, samples, total, gaps.latency().snapshot(), cpu);
        printRun(run);
        return run;
    }

    private void printRun(Run run) {
        ThroughputSamples s = run.samples();
        out.printf("%s: process CPU %.1f s (%.2f cores)%n", run.label(), run.processCpuS(), run.processCpuS() / s.elapsedS());
        out.printf("%s: %,d records, overall %,.0f/s, steady %,.0f/s (first commit after %.1f s)%n", run.label(),
                run.total(), s.overallPerS(), s.steadyPerS(run.total(), settings.warmupS(), STEADY_END_SHARE),
                s.firstProgressS());
        out.println(run.label() + " record gap: " + Latency.line(run.gaps()));
        out.print(run.label() + " " + CpuAccount.describe(run.cpu()));
    }

    private static Recording startRecording(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Recording recording = new Recording(Configuration.getConfiguration("profile"));
            // Denser than the "profile" defaults (10 ms and 20 ms): a run lasts only tens of seconds.
            recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(2));
            recording.enable("jdk.NativeMethodSample").withPeriod(Duration.ofMillis(2));
            recording.setDestination(file);
            recording.start();
            return recording;
        } catch (IOException | java.text.ParseException e) {
            throw new IllegalStateException("could not start a JFR recording: " + e.getMessage(), e);
        }
    }

    /** Reads every committed event once and counts verdicts; compares them with the model's. */
    private Map<String, Object> verify(String eventsTopic, CommandMix mix) {
        Map<String, Long> fresh = new LinkedHashMap<>();
        long replays = 0;
        long events = 0;
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(client.addTo(props),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < settings.partitions(); p++) {
                partitions.add(new TopicPartition(eventsTopic, p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(VERIFY_TIMEOUT_MS);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading the events took longer than " + VERIFY_TIMEOUT_MS + " ms");
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    BalanceEvent event = Codecs.decodeEvent(record.value());
                    events++;
                    if (event.replay()) {
                        replays++;
                    } else {
                        fresh.merge(event.result().name(), 1L, Long::sum);
                    }
                }
            }
        }
        boolean matches = events == settings.commands() + mix.appliedTransfers() && replays == mix.duplicates()
                && fresh.equals(mix.expectedResults());
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("events", events);
        map.put("replays", replays);
        map.put("results", fresh);
        map.put("expected_replays", mix.duplicates());
        map.put("expected_results", mix.expectedResults());
        map.put("matches_model", matches);
        out.printf("verified: %,d events, %,d replays, results %s, expected %s -> %s%n", events, replays, fresh,
                mix.expectedResults(), matches ? "MATCH" : "MISMATCH");
        return map;
    }

    private Map<String, Object> result(CommandMix mix, double producedPerS, Run baseline, Run ours,
                                       Map<String, Object> verification) {
        double oursSteady = ours.samples().steadyPerS(ours.total(), settings.warmupS(), STEADY_END_SHARE);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("mode", "topology");
        result.put("throughput_per_s", Math.round(oursSteady));
        result.put("overall_per_s", Math.round(ours.samples().overallPerS()));
        Map<String, Object> gaps = Latency.summary(ours.gaps());
        result.put("latency_kind", "record_gap: time between consecutive records on one stream thread");
        result.put("p50_ms", gaps.get("p50_ms"));
        result.put("p95_ms", gaps.get("p95_ms"));
        result.put("p99_ms", gaps.get("p99_ms"));
        result.put("p99_9_ms", gaps.get("p99_9_ms"));
        result.put("max_ms", gaps.get("max_ms"));
        if (baseline != null) {
            double baseSteady = baseline.samples().steadyPerS(baseline.total(), settings.warmupS(), STEADY_END_SHARE);
            result.put("baseline_per_s", Math.round(baseSteady));
            result.put("baseline_overall_per_s", Math.round(baseline.samples().overallPerS()));
            result.put("ratio_to_baseline", Math.round(100.0 * oursSteady / baseSteady) / 100.0);
            result.put("overall_ratio_to_baseline",
                    Math.round(100.0 * ours.samples().overallPerS() / baseline.samples().overallPerS()) / 100.0);
            result.put("baseline", baseline.toMap(settings.warmupS()));
        }
        result.put("topology", ours.toMap(settings.warmupS()));
        result.put("produce_per_s", Math.round(producedPerS));
        result.put("command_types", mix.typeCounts());
        result.put("verification", verification);
        result.put("settings", settings.toMap());
        return result;
    }
}
