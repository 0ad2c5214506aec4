package dev.balance.launcher.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code scripts/chaos}: starts its own broker, nodes and sinks (separate processes), MySQL and
 * Redis behind TCP proxies it can cut, runs a load of single and batch changes against random
 * nodes while a controller kills nodes (sometimes wiping their state), the broker once and the
 * sinks once, and cuts MySQL and Redis for a while; then waits for quiescence and checks that
 * every verdict a client was told is the one the service keeps, that the applied verdicts of each
 * balance form one chain, that nodes, MySQL and Redis hold the model's balances, and that no
 * answer was a 5xx other than 503 or a 409 for a retry. Exit code 0 when every check passed.
 */
public final class Chaos {

    /** What a run does; see {@link #parse}. */
    public record Options(int durationS, int nodes, int partitions, int accounts, int clients, int readers,
                          String mysqlHost, int mysqlPort, String mysqlUser, String mysqlPassword,
                          String redisHost, int redisPort, String nodeClasspath, String brokerClasspath,
                          String brokerLog4j, Path outDir, String plant, boolean keep, String scenario,
                          int killEveryS, int restartAfterMs) {

        /** Reads allow a standby's copy in the scenarios that measure availability under node kills. */
        boolean staleReads() {
            return !scenario.equals(FAULTS);
        }
    }

    /** Every fault at once: node kills (some wiping state), the broker, the sinks, MySQL and Redis cut. */
    static final String FAULTS = "faults";
    /** One node killed with kill -9 once the load is steady, restarted with its state: availability measured. */
    static final String KILL_ONCE = "kill-once";
    /** A random node killed every --kill-every seconds, restarted with its state: the rate measured. */
    static final String KILL_EVERY = "kill-every";
    /** One node fewer at the start; the last one added under load, then another removed for good. */
    static final String SCALE = "scale";

    /** The outcome of a run. */
    public record Result(boolean passed, Map<String, Object> summary, Path folder) {
    }

