package dev.balance.bench;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The {@code http-read} mode: reads against a node whose accounts were funded first, at a fixed
 * concurrency (closed model), with the lean generator ({@link LeanHttpLoad}). Four kinds, one
 * after the other, each warmed up and then measured: one balance
 * ({@code GET /api/v1/balance/{id}/USDT}), all balances of an account ({@code GET
 * /api/v1/balance/{id}}), one transaction ({@code GET /api/v1/transactions/{id}/{tx}}), and many
 * balances in one request ({@code POST /api/v1/balances/lookup}). Accounts are drawn uniformly.
 *
 * <p>With {@code --nodes 2} a second in-process node shares the partitions and the kind
 * {@code forwarded} is added to the defaults: one balance, of an account the second node owns,
 * asked of the first, which forwards it to the owner and relays the answer. Both nodes run in this
 * JVM, so the CPU split counts both ends of the forwarded request (the uniform kinds then mix
 * local and forwarded reads).
 */
final class HttpReadBench {

    static final Set<String> OPTIONS;
    /**
     * Warm-up per kind: long enough that the JIT has compiled the read path and the work the
     * funding left behind (the broker compacting the changelog, RocksDB flushing) is done.
     */
    static final long WARMUP_S_DEFAULT = 60;
    static final List<String> KINDS = List.of("balance", "account", "transaction", "lookup");
    /** Kinds that need two nodes. */
    static final List<String> FORWARDED_KINDS = List.of("forwarded");

    static {
        Set<String> options = new HashSet<>(HttpTarget.OPTIONS);
        options.addAll(Set.of("concurrency", "duration-s", "warmup-s", "accounts", "lookup-size", "kinds", "seed"));
        OPTIONS = Set.copyOf(options);
    }

    record Settings(HttpTarget.Settings target, int concurrency, long durationS, long warmupS, int accounts,
                    int lookupSize, List<String> kinds, long seed) {

        static Settings from(Args args, Map<String, String> env) {
            args.requireKnown(OPTIONS);
            HttpTarget.Settings target = HttpTarget.Settings.from(args, env);
            List<String> defaults = new ArrayList<>(KINDS);
            if (target.nodes() > 1) {
                defaults.addAll(FORWARDED_KINDS);
            }
            List<String> kinds = List.of(args.text("kinds", String.join(",", defaults)).split(","));
            Settings settings = new Settings(target, args.intValue("concurrency", 32),
                    args.longValue("duration-s", 20), args.longValue("warmup-s", WARMUP_S_DEFAULT),
                    args.intValue("accounts", 1_000_000), args.intValue("lookup-size", 100), kinds,
                    args.longValue("seed", 23));
            if (settings.concurrency <= 0 || settings.durationS <= 0 || settings.accounts <= 0
                    || settings.lookupSize <= 0 || settings.warmupS < 0) {
                throw new IllegalArgumentException("--concurrency, --duration-s, --accounts and --lookup-size must be"
                        + " positive");
            }
            if (!defaults.containsAll(kinds)) {
                throw new IllegalArgumentException("--kinds takes a list of " + KINDS + (target.nodes() > 1 ? ""
                        : "; " + FORWARDED_KINDS + " with --nodes 2"));
            }
            return settings;
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>(target.toMap());
            map.put("model", "closed model, fixed concurrency, one kept-alive connection per worker");
            map.put("concurrency", concurrency);
            map.put("duration_s", durationS);
            map.put("warmup_s", warmupS);
            map.put("accounts", accounts);
            map.put("lookup_size", lookupSize);
            map.put("kinds", kinds);
            return map;
        }
    }

    private static final String CURRENCY = ChangeBodies.CURRENCY;
    private static final byte[] SUCCESS = "\"success\":true".getBytes(StandardCharsets.US_ASCII);
    /** A 200 is a success only when the body says so (a lookup with every item answered says so too). */
    private static final LeanHttpLoad.Check CHECK = LeanHttpLoad.Check.body(body -> LeanHttpLoad.contains(body, SUCCESS, 64));

    private final Settings settings;
    private final PrintStream out;

