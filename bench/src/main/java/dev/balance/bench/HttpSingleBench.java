package dev.balance.bench;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code http-single} mode: POST /api/v1/balance/change, one change per request, latency
 * from send (or, at a fixed rate, from the due time) to the verdict. First every account gets a
 * deposit (through the batch endpoint, unmeasured), then a warm-up, then the measured load of
 * mixed deposits and withdrawals: at a fixed concurrency (closed model, the default), at a fixed
 * rate ({@code --rate}, open model), or stepping the rate up ({@code --search}) until P95 reaches
 * the target or the node falls behind the rate. Driven by the lean generator ({@link LeanHttpLoad}):
 * one thread, one selector, kept-alive connections (up to {@code --in-flight-max} in the open model).
 */
final class HttpSingleBench {

    static final String CHANGE_PATH = "/api/v1/balance/change";
    static final String BATCH_PATH = "/api/v1/balance/changes";
    static final int PREFILL_BATCH_SIZE = 1000;
    /** A step keeps up when it reaches this share of its target rate. */
    static final double KEEP_UP_SHARE = 0.95;
    /** A step fails when more than this share of requests got no verdict (errors, 202 pending, 5xx). */
    static final double FAILED_SHARE_MAX = 0.01;
    /**
     * The default warm-up: on 2 cores the JIT compiler needs about 45 s of this load to settle (a search
     * after a 5 s warm-up found 698/s, after 45 s 1,905/s).
     */
    static final long WARMUP_S_DEFAULT = 60;
    /**
     * After the first step that fails, a search tries this many rates between the last sustained
     * step and the failed one (each the geometric middle of the two nearest), so the figure it
     * reports is within about 5% of the true limit instead of a whole rate factor (1.5) below it.
     */
    static final int REFINE_STEPS_DEFAULT = 3;
    private static final byte[] APPLIED = "\"status\":\"APPLIED\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SUCCESS = "\"success\":true".getBytes(StandardCharsets.US_ASCII);
    /**
     * A 200 to one change must carry an applied verdict (a refusal comes as 422 REJECTED, a verdict
     * too; 202 PENDING and 5xx are judged by their status).
     */
    static final LeanHttpLoad.Check APPLIED_CHECK = LeanHttpLoad.Check.body(
            body -> LeanHttpLoad.contains(body, APPLIED, body.length));

    static final Set<String> OPTIONS;

    static {
        Set<String> options = new HashSet<>(HttpTarget.OPTIONS);
        options.addAll(Set.of("concurrency", "rate", "search", "duration-s", "accounts", "warmup-s", "rate-start",
                "rate-factor", "step-s", "steps-max", "refine-steps", "p95-target-ms", "in-flight-max", "seed"));
        OPTIONS = Set.copyOf(options);
    }

