package dev.balance.launcher.chaos;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * The processes of one chaos run, each a JVM of its own so a kill is a real SIGKILL: one KRaft
 * broker, the nodes (Launcher with the API only) and one sink process (Launcher with both sinks,
 * no API), all writing under the run's folder.
 */
final class Cluster implements AutoCloseable {

    private final Chaos.Options options;
    private final Path dir;
    private final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    final int brokerPort;
    final int controllerPort;
    final int[] nodePorts;
    final int sinkPort;
    final String runId;
    final String mysqlUrl;
    final String redisUrl;
    final String redisPrefix;
    private Process broker;
    private final Process[] nodes;
    private final boolean[] retired;
    private Process sinks;
    private final List<Process> all = new ArrayList<>();

    Cluster(Chaos.Options options, Path dir, String runId, int mysqlProxyPort, int redisProxyPort) {
        this.options = options;
        this.dir = dir;
        this.runId = runId;
        this.brokerPort = freePort();
        this.controllerPort = freePort();
        this.nodePorts = new int[options.nodes()];
        for (int i = 0; i < nodePorts.length; i++) {
            nodePorts[i] = freePort();
        }
        this.sinkPort = freePort();
        this.nodes = new Process[options.nodes()];
        this.retired = new boolean[options.nodes()];
        this.mysqlUrl = "jdbc:mysql://127.0.0.1:" + mysqlProxyPort + "/" + database();
        this.redisUrl = "redis://127.0.0.1:" + redisProxyPort;
        this.redisPrefix = runId + ":";
    }

    String database() {
        return runId.replace('-', '_');
    }

    String directMysqlUrl() {
        return "jdbc:mysql://" + options.mysqlHost() + ":" + options.mysqlPort() + "/" + database();
    }

    String bootstrap() {
        return "127.0.0.1:" + brokerPort;
    }

    URI nodeUrl(int i) {
        return URI.create("http://127.0.0.1:" + nodePorts[i]);
    }

    // ---------------------------------------------------------------- broker

    synchronized void startBroker() throws IOException, InterruptedException {
        Path data = dir.resolve("kafka");
        Path logs = data.resolve("logs");
        Files.createDirectories(logs);
        Path properties = data.resolve("server.properties");
        Files.writeString(properties, String.join("\n",
                "process.roles=broker,controller", "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + brokerPort,
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + data.resolve("log"), "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1", "share.coordinator.state.topic.min.isr=1",
                "default.replication.factor=1", "min.insync.replicas=1", "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false", ""));
        List<String> base = List.of(java, "-Xms384m", "-Xmx384m", "-XX:+UseSerialGC", "-Dkafka.logs.dir=" + logs,
                "-Dlog4j2.configurationFile=" + options.brokerLog4j(), "-cp", options.brokerClasspath());
        if (!Files.exists(data.resolve("log").resolve("meta.properties"))) {
            List<String> format = new ArrayList<>(base);
            format.addAll(List.of("kafka.tools.StorageTool", "format", "-t", org.apache.kafka.common.Uuid.randomUuid().toString(), "-c", properties.toString()));
            Process formatting = new ProcessBuilder(format).redirectErrorStream(true)
                    .redirectOutput(logs.resolve("format.log").toFile()).start();
            if (!formatting.waitFor(120, TimeUnit.SECONDS) || formatting.exitValue() != 0) {
                throw new IllegalStateException("formatting the broker's storage failed, see " + logs.resolve("format.log"));
            }
        }
        List<String> command = new ArrayList<>(base);
        command.addAll(List.of("kafka.Kafka", properties.toString()));
        broker = start(command, Map.of(), logs.resolve("stdout.log"));
    }