    HttpReadBench(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    Map<String, Object> run(String runId) {
        out.println("http-read benchmark " + runId + ": " + settings.toMap());
        String idPrefix = runId + "-";
        ChangeBodies bodies = new ChangeBodies(idPrefix, settings.accounts());
        CpuAccount cpu = new CpuAccount(settings.target().env());
        try (HttpTarget target = HttpTarget.open(settings.target(), runId, out);
             LeanHttpLoad load = new LeanHttpLoad(target.uri("/"), settings.concurrency())) {
            HttpSingleBench.prefill(load, settings.concurrency(), bodies, settings.accounts(), out);
            String host = load.hostHeader();
            long[] remote = null;
            Map<String, java.util.Set<Integer>> assignment = target.assignment();
            if (settings.kinds().stream().anyMatch(FORWARDED_KINDS::contains)) {
                remote = target.accountsOwnedBySecond(settings.accounts());
                out.printf("forwarded reads: %,d of the %,d accounts are owned by the second node%n", remote.length,
                        settings.accounts());
            }
            Map<String, Object> byKind = new LinkedHashMap<>();
            Map<String, Object> first = null;
            for (String kind : settings.kinds()) {
                LeanHttpLoad.Requests requests = requests(kind, host, idPrefix, remote);
                long seed = settings.seed() + kind.hashCode();
                try (Progress progress = Progress.start(out, kind + " warm-up", 0, load::progress)) {
                    load.closed(settings.concurrency(), TimeUnit.SECONDS.toNanos(settings.warmupS()), requests,
                            CHECK, seed);
                }
                CpuAccount.Snapshot before = cpu.snapshot();
                LeanHttpLoad.Phase phase;
                try (Progress progress = Progress.start(out, kind, 0, load::progress)) {
                    phase = load.closed(settings.concurrency(), TimeUnit.SECONDS.toNanos(settings.durationS()),
                            requests, CHECK, seed + 1);
                }
                Map<String, Object> account = CpuAccount.between(before, cpu.snapshot(), phase.requests(),
                        Runtime.getRuntime().availableProcessors());
                Map<String, Object> result = result(kind, phase, account);
                print(kind, phase, account);
                byKind.put(kind, result);
                if (first == null) {
                    first = result;
                }
            }
            if (!assignment.equals(target.assignment())) {
                // Reads of moved accounts were then answered locally, or refused while they moved.
                out.println("WARNING: the assignment changed during the run: " + assignment + " -> "
                        + target.assignment());
            }
            Map<String, Object> result = new LinkedHashMap<>(first);
            result.put("mode", "http-read");
            result.put("kinds", byKind);
            result.put("settings", settings.toMap());
            return result;
        }
    }

    private LeanHttpLoad.Requests requests(String kind, String host, String idPrefix, long[] remote) {
        int accounts = settings.accounts();
        return switch (kind) {
            case "balance" -> random -> LeanHttpLoad.get(host, "/api/v1/balance/" + account(random, accounts) + "/" + CURRENCY);
            case "forwarded" -> random -> LeanHttpLoad.get(host, "/api/v1/balance/" + remote[random.nextInt(remote.length)]
                    + "/" + CURRENCY);
            case "account" -> random -> LeanHttpLoad.get(host, "/api/v1/balance/" + account(random, accounts));
            case "transaction" -> random -> {
                long account = account(random, accounts);
                // The prefill's deposit to account a has the id prefix + (a - 1) in base 36.
                return LeanHttpLoad.get(host, "/api/v1/transactions/" + account + "/" + idPrefix
                        + Long.toString(account - 1, 36));
            };
            case "lookup" -> random -> LeanHttpLoad.post(host, "/api/v1/balances/lookup", lookupBody(random, accounts));
            default -> throw new IllegalArgumentException("unknown kind " + kind);
        };
    }

    private String lookupBody(SplittableRandom random, int accounts) {
        StringBuilder body = new StringBuilder(settings.lookupSize() * 48);
        body.append('[');
        for (int i = 0; i < settings.lookupSize(); i++) {
            if (i > 0) {
                body.append(',');
            }
            body.append("{\"account_id\":").append(account(random, accounts)).append(",\"currency_code\":\"")
                    .append(CURRENCY).append("\"}");
        }
        return body.append(']').toString();
    }

    private static long account(SplittableRandom random, int accounts) {
        return 1 + random.nextInt(accounts);
    }

    private Map<String, Object> result(String kind, LeanHttpLoad.Phase phase, Map<String, Object> account) {
        Map<String, Object> latency = Latency.summary(phase.latency());
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("throughput_per_s", Math.round(phase.requestsPerS()));
        result.put("throughput_unit", "requests per second");
        if (kind.equals("lookup")) {
            result.put("balances_per_s", Math.round(phase.requestsPerS() * settings.lookupSize()));
        }
        result.put("latency_kind", "per request, first byte written to last byte read");
        Latency.putFigures(result, latency);
        result.put("phase", phase.toMap());
        double generatorCpuS = CpuAccount.seconds(account, CpuAccount.Role.GENERATOR);
        result.put("generator_cores", Math.round(100 * generatorCpuS / phase.elapsedS()) / 100.0);
        result.put("cpu", account);
        return result;
    }

    private void print(String kind, LeanHttpLoad.Phase phase, Map<String, Object> account) {
        out.printf("%s: %,d requests in %.1f s = %,.0f/s%s, statuses %s, errors %d%n", kind, phase.requests(),
                phase.elapsedS(), phase.requestsPerS(), kind.equals("lookup")
                        ? String.format(" (%,.0f balances/s)", phase.requestsPerS() * settings.lookupSize()) : "",
                phase.statuses(), phase.errors());
        out.println(kind + " latency: " + Latency.line(phase.latency()));
        out.print(kind + " " + CpuAccount.describe(account));
    }
}
