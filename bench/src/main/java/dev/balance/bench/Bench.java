package dev.balance.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The benchmark tool: {@code Bench <mode> [--option value ...]}. Modes: {@code topology},
 * {@code http-single}, {@code http-batch}, {@code http-read}, {@code e2e}, {@code restart} (all against a
 * real broker; e2e also MySQL and Redis) and {@code jmh} (run by the script through JMH's own main). Each
 * mode prints its settings and figures and writes {@code bench-results/<mode>-<yyyyMMdd-HHmmss>.json}; a
 * result with a {@code failed} field (e2e: the stores differ from the node; restart: a sampled balance is
 * wrong after a restart) is written, then the tool exits with 1.
 *
 * <p>Environment: KAFKA_BOOTSTRAP_SERVERS (127.0.0.1:9092), read once here.
 */
public final class Bench {

    static final String BOOTSTRAP_DEFAULT = "127.0.0.1:9092";

    private Bench() {
    }

    public static void main(String[] argv) {
        PrintStream out = System.out;
        Args args;
        try {
            args = Args.parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        Map<String, String> env = System.getenv();
        String bootstrap = env.getOrDefault("KAFKA_BOOTSTRAP_SERVERS", BOOTSTRAP_DEFAULT);
        LocalDateTime startedAt = LocalDateTime.now();
        // Short on purpose: it prefixes the run's topic names, and Kafka hashes topic names on every send, so
        // a long prefix would cost more than the production names ("balance-events") do.
        String runId = "b" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0x1000000));
        Machine machine = Machine.current();
        Map<String, Object> result;
        Path resultsDir;
        try {
            switch (args.mode()) {
                case "topology" -> {
                    TopologyBench.Settings settings = TopologyBench.Settings.from(args, bootstrap);
                    resultsDir = settings.resultsDir();
                    result = new TopologyBench(settings, out, env).run(runId);
                }
                case "http-single" -> {
                    HttpSingleBench.Settings settings = HttpSingleBench.Settings.from(args, env);
                    resultsDir = settings.target().resultsDir();
                    result = new HttpSingleBench(settings, out).run(runId);
                }
                case "http-batch" -> {
                    HttpBatchBench.Settings settings = HttpBatchBench.Settings.from(args, env);
                    resultsDir = settings.target().resultsDir();
                    result = new HttpBatchBench(settings, out).run(runId);
                }
                case "http-read" -> {
                    HttpReadBench.Settings settings = HttpReadBench.Settings.from(args, env);
                    resultsDir = settings.target().resultsDir();
                    result = new HttpReadBench(settings, out).run(runId);
                }
                case "e2e" -> {
                    E2eBench.Settings settings = E2eBench.Settings.from(args, env);
                    resultsDir = settings.target().resultsDir();
                    result = new E2eBench(settings, out).run(runId);
                }
                case "idle" -> {
                    IdleBench.Settings settings = IdleBench.Settings.from(args, env);
                    resultsDir = settings.target().resultsDir();
                    result = new IdleBench(settings, out).run(runId);
                }
                case "restart" -> {
                    RestartBench.Settings settings = RestartBench.Settings.from(args, env);
                    resultsDir = settings.target().resultsDir();
                    result = new RestartBench(settings, out).run(runId);
                }
                default -> throw new IllegalArgumentException("unknown mode " + args.mode());
            }
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        Map<String, Object> withMachine = new LinkedHashMap<>(result);
        Map<String, Object> machineMap = machine.toMap();
        // Other work on the machine skews every figure; the load before and after tells whether there was any.
        machineMap.put("load_average_1m_at_end", Machine.current().loadAverage1m());
        withMachine.put("machine", machineMap);
        withMachine.put("run_id", runId);
        withMachine.put("started_at", startedAt.toString());
        Path file = new ResultFile().write(resultsDir, startedAt, withMachine);
        out.printf("%s: %,d/s  P50 %s ms  P95 %s ms  P99 %s ms  P99.9 %s ms  max %s ms%n", args.mode(),
                result.get("throughput_per_s"), result.get("p50_ms"), result.get("p95_ms"), result.get("p99_ms"),
                result.get("p99_9_ms"), result.get("max_ms"));
        out.println("result written to " + file);
        if (result.containsKey("failed")) {
            System.err.println("bench: " + args.mode() + " FAILED: " + result.get("failed"));
            System.exit(1);
        }
        // Client libraries leave non-daemon threads behind (the HTTP client's, Kafka's); the run is over.
        System.exit(0);
    }

    static String usage() {
        return """
                usage: scripts/bench <mode> [--option value ...]
                  topology     pre-produce commands, run the bare baseline and the topology, compare
                               --commands 2000000 --accounts 1000000 --partitions 12 --threads 2
                               --commit-interval-ms 100 --duplicates-per-mille 10 --seed 42
                               --warmup-commands 300000 (both apps, unmeasured) --warmup-s 5 (left out of steady)
                               --timeout-s 300 --skip-baseline --profile --keep-topics
                  http-single  POST /api/v1/balance/change, fixed concurrency or fixed rate
                               --concurrency 32 | --rate R | --search  --duration-s 30 --accounts 10000
                               --warmup-s 60 (the JIT needs about 45 s of this load to settle)
                               --url http://host:port (default: an in-process node)
                  http-batch   POST /api/v1/balance/changes
                               --batch-size 1000 --concurrency 4 --duration-s 30 --accounts 100000
                  http-read    GET one balance, an account, a transaction; POST /api/v1/balances/lookup
                               --concurrency 32 --duration-s 20 --warmup-s 15 --accounts 1000000
                               --lookup-size 100 --kinds balance,account,transaction,lookup
                               --nodes 2: a second in-process node owns half the accounts; adds the kind
                               forwarded (GET one balance the second node owns, from the first)
                  e2e          the node with the MySQL and Redis sinks under sustained load: sink lag every
                               --sample-s 10, catch-up time, then every balance compared (node, MySQL, Redis)
                               --batch-concurrency 4 --batch-size 1000 --single-concurrency 8 --accounts 100000
                               --duration-s 300 --warmup-s 30 --drain-timeout-s 600 --keep-stores
                  restart      one node process: fund accounts, then restart it three times (kill -9, clean
                               stop, kill -9 with its state wiped): time to /ready, records restored, RSS,
                               state on disk; a sample of balances checked after each restart
                               --accounts 1000000 --sample 1000 --write-buffer-mb N --cache-mb N (default:
                               the node's) --ready-timeout-s 600 --stop-timeout-s 60 --keep-topics
                  idle         one node process and its broker with no load (one balance read a second):
                               their CPU as a share of one core --settle-s 120 --measure-s 60
                  jmh          the processor's hot path under JMH (scripts/bench jmh [JMH options])
                common: --bootstrap host:port --results-dir bench-results --state-dir data/bench
                """;
    }
}