    record Settings(HttpTarget.Settings target, int concurrency, double ratePerS, boolean search, long durationS,
                    int accounts, long warmupS, double rateStart, double rateFactor, long stepS, int stepsMax,
                    int refineSteps, double p95TargetMs, int inFlightMax, long seed) {

        static Settings from(Args args, Map<String, String> env) {
            args.requireKnown(OPTIONS);
            Settings settings = new Settings(HttpTarget.Settings.from(args, env), args.intValue("concurrency", 32),
                    args.doubleValue("rate", 0), args.flag("search"), args.longValue("duration-s", 30),
                    args.intValue("accounts", 10_000), args.longValue("warmup-s", WARMUP_S_DEFAULT),
                    args.doubleValue("rate-start", 250),
                    args.doubleValue("rate-factor", 1.5), args.longValue("step-s", 10), args.intValue("steps-max", 15),
                    args.intValue("refine-steps", REFINE_STEPS_DEFAULT),
                    args.doubleValue("p95-target-ms", 50), args.intValue("in-flight-max", 2_000), args.longValue("seed", 7));
            if (settings.concurrency <= 0 || settings.durationS <= 0 || settings.accounts <= 0 || settings.ratePerS < 0
                    || settings.rateStart <= 0 || settings.rateFactor <= 1 || settings.stepS <= 0 || settings.inFlightMax <= 0 || settings.refineSteps < 0) {
                throw new IllegalArgumentException("sizes, durations and rates must be positive (--rate-factor above 1)");
            }
            return settings;
        }

        String model() {
            return search ? "search (open model, rate steps)" : ratePerS > 0 ? "open model, fixed rate" : "closed model, fixed concurrency";
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>(target.toMap());
            map.put("model", model());
            if (search) {
                map.put("rate_start_per_s", rateStart);
                map.put("rate_factor", rateFactor);
                map.put("step_s", stepS);
                map.put("refine_steps", refineSteps);
                map.put("p95_target_ms", p95TargetMs);
            } else if (ratePerS > 0) {
                map.put("rate_per_s", ratePerS);
            } else {
                map.put("concurrency", concurrency);
            }
            if (search || ratePerS > 0) {
                map.put("in_flight_max", inFlightMax);
            }
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

    HttpSingleBench(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    Map<String, Object> run(String runId) {
        out.println("http-single benchmark " + runId + ": " + settings.toMap());
        ChangeBodies bodies = new ChangeBodies(runId + "-", settings.accounts());
        CpuAccount cpu = new CpuAccount(settings.target().env());
        try (HttpTarget target = HttpTarget.open(settings.target(), runId, out);
             LeanHttpLoad load = new LeanHttpLoad(target.uri("/"), settings.concurrency())) {
            prefill(load, settings.concurrency(), bodies, settings.accounts(), out);
            String host = load.hostHeader();
            LeanHttpLoad.Requests changes = random -> LeanHttpLoad.post(host, CHANGE_PATH, bodies.mixed(random));
            try (Progress progress = Progress.start(out, "warm-up", 0, load::progress)) {
                load.closed(settings.concurrency(), TimeUnit.SECONDS.toNanos(settings.warmupS()), changes, APPLIED_CHECK,
                        settings.seed());
            }
            CpuAccount.Snapshot cpuBefore = cpu.snapshot();
            long start = System.nanoTime();
            Map<String, Object> result = settings.search() ? search(load, changes, cpu) : fixed(load, changes);
            double elapsedS = (System.nanoTime() - start) / 1e9;
            Map<String, Object> account = CpuAccount.between(cpuBefore, cpu.snapshot(), requestsIn(result),
                    Runtime.getRuntime().availableProcessors());
            double generatorCpuS = CpuAccount.seconds(account, CpuAccount.Role.GENERATOR);
            result.put("generator_cpu_s", generatorCpuS);
            result.put("generator_cores", Math.round(100 * generatorCpuS / elapsedS) / 100.0);
            result.put("cpu", account);
            out.print("http-single " + CpuAccount.describe(account));
            result.put("settings", settings.toMap());
            return result;
        }
    }

    /** Requests sent in the measured phase, or in every step of a search. */
    @SuppressWarnings("unchecked")
    static long requestsIn(Map<String, Object> result) {
        List<Map<String, Object>> phases = result.containsKey("steps")
                ? (List<Map<String, Object>>) result.get("steps")
                : List.of((Map<String, Object>) result.get("phase"));
        return phases.stream().mapToLong(phase -> ((Number) phase.get("requests")).longValue()).sum();
    }

    /**
     * Funds every account with one deposit, through the batch endpoint with a batch in flight on each
     * of {@code connections} connections; waits for every verdict (a batch answers when all of its
     * items are decided). Not measured; the phase says how long it took.
     */
    static LeanHttpLoad.Phase prefill(LeanHttpLoad load, int connections, ChangeBodies bodies, int accounts, PrintStream out) {
        AtomicLong next = new AtomicLong(1);
        String host = load.hostHeader();
        long batches = (accounts + PREFILL_BATCH_SIZE - 1) / PREFILL_BATCH_SIZE;
        LeanHttpLoad.Phase phase;
        try (Progress progress = Progress.start(out, "prefill", batches, load::progress)) {
            phase = load.requests(connections, batches, random -> {
                long from = next.getAndAdd(PREFILL_BATCH_SIZE);
                long to = Math.min(from + PREFILL_BATCH_SIZE, accounts + 1L);
                return LeanHttpLoad.post(host, BATCH_PATH, bodies.prefillBatch(from, to));
            }, LeanHttpLoad.Check.body(body -> LeanHttpLoad.contains(body, SUCCESS, body.length)));
        }
        if (phase.errors() > 0 || phase.statuses().getOrDefault(200, 0L) != batches) {
            throw new IllegalStateException("prefill failed: statuses " + phase.statuses() + ", errors " + phase.errors());
        }
        out.printf("prefill: %,d accounts funded in %.1f s%n", accounts, phase.elapsedS());
        return phase;
    }

    private Map<String, Object> fixed(LeanHttpLoad load, LeanHttpLoad.Requests changes) {
        long durationNanos = TimeUnit.SECONDS.toNanos(settings.durationS());
        LeanHttpLoad.Phase phase;
        try (Progress progress = Progress.start(out, "http-single", 0, load::progress)) {
            phase = settings.ratePerS() > 0
                    ? load.open(settings.ratePerS(), durationNanos, settings.inFlightMax(), changes, APPLIED_CHECK,
                            settings.seed() + 1)
                    : load.closed(settings.concurrency(), durationNanos, changes, APPLIED_CHECK, settings.seed() + 1);
        }
        print(phase);
        return result(phase);
    }

    private Map<String, Object> search(LeanHttpLoad load, LeanHttpLoad.Requests changes, CpuAccount cpu) {
        List<Map<String, Object>> steps = new ArrayList<>();
        LeanHttpLoad.Phase best = null;
        double failedRate = 0;
        double rate = settings.rateStart();
        for (int step = 0; step < settings.stepsMax(); step++, rate *= settings.rateFactor()) {
            LeanHttpLoad.Phase phase = step(load, changes, cpu, steps, rate);
            if (phase == null) {
                failedRate = rate;
                break;
            }
            best = phase;
        }
        if (best == null) {
            throw new IllegalStateException("not even the first step (" + settings.rateStart()
                    + "/s) was sustained; try a lower --rate-start");
        }
        // Narrow the gap between the last sustained rate and the first failed one.
        for (int refine = 0; failedRate > 0 && refine < settings.refineSteps(); refine++) {
            double between = Math.sqrt(best.targetPerS() * failedRate);
            LeanHttpLoad.Phase phase = step(load, changes, cpu, steps, between);
            if (phase == null) {
                failedRate = between;
            } else {
                best = phase;
            }
        }
        out.printf("highest sustained rate: %,.0f/s (target %,.0f/s)%n", best.requestsPerS(), best.targetPerS());
        Map<String, Object> result = result(best);
        result.put("sustained_target_per_s", best.targetPerS());
        result.put("steps", steps);
        return result;
    }

    /** One step of a search at a fixed rate: its phase when sustained, null when it failed. */
    private LeanHttpLoad.Phase step(LeanHttpLoad load, LeanHttpLoad.Requests changes, CpuAccount cpu,
                                    List<Map<String, Object>> steps, double rate) {
        int number = steps.size() + 1;
        LeanHttpLoad.Phase phase;
        CpuAccount.Snapshot before = cpu.snapshot();
        try (Progress progress = Progress.start(out, String.format("step %d @ %,.0f/s", number, rate), 0,
                load::progress)) {
            phase = load.open(rate, TimeUnit.SECONDS.toNanos(settings.stepS()), settings.inFlightMax(), changes,
                    APPLIED_CHECK, settings.seed() + number - 1);
        }
        Map<String, Object> account = CpuAccount.between(before, cpu.snapshot(), phase.requests(),
                Runtime.getRuntime().availableProcessors());
        String verdict = judge(phase);
        Map<String, Object> summary = phase.toMap();
        summary.put("verdict", verdict);
        summary.put("cpu", account);
        steps.add(summary);
        out.printf("step %d: target %,.0f/s achieved %,.0f/s  %s  machine busy %s  -> %s%n", number, rate,
                phase.requestsPerS(), Latency.line(phase.latency()), account.get("machine_busy_share"), verdict);
        return verdict.equals("sustained") ? phase : null;
    }

    /** Why a step failed, or "sustained". */
    String judge(LeanHttpLoad.Phase phase) {
        long failed = phase.errors() + phase.statuses().entrySet().stream()
                .filter(e -> e.getKey() == 202 || e.getKey() >= 500).mapToLong(Map.Entry::getValue).sum();
        double p95Ms = Latency.millis(phase.latency().getValueAtPercentile(95));
        if (p95Ms >= settings.p95TargetMs()) {
            return String.format("P95 %.1f ms >= %.0f ms", p95Ms, settings.p95TargetMs());
        }
        if (phase.requestsPerS() < KEEP_UP_SHARE * phase.targetPerS()) {
            return String.format("fell behind (%.0f%% of the rate)", 100 * phase.requestsPerS() / phase.targetPerS());
        }
        if (failed > FAILED_SHARE_MAX * phase.requests()) {
            return failed + " requests without a verdict";
        }
        return "sustained";
    }

    private void print(LeanHttpLoad.Phase phase) {
        out.printf("http-single: %,d requests in %.1f s = %,.0f/s, statuses %s, errors %d%n", phase.requests(),
                phase.elapsedS(), phase.requestsPerS(), phase.statuses(), phase.errors());
        out.println("latency (send to verdict" + (phase.sendLag() != null ? ", from the due time" : "") + "): "
                + Latency.line(phase.latency()));
        if (phase.sendLag() != null) {
            out.println("send lag (generator behind its schedule): " + Latency.line(phase.sendLag()));
        }
    }

    private static Map<String, Object> result(LeanHttpLoad.Phase phase) {
        Map<String, Object> latency = Latency.summary(phase.latency());
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("mode", "http-single");
        result.put("throughput_per_s", Math.round(phase.requestsPerS()));
        Latency.putFigures(result, latency);
        result.put("phase", phase.toMap());
        return result;
    }
}