    void awaitBroker(long timeoutMs) throws InterruptedException {
        Properties properties = new Properties();
        properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        properties.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000);
        properties.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000);
        long deadline = System.currentTimeMillis() + timeoutMs;
        try (Admin admin = Admin.create(properties)) {
            while (true) {
                try {
                    admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
                    admin.listTopics().names().get(3, TimeUnit.SECONDS);
                    return;
                } catch (Exception e) {
                    if (System.currentTimeMillis() > deadline) {
                        throw new IllegalStateException("the broker did not answer within " + timeoutMs + " ms", e);
                    }
                    if (!broker.isAlive()) {
                        throw new IllegalStateException("the broker exited (" + broker.exitValue() + "), see "
                                + dir.resolve("kafka/logs"));
                    }
                    Thread.sleep(300);
                }
            }
        }
    }

    synchronized void killBroker() throws InterruptedException {
        kill(broker);
    }

    // ---------------------------------------------------------------- nodes and sinks

    private Map<String, String> common() {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap());
        env.put("APPLICATION_ID", runId);
        env.put("TOPIC_PREFIX", runId + "-");
        env.put("TOPIC_PARTITIONS", Integer.toString(options.partitions()));
        env.put("DEV_MODE", "true");
        // A run may try another session timeout than the node's default.
        String session = System.getenv("CHAOS_SESSION_TIMEOUT_MS");
        if (session != null && !session.isBlank()) {
            env.put("SESSION_TIMEOUT_MS", session);
        }
        // And any other setting of the nodes: CHAOS_RETURN_SETTLE_MS=0 runs them with RETURN_SETTLE_MS=0.
        for (String name : List.of("RETURN_SETTLE_MS", "COMMIT_INTERVAL_MS", "PRODUCER_LINGER_MS")) {
            String value = System.getenv("CHAOS_" + name);
            if (value != null && !value.isBlank()) {
                env.put(name, value.trim());
            }
        }
        // KAFKA_LOG_LEVEL=info puts Kafka's rebalance and restore steps in the nodes' logs.
        String kafkaLogLevel = System.getenv("KAFKA_LOG_LEVEL");
        if (kafkaLogLevel != null && !kafkaLogLevel.isBlank()) {
            env.put("KAFKA_LOG_LEVEL", kafkaLogLevel);
        }
        return env;
    }

    synchronized void startNode(int i, boolean wipe) throws IOException {
        retired[i] = false;
        Path state = dir.resolve("node-" + i + "/state");
        if (wipe) {
            deleteTree(state);
        }
        Files.createDirectories(state);
        Map<String, String> env = nodeEnv(nodePorts[i], "chaos-node-" + i, state, dir.resolve("node-" + i + "/logs"));
        if (options.scenario().equals(Chaos.SCALE)) {
            // A node removed for good leaves the group at its stop, so its partitions move at once.
            env.put("LEAVE_GROUP_ON_SHUTDOWN", "true");
        }
        nodes[i] = start(launcher("-Xmx320m"), env, dir.resolve("node-" + i + "/stdout.log"));
    }

    /** A balance node's settings: the API only, one stream thread, a small RocksDB budget. */
    private Map<String, String> nodeEnv(int port, String nodeId, Path state, Path logs) {
        Map<String, String> env = common();
        env.put("START_API", "true");
        env.put("START_SINK_MYSQL", "false");
        env.put("START_SINK_REDIS", "false");
        env.put("HTTP_PORT", Integer.toString(port));
        env.put("NODE_PORT", Integer.toString(port));
        env.put("NODE_ID", nodeId);
        env.put("STATE_DIR", state.toString());
        env.put("LOG_DIR", logs.toString());
        env.put("STREAM_THREADS", "1");
        env.put("ROCKSDB_CACHE_MB", "32");
        env.put("ROCKSDB_WRITE_BUFFER_MB", "16");
        return env;
    }

    synchronized void killNode(int i) throws InterruptedException {
        kill(nodes[i]);
    }

    /** A clean stop (SIGTERM) of a node removed for good: the checks and readiness leave it out. */
    synchronized void removeNode(int i) throws InterruptedException {
        retired[i] = true;
        Process node = nodes[i];
        if (node != null && node.isAlive()) {
            node.destroy();
            if (!node.waitFor(60, TimeUnit.SECONDS)) {
                node.destroyForcibly();
            }
        }
    }

    /** A node that was started and not removed. */
    boolean member(int i) {
        return nodes[i] != null && !retired[i];
    }

    /** The URL of a random member. */
    URI anyNodeUrl() {
        List<Integer> members = new ArrayList<>();
        for (int i = 0; i < nodes.length; i++) {
            if (member(i)) {
                members.add(i);
            }
        }
        return nodeUrl(members.get(ThreadLocalRandom.current().nextInt(members.size())));
    }

    boolean nodeAlive(int i) {
        Process node = nodes[i];
        return node != null && node.isAlive();
    }

    /** 200 from the node's /ready. */
    boolean ready(int i) {
        return answers200(nodeUrl(i).resolve("/ready"));
    }

    /** The records the node's /ready says its restores under way have to restore, summed; 0 when none. */
    long restoringRecords(int i) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(nodeUrl(i).resolve("/ready"))
                    .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            long total = 0;
            for (var restore : new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body()).path("restoring")) {
                total += restore.path("total_records").asLong();
            }
            return total;
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** The input partitions the node's /ready says it owns; empty when it does not answer. */
    List<Integer> ownedPartitions(int i) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(nodeUrl(i).resolve("/ready"))
                    .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            List<Integer> owned = new ArrayList<>();
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body()).path("partitions")
                    .forEach(partition -> owned.add(partition.asInt()));
            return owned;
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    void awaitReady(long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        for (int i = 0; i < nodes.length; i++) {
            while (member(i) && !ready(i)) {
                if (!nodeAlive(i)) {
                    throw new IllegalStateException("node " + i + " exited, see " + dir.resolve("node-" + i));
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("node " + i + " not ready within " + timeoutMs + " ms");
                }
                Thread.sleep(300);
            }
        }
    }

    boolean allReady() {
        for (int i = 0; i < nodes.length; i++) {
            if (member(i) && !ready(i)) {
                return false;
            }
        }
        return true;
    }

    synchronized void startSinks() throws IOException {
        Map<String, String> env = common();
        env.put("START_API", "false");
        env.put("START_SINK_MYSQL", "true");
        env.put("START_SINK_REDIS", "true");
        env.put("HTTP_PORT", Integer.toString(sinkPort));
        env.put("MYSQL_URL", mysqlUrl);
        env.put("MYSQL_USER", options.mysqlUser());
        env.put("MYSQL_PASSWORD", options.mysqlPassword());
        env.put("REDIS_URL", redisUrl);
        env.put("REDIS_KEY_PREFIX", redisPrefix);
        env.put("SINK_MYSQL_GROUP_ID", runId + "-sink-mysql");
        env.put("SINK_REDIS_GROUP_ID", runId + "-sink-redis");
        env.put("LOG_DIR", dir.resolve("sinks/logs").toString());
        Files.createDirectories(dir.resolve("sinks"));
        sinks = start(launcher("-Xmx256m"), env, dir.resolve("sinks/stdout.log"));
    }

    synchronized void killSinks() throws InterruptedException {
        kill(sinks);
    }

    boolean sinksAlive() {
        return sinks != null && sinks.isAlive();
    }

    boolean brokerAlive() {
        return broker != null && broker.isAlive();
    }

    /** The environment Reconcile reads, pointed at the real stores (not the proxies). */
    Map<String, String> reconcileEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("NODE_URL", nodeUrl(0).toString());
        env.put("MYSQL_URL", directMysqlUrl());
        env.put("MYSQL_USER", options.mysqlUser());
        env.put("MYSQL_PASSWORD", options.mysqlPassword());
        env.put("REDIS_URL", "redis://" + options.redisHost() + ":" + options.redisPort());
        env.put("REDIS_KEY_PREFIX", redisPrefix);
        env.put("RECONCILE_WAIT_MS", "60000");
        return env;
    }

    Process reconcile(Path output) throws IOException {
        List<String> command = List.of(java, "-Xmx256m", "-cp", options.nodeClasspath(), "dev.balance.launcher.Reconcile");
        return start(command, reconcileEnv(), output);
    }

    /** The launcher's command line (nodes, sinks), with the class archive once there is one. */
    private List<String> launcher(String heap, String... jvmOptions) {
        List<String> command = new ArrayList<>(List.of(java, heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        Path archive = classArchive;
        if (archive != null) {
            command.add("-XX:SharedArchiveFile=" + archive);
        }
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", options.nodeClasspath(), "dev.balance.launcher.Launcher"));
        return command;
    }

    /** The nodes' class-data-sharing archive, or null: none. */
    private volatile Path classArchive;

    /**
     * Gives the nodes a class-data-sharing archive of their classes, so that a node (re)started under
     * load loads them from a mapped file rather than parsing and verifying each: measured on the 2-core
     * machine, a third less CPU and time from launch to /ready (5.0-6.2 CPU-s and 5.4-7.4 s without,
     * 3.7-3.9 CPU-s and 4.1-4.2 s with). Java 17 writes such an archive only when a JVM exits cleanly,
     * so when none matches the nodes' jars a training node is started once (its own application id and
     * port, against this run's broker), stopped with SIGTERM when ready, and its archive kept under the
     * chaos folder for later runs. Anything that goes wrong leaves the nodes without an archive.
     * {@code CHAOS_CLASS_ARCHIVE=off} runs without one.
     */
    void prepareClassArchive(Consumer<String> log) throws InterruptedException {
        if ("off".equalsIgnoreCase(String.valueOf(System.getenv("CHAOS_CLASS_ARCHIVE")).trim())) {
            log.accept("nodes start without a class archive (CHAOS_CLASS_ARCHIVE=off)");
            return;
        }
        Path archive;
        try {
            archive = dir.getParent().resolve("node-classes-" + classpathKey() + ".jsa");
        } catch (IOException e) {
            log.accept("nodes start without a class archive: " + e);
            return;
        }
        if (Files.isRegularFile(archive)) {
            classArchive = archive;
            log.accept("nodes share the class archive " + archive.getFileName());
            return;
        }
        Path training = dir.resolve("class-archive");
        Path partial = dir.getParent().resolve(archive.getFileName() + "." + runId + ".tmp");
        int port = freePort();
        Map<String, String> env = nodeEnv(port, "chaos-class-archive", training.resolve("state"),
                training.resolve("logs"));
        env.put("APPLICATION_ID", runId + "-class-archive");
        env.put("LEAVE_GROUP_ON_SHUTDOWN", "true");
        env.put("EVICT_DEAD_NODES", "false");
        // classArchive is still null here: the training node runs without one.
        List<String> command = launcher("-Xmx320m", "-XX:ArchiveClassesAtExit=" + partial);
        long started = System.nanoTime();
        Process node = null;
        try {
            node = start(command, env, training.resolve("stdout.log"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            URI ready = URI.create("http://127.0.0.1:" + port + "/ready");
            while (!answers200(ready)) {
                if (!node.isAlive() || System.nanoTime() > deadline) {
                    log.accept("nodes start without a class archive: the training node did not get ready");
                    return;
                }
                Thread.sleep(100);
            }
            node.destroy();
            if (!node.waitFor(60, TimeUnit.SECONDS) || !Files.isRegularFile(partial)) {
                log.accept("nodes start without a class archive: the training node wrote none");
                return;
            }
            Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            classArchive = archive;
            log.accept("nodes share the class archive " + archive.getFileName() + ", written by a training node in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms");
        } catch (IOException e) {
            log.accept("nodes start without a class archive: " + e);
        } finally {
            if (node != null && node.isAlive()) {
                node.destroyForcibly();
            }
            try {
                Files.deleteIfExists(partial);
            } catch (IOException e) {
                // left for the next run to overwrite
            }
        }
    }

    /** A name for the nodes' jars as they are now: their paths, sizes and times, and the JVM's version. */
    private String classpathKey() throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        StringBuilder key = new StringBuilder(System.getProperty("java.vm.version")).append('\n');
        for (String entry : options.nodeClasspath().split(File.pathSeparator)) {
            Path path = Path.of(entry);
            key.append(entry).append(' ');
            if (Files.exists(path)) {
                key.append(Files.size(path)).append(' ').append(Files.getLastModifiedTime(path).toMillis());
            }
            key.append('\n');
        }
        byte[] hash = digest.digest(key.toString().getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(hash, 0, 8);
    }

    private boolean answers200(URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Process start(List<String> command, Map<String, String> env, Path output) throws IOException {
        Files.createDirectories(output.getParent());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        Map<String, String> environment = builder.environment();
        String path = environment.get("PATH");
        String home = environment.get("HOME");
        environment.clear();
        if (path != null) {
            environment.put("PATH", path);
        }
        if (home != null) {
            environment.put("HOME", home);
        }
        environment.putAll(env);
        Process process = builder.start();
        synchronized (all) {
            all.add(process);
        }
        return process;
    }

    /** SIGKILL, then wait until it is gone. */
    private static void kill(Process process) throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            walk.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        }
    }

    @Override
    public void close() {
        List<Process> copy;
        synchronized (all) {
            copy = new ArrayList<>(all);
        }
        // Nodes and sinks first (a clean stop is not needed: the run is over), the broker last.
        for (Process process : copy) {
            if (process != broker) {
                process.destroyForcibly();
            }
        }
        if (broker != null) {
            broker.destroyForcibly();
        }
        for (Process process : copy) {
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