    private Chaos() {
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = parse(args, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("chaos: " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            Result result = run(options, System.out);
            System.exit(result.passed() ? 0 : 1);
        } catch (Exception e) {
            System.err.println("chaos: the run could not complete: " + e);
            e.printStackTrace();
            System.exit(2);
        }
    }

    public static Options parse(String[] args, Map<String, String> env) {
        int duration = 120;
        int nodes = 3;
        int accounts = 200;
        int clients = 6;
        boolean keep = false;
        String scenario = FAULTS;
        int killEveryS = 6;
        int restartAfterMs = 2_000;
        Path out = Path.of(env.getOrDefault("CHAOS_OUT_DIR", "target/chaos"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--duration" -> duration = Integer.parseInt(value(args, ++i, "--duration"));
                case "--nodes" -> nodes = Integer.parseInt(value(args, ++i, "--nodes"));
                case "--accounts" -> accounts = Integer.parseInt(value(args, ++i, "--accounts"));
                case "--clients" -> clients = Integer.parseInt(value(args, ++i, "--clients"));
                case "--out" -> out = Path.of(value(args, ++i, "--out"));
                case "--keep" -> keep = true;
                case "--scenario" -> scenario = value(args, ++i, "--scenario");
                case "--kill-every" -> {
                    killEveryS = Integer.parseInt(value(args, ++i, "--kill-every"));
                    scenario = KILL_EVERY;
                }
                case "--restart-after-ms" -> restartAfterMs = Integer.parseInt(value(args, ++i, "--restart-after-ms"));
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (see --help)");
            }
        }
        if (duration < 30 || nodes < 2 || accounts < 2 || clients < 1) {
            throw new IllegalArgumentException("--duration must be at least 30 s, --nodes at least 2, --accounts at least 2");
        }
        if (!List.of(FAULTS, KILL_ONCE, KILL_EVERY, SCALE).contains(scenario)) {
            throw new IllegalArgumentException("--scenario is one of " + FAULTS + ", " + KILL_ONCE + ", " + KILL_EVERY
                    + ", " + SCALE);
        }
        if (scenario.equals(SCALE) && nodes < 3) {
            throw new IllegalArgumentException("--scenario scale needs at least 3 nodes");
        }
        if (killEveryS < 1 || restartAfterMs < 0) {
            throw new IllegalArgumentException("--kill-every must be at least 1 s, --restart-after-ms not negative");
        }
        String classpath = System.getProperty("java.class.path");
        return new Options(duration, nodes, 6, accounts, clients, 2,
                env.getOrDefault("CHAOS_MYSQL_HOST", "127.0.0.1"), Integer.parseInt(env.getOrDefault("CHAOS_MYSQL_PORT", "3306")),
                env.getOrDefault("MYSQL_USER", "root"), env.getOrDefault("MYSQL_PASSWORD", ""),
                env.getOrDefault("CHAOS_REDIS_HOST", "127.0.0.1"), Integer.parseInt(env.getOrDefault("CHAOS_REDIS_PORT", "6379")),
                env.getOrDefault("CHAOS_NODE_CLASSPATH", classpath), env.getOrDefault("CHAOS_BROKER_CLASSPATH", classpath),
                env.getOrDefault("CHAOS_BROKER_LOG4J", "scripts/kafka-broker/log4j2.properties"), out.toAbsolutePath(),
                env.get("CHAOS_PLANT"), keep, scenario, killEveryS, restartAfterMs);
    }

    private static String value(String[] args, int i, String name) {
        if (i >= args.length) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args[i];
    }

    /** One whole run: start, load and faults, quiescence, checks, summary. */
    public static Result run(Options options, PrintStream out) throws Exception {
        // The run's own Kafka admin client would fill the output with warnings while the broker is down.
        org.apache.logging.log4j.core.config.Configurator.setLevel("org.apache.kafka", org.apache.logging.log4j.Level.ERROR);
        String runId = "chaos-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("MMddHHmmss"))
                + String.format(Locale.ROOT, "%04x", ThreadLocalRandom.current().nextInt(0x10000));
        Path dir = options.outDir().resolve(runId);
        Files.createDirectories(dir);
        Events events = new Events(out);
        try (TcpProxy mysqlProxy = new TcpProxy("mysql", options.mysqlHost(), options.mysqlPort());
             TcpProxy redisProxy = new TcpProxy("redis", options.redisHost(), options.redisPort());
             Cluster cluster = new Cluster(options, dir, runId, mysqlProxy.port(), redisProxy.port())) {
            Thread hook = new Thread(cluster::close, "chaos-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            out.printf("chaos: run %s, %d s of load, %d nodes, %d accounts x %s, folder %s%n", runId, options.durationS(),
                    options.nodes(), options.accounts(), Load.CURRENCIES, dir);
            long startedAt = System.nanoTime();
            cluster.startBroker();
            cluster.awaitBroker(180_000);
            events.log("broker up on " + cluster.bootstrap());
            cluster.prepareClassArchive(events::log);
            // The scale scenario adds its last node under load.
            int initial = options.scenario().equals(SCALE) ? options.nodes() - 1 : options.nodes();
            for (int i = 0; i < initial; i++) {
                cluster.startNode(i, false);
            }
            cluster.awaitReady(300_000);
            events.log("nodes ready on ports " + java.util.Arrays.toString(cluster.nodePorts));
            cluster.startSinks();
            events.log("sinks started (MySQL through proxy " + mysqlProxy.port() + ", Redis through proxy " + redisProxy.port() + ")");
            List<URI> urls = new ArrayList<>();
            for (int i = 0; i < options.nodes(); i++) {
                urls.add(cluster.nodeUrl(i));
            }
            Load load = new Load(options, urls, runId);
            long loadStartNanos = System.nanoTime();
            load.start();
            events.log("load started: " + options.clients() + " clients, " + 2 + " readers, scenario " + options.scenario());
            Controller controller = new Controller(options, cluster, mysqlProxy, redisProxy, events);
            controller.run(options.durationS() * 1_000L);
            long loadEndNanos = System.nanoTime();
            events.log("load stopping; changes under way are retried until told (at most 90 s)");
            load.stop(90_000);
            events.log("load stopped: " + load.txs.size() + " changes sent");
            cluster.awaitReady(300_000);
            events.log("quiescent: every node ready, sinks " + (cluster.sinksAlive() ? "running" : "NOT running")
                    + ", proxies open");
            Checks checks = new Checks(options, cluster, load, out);
            boolean passed = checks.runAll();
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("run", runId);
            summary.put("passed", passed);
            summary.put("duration_s", options.durationS());
            summary.put("wall_s", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedAt));
            summary.put("checks", checks.results);
            summary.put("figures", checks.figures(controller));
            summary.put("availability", Availability.figures(options, load, controller, loadStartNanos, loadEndNanos, out));
            summary.put("events", events.lines);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve("summary.json").toFile(), summary);
            out.printf("chaos: %s; summary in %s%n", passed ? "PASSED" : "FAILED", dir.resolve("summary.json"));
            cluster.close();
            Runtime.getRuntime().removeShutdownHook(hook);
            if (passed && !options.keep()) {
                checks.dropStores();
                Cluster.deleteTree(dir.resolve("kafka/log"));
                for (int i = 0; i < options.nodes(); i++) {
                    Cluster.deleteTree(dir.resolve("node-" + i + "/state"));
                }
            }
            return new Result(passed, summary, dir);
        }
    }

    /** A timestamped line per thing done, printed as it happens and kept for the summary. */
    static final class Events {
        final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        private final PrintStream out;
        private final long start = System.nanoTime();

        Events(PrintStream out) {
            this.out = out;
        }

        void log(String line) {
            String stamped = String.format(Locale.ROOT, "%7.1fs %s", (System.nanoTime() - start) / 1e9, line);
            lines.add(stamped);
            out.println("chaos: " + stamped);
        }
    }

    /**
     * The faults. One thread kills a random node every few seconds (restarting it 1-4 s later, a
     * third of the time with its state folder wiped); this thread meanwhile kills the sinks once,
     * cuts MySQL, kills the broker once and cuts Redis, at fixed fractions of the run. A broker
     * outage and a node kill never overlap, so a node never starts without a broker.
     */
    static final class Controller {
        final AtomicInteger nodeKills = new AtomicInteger();
        final AtomicInteger wipes = new AtomicInteger();
        final AtomicInteger brokerKills = new AtomicInteger();
        final AtomicInteger sinkKills = new AtomicInteger();
        final AtomicInteger mysqlCuts = new AtomicInteger();
        final AtomicInteger redisCuts = new AtomicInteger();
        final AtomicInteger unexpectedExits = new AtomicInteger();
        /** Longest time from a node's kill until every node answered /ready 200 again. */
        final java.util.concurrent.atomic.AtomicLong longestRecoveryMs = new java.util.concurrent.atomic.AtomicLong();
        private long lastKillNanos;
        private final Options options;
        private final Cluster cluster;
        private final TcpProxy mysql;
        private final TcpProxy redis;
        private final Events events;
        private final ReentrantLock lock = new ReentrantLock();
        private final boolean[] killedByUs;
        private volatile boolean running = true;

        Controller(Options options, Cluster cluster, TcpProxy mysql, TcpProxy redis, Events events) {
            this.options = options;
            this.cluster = cluster;
            this.mysql = mysql;
            this.redis = redis;
            this.events = events;
            this.killedByUs = new boolean[options.nodes()];
        }

        /** One node kill: which node, what it owned, and when it was killed, started again and ready. */
        record Kill(int node, List<Integer> partitions, long killedNanos, long restartedNanos, long readyNanos,
                    long restoredRecords) {
        }

        final List<Kill> kills = java.util.Collections.synchronizedList(new ArrayList<>());
        /** When the scenario's faults began (the no-fault baseline ends there); 0 for none. */
        volatile long faultsFromNanos;

        void run(long durationMs) throws Exception {
            switch (options.scenario()) {
                case KILL_ONCE -> killOnce(durationMs);
                case SCALE -> scale(durationMs);
                case KILL_EVERY -> killEvery(durationMs);
                default -> allFaults(durationMs);
            }
        }

        /**
         * Half the run (at least 60 s) of load, then one random node killed with kill -9 and started
         * again {@code --restart-after-ms} later with its NODE_ID and state folder. The cluster's rate
         * still climbs for about the first minute of load (measured: 5-second counts rising for 45-60 s on
         * a slow machine), and the 20 s before the kill are the baseline the seconds after it are held to.
         */
        private void killOnce(long durationMs) throws Exception {
            long start = System.currentTimeMillis();
            long end = start + durationMs;
            at(start + Math.max(60_000, durationMs / 2));
            int node = ThreadLocalRandom.current().nextInt(options.nodes());
            Kill kill = killAndRestart(node, end);
            events.log(String.format(Locale.ROOT, "node %d ready again %d ms after its restart, %d ms after the kill",
                    node, TimeUnit.NANOSECONDS.toMillis(kill.readyNanos() - kill.restartedNanos()),
                    TimeUnit.NANOSECONDS.toMillis(kill.readyNanos() - kill.killedNanos())));
            at(end);
            restartTheDead();
        }

        /**
         * A third of the run (at least 60 s) of load, its last 30 s the baseline, then a random running
         * node killed every {@code --kill-every} seconds, each started again with its state
         * {@code --restart-after-ms} after its kill (on a thread of its own, so kills keep time).
         */
        private void killEvery(long durationMs) throws Exception {
            long start = System.currentTimeMillis();
            long end = start + durationMs;
            at(start + Math.max(60_000, durationMs / 3));
            List<Thread> restarts = new ArrayList<>();
            long every = options.killEveryS() * 1_000L;
            for (long next = System.currentTimeMillis(); next < end - 5_000; next += every) {
                at(next);
                List<Integer> up = new ArrayList<>();
                for (int i = 0; i < options.nodes(); i++) {
                    if (cluster.nodeAlive(i)) {
                        up.add(i);
                    }
                }
                if (up.size() < 2) {
                    events.log("fewer than two nodes running; this kill skipped");
                    continue;
                }
                int node = up.get(ThreadLocalRandom.current().nextInt(up.size()));
                Thread restart = new Thread(() -> {
                    try {
                        killAndRestart(node, end + 60_000);
                    } catch (Exception e) {
                        events.log("kill and restart of node " + node + " failed: " + e);
                    }
                }, "chaos-kill-" + node);
                restart.start();
                restarts.add(restart);
                // The restart thread takes the node down before the next kill is chosen.
                long deadline = System.currentTimeMillis() + 2_000;
                while (cluster.nodeAlive(node) && System.currentTimeMillis() < deadline) {
                    Thread.sleep(10);
                }
            }
            at(end);
            for (Thread restart : restarts) {
                restart.join();
            }
            restartTheDead();
        }

        /** When the scale scenario added and removed a node, and how long each took to settle (-1: not within the run). */
        volatile long addedNanos;
        volatile long addedServingMs = -1;
        volatile List<Integer> addedPartitions = List.of();
        volatile long removedNanos;
        volatile long removedMovedMs = -1;
        volatile long removedStopMs = -1;

        /**
         * The last node started a quarter into the run (at least 20 s), under load; it serves its share
         * once /ready answers 200 with partitions of its own (the assignor first warms its copies up,
         * then moves active tasks at a probing rebalance). Two thirds into the run (or once the new
         * node serves, if later) node 1 is stopped cleanly and leaves the group: its partitions move to
         * the others.
         */
        private void scale(long durationMs) throws Exception {
            long start = System.currentTimeMillis();
            long end = start + durationMs;
            at(start + Math.max(20_000, durationMs / 4));
            int added = options.nodes() - 1;
            cluster.startNode(added, false);
            addedNanos = System.nanoTime();
            events.log("node " + added + " added");
            long removeAt = start + durationMs * 2 / 3;
            while (System.currentTimeMillis() < end - 10_000) {
                List<Integer> owned = cluster.ready(added) ? cluster.ownedPartitions(added) : List.of();
                if (!owned.isEmpty()) {
                    addedServingMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - addedNanos);
                    addedPartitions = owned;
                    events.log("node " + added + " serves partitions " + owned + ", " + addedServingMs + " ms after its start");
                    break;
                }
                Thread.sleep(200);
            }
            at(removeAt);
            int removed = 1;
            List<Integer> moving = cluster.ownedPartitions(removed);
            removedNanos = System.nanoTime();
            cluster.removeNode(removed);
            removedStopMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - removedNanos);
            events.log("node " + removed + " removed (clean stop, leaving the group) in " + removedStopMs + " ms; it owned " + moving);
            while (System.currentTimeMillis() < end) {
                java.util.Set<Integer> served = new java.util.TreeSet<>();
                boolean ready = true;
                for (int i = 0; i < options.nodes(); i++) {
                    if (cluster.member(i)) {
                        ready &= cluster.ready(i);
                        served.addAll(cluster.ownedPartitions(i));
                    }
                }
                if (ready && served.size() == options.partitions()) {
                    removedMovedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - removedNanos);
                    events.log("every partition served by the remaining nodes " + removedMovedMs + " ms after the stop began");
                    break;
                }
                Thread.sleep(200);
            }
            at(end);
        }

        private Kill killAndRestart(int node, long waitReadyUntil) throws Exception {
            List<Integer> owned = cluster.ownedPartitions(node);
            long killed;
            long restarted;
            synchronized (killedByUs) {
                killedByUs[node] = true;
                cluster.killNode(node);
                killed = System.nanoTime();
                if (faultsFromNanos == 0) {
                    faultsFromNanos = killed;
                }
            }
            nodeKills.incrementAndGet();
            events.log("kill -9 node " + node + " (owning partitions " + owned + "), restart in " + options.restartAfterMs() + " ms");
            Thread.sleep(options.restartAfterMs());
            cluster.startNode(node, false);
            restarted = System.nanoTime();
            synchronized (killedByUs) {
                killedByUs[node] = false;
            }
            long ready = 0;
            long restoring = 0;
            while (System.currentTimeMillis() < waitReadyUntil && cluster.nodeAlive(node)) {
                if (cluster.ready(node)) {
                    ready = System.nanoTime();
                    break;
                }
                restoring = Math.max(restoring, cluster.restoringRecords(node));
                Thread.sleep(100);
            }
            Kill kill = new Kill(node, owned, killed, restarted, ready, restoring);
            kills.add(kill);
            if (ready != 0) {
                longestRecoveryMs.accumulateAndGet(TimeUnit.NANOSECONDS.toMillis(ready - killed), Math::max);
            }
            return kill;
        }

        private void restartTheDead() throws IOException {
            for (int i = 0; i < options.nodes(); i++) {
                if (!cluster.nodeAlive(i)) {
                    cluster.startNode(i, false);
                    events.log("node " + i + " started again for the checks");
                }
            }
        }

        private void allFaults(long durationMs) throws Exception {
            long start = System.currentTimeMillis();
            long end = start + durationMs;
            Thread killer = new Thread(() -> killNodes(end), "chaos-node-killer");
            killer.start();
            long cutMs = Math.max(5_000, durationMs / 10);
            at(start + durationMs * 15 / 100);
            lock.lock();
            try {
                cluster.killSinks();
                sinkKills.incrementAndGet();
                events.log("kill -9 sinks");
                Thread.sleep(2_000);
                cluster.startSinks();
                events.log("sinks restarted");
            } finally {
                lock.unlock();
            }
            at(start + durationMs * 30 / 100);
            mysql.cut();
            mysqlCuts.incrementAndGet();
            events.log("MySQL cut for " + cutMs + " ms");
            Thread.sleep(cutMs);
            mysql.restore();
            events.log("MySQL restored");
            at(start + durationMs * 50 / 100);
            lock.lock();
            try {
                cluster.killBroker();
                brokerKills.incrementAndGet();
                events.log("kill -9 broker");
                Thread.sleep(2_000 + ThreadLocalRandom.current().nextInt(1_000));
                cluster.startBroker();
                cluster.awaitBroker(180_000);
                events.log("broker restarted and answering");
            } finally {
                lock.unlock();
            }
            at(start + durationMs * 65 / 100);
            redis.cut();
            redisCuts.incrementAndGet();
            events.log("Redis cut for " + cutMs + " ms");
            Thread.sleep(cutMs);
            redis.restore();
            events.log("Redis restored");
            at(end);
            running = false;
            killer.join();
            for (int i = 0; i < options.nodes(); i++) {
                if (!cluster.nodeAlive(i)) {
                    cluster.startNode(i, false);
                    events.log("node " + i + " started again for the checks");
                }
            }
            if (!cluster.sinksAlive()) {
                events.log("the sinks had exited by themselves; started again");
                unexpectedExits.incrementAndGet();
                cluster.startSinks();
            }
        }

        private static void at(long epochMs) throws InterruptedException {
            long wait = epochMs - System.currentTimeMillis();
            if (wait > 0) {
                Thread.sleep(wait);
            }
        }

        private void killNodes(long end) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            try {
                Thread.sleep(3_000);
                while (running && System.currentTimeMillis() < end - 5_000) {
                    noticeExits();
                    // Wait for every node to serve again (at most 30 s) so most kills hit a working cluster.
                    long readyBy = System.currentTimeMillis() + 30_000;
                    boolean ready;
                    while (!(ready = cluster.allReady()) && running && System.currentTimeMillis() < readyBy) {
                        Thread.sleep(500);
                        noticeExits();
                    }
                    if (lastKillNanos != 0) {
                        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastKillNanos);
                        if (ready) {
                            longestRecoveryMs.accumulateAndGet(ms, Math::max);
                            events.log("every node ready again " + ms + " ms after the kill");
                        } else {
                            events.log("not every node ready " + ms + " ms after the kill; killing on");
                        }
                        lastKillNanos = 0;
                    }
                    Thread.sleep(3_000 + random.nextInt(5_000));
                    if (!running || System.currentTimeMillis() > end - 5_000) {
                        return;
                    }
                    int node = random.nextInt(options.nodes());
                    boolean wipe = random.nextInt(3) == 0;
                    lock.lock();
                    try {
                        killedByUs[node] = true;
                        cluster.killNode(node);
                        lastKillNanos = System.nanoTime();
                        nodeKills.incrementAndGet();
                        long pause = 1_000 + random.nextInt(3_000);
                        events.log("kill -9 node " + node + (wipe ? ", state folder wiped," : "") + " restart in " + pause + " ms");
                        Thread.sleep(pause);
                        if (wipe) {
                            wipes.incrementAndGet();
                        }
                        cluster.startNode(node, wipe);
                        killedByUs[node] = false;
                    } finally {
                        lock.unlock();
                    }
                }
            } catch (Exception e) {
                events.log("node killer stopped: " + e);
            }
        }

        private void noticeExits() throws java.io.IOException {
            lock.lock();
            try {
                for (int i = 0; i < options.nodes(); i++) {
                    if (!killedByUs[i] && !cluster.nodeAlive(i)) {
                        unexpectedExits.incrementAndGet();
                        events.log("node " + i + " EXITED BY ITSELF; started again (see its log)");
                        cluster.startNode(i, false);
                    }
                }
            } finally {
                lock.unlock();
            }
        }
    }
}
