package dev.balance.bench;

import java.io.PrintStream;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The {@code http-batch} mode: POST /api/v1/balance/changes with batches of mixed deposits and
 * withdrawals at a fixed concurrency (closed model). Reports changes per second and the latency
 * of each batch request, send to the answer with every item's verdict. Driven by the lean generator
 * ({@link LeanHttpLoad}), which counts the items' codes of each answer.
 */
final class HttpBatchBench {

    static final Set<String> OPTIONS;

    static {
        Set<String> options = new HashSet<>(HttpTarget.OPTIONS);
        options.addAll(Set.of("batch-size", "concurrency", "duration-s", "accounts", "warmup-s", "seed"));
        OPTIONS = Set.copyOf(options);
    }

    record Settings(HttpTarget.Settings target, int batchSize, int concurrency, long durationS, int accounts,
                    long warmupS, long seed) {

        static Settings from(Args args, Map<String, String> env) {
            args.requireKnown(OPTIONS);
            Settings settings = new Settings(HttpTarget.Settings.from(args, env), args.intValue("batch-size", 1000),
                    args.intValue("concurrency", 4), args.longValue("duration-s", 30), args.intValue("accounts", 100_000),
                    args.longValue("warmup-s", 5), args.longValue("seed", 11));
            if (settings.batchSize <= 0 || settings.concurrency <= 0 || settings.durationS <= 0 || settings.accounts <= 0) {
                throw new IllegalArgumentException("--batch-size, --concurrency, --duration-s and --accounts must be positive");
            }
            return settings;
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>(target.toMap());
            map.put("model", "closed model, fixed concurrency");
            map.put("batch_size", batchSize);
            map.put("concurrency", concurrency);
            map.put("duration_s", durationS);
            map.put("warmup_s", warmupS);
            map.put("accounts", accounts);
            map.put("mix", "50% DEPOSIT / 50% WITHDRAW of " + ChangeBodies.CHANGE_AMOUNT + " " + ChangeBodies.CURRENCY
                    + " after a deposit of " + ChangeBodies.PREFILL_AMOUNT + " to every account");
            return map;
        }
    }

    private final Settings settings;
    private final PrintStream out;

    HttpBatchBench(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    Map<String, Object> run(String runId) {
        out.println("http-batch benchmark " + runId + ": " + settings.toMap());
        ChangeBodies bodies = new ChangeBodies(runId + "-", settings.accounts());
        CpuAccount cpu = new CpuAccount(settings.target().env());
        try (HttpTarget target = HttpTarget.open(settings.target(), runId, out);
             LeanHttpLoad load = new LeanHttpLoad(target.uri("/"), settings.concurrency())) {
            HttpSingleBench.prefill(load, settings.concurrency(), bodies, settings.accounts(), out);
            String host = load.hostHeader();
            int size = settings.batchSize();
            LeanHttpLoad.Requests batches = random -> LeanHttpLoad.post(host, HttpSingleBench.BATCH_PATH,
                    bodies.mixedBatch(random, size));
            // A 200 answers every item of the batch; each item's code is counted.
            LeanHttpLoad.Check everyItem = (body, itemCodes) -> LeanHttpLoad.itemCodes(body, itemCodes) == size;
            try (Progress progress = Progress.start(out, "warm-up", 0, load::progress)) {
                load.closed(settings.concurrency(), TimeUnit.SECONDS.toNanos(settings.warmupS()), batches, everyItem,
                        settings.seed());
            }
            CpuAccount.Snapshot cpuBefore = cpu.snapshot();
            LeanHttpLoad.Phase phase;
            try (Progress progress = Progress.start(out, "http-batch", 0, load::progress)) {
                phase = load.closed(settings.concurrency(), TimeUnit.SECONDS.toNanos(settings.durationS()), batches,
                        everyItem, settings.seed() + 1);
            }
            Map<String, Object> account = CpuAccount.between(cpuBefore, cpu.snapshot(), phase.items(),
                    Runtime.getRuntime().availableProcessors());
            double generatorCpuS = CpuAccount.seconds(account, CpuAccount.Role.GENERATOR);
            out.printf("http-batch: %,d requests, %,d changes in %.1f s = %,.0f changes/s (%,.1f requests/s), statuses %s,"
                    + " item codes %s, errors %d%n", phase.requests(), phase.items(), phase.elapsedS(), phase.itemsPerS(),
                    phase.requestsPerS(), phase.statuses(), phase.itemCodes(), phase.errors());
            out.println("latency per request: " + Latency.line(phase.latency()));
            out.print("http-batch " + CpuAccount.describe(account));
            Map<String, Object> latency = Latency.summary(phase.latency());
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("mode", "http-batch");
            result.put("throughput_per_s", Math.round(phase.itemsPerS()));
            result.put("throughput_unit", "changes per second");
            result.put("latency_kind", "per batch request, send to answer");
            Latency.putFigures(result, latency);
            result.put("phase", phase.toMap());
            result.put("generator_cpu_s", generatorCpuS);
            result.put("generator_cores", Math.round(100 * generatorCpuS / phase.elapsedS()) / 100.0);
            result.put("cpu", account);
            result.put("settings", settings.toMap());
            return result;
        }
    }
}
