package dev.balance.sink.redis;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.RedisClient;

/**
 * A redis-server process of the test's own, on a free port, without persistence: killing it loses
 * its data, as a restart of a Redis without persistence does. The shared server is never touched.
 */
final class PrivateRedisServer implements AutoCloseable {

    private static final String BINARY = "redis-server";
    private static final Duration START_WITHIN = Duration.ofSeconds(20);

    private final int port;
    private final Path workDir;
    private Process process;

    private PrivateRedisServer(int port, Path workDir) {
        this.port = port;
        this.workDir = workDir;
    }

    /** True when redis-server can be found on the PATH. */
    static boolean installed() {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Paths.get(dir, BINARY))) {
                return true;
            }
        }
        return false;
    }

    static PrivateRedisServer start() {
        try {
            Path base = Paths.get("target", "redis-test").toAbsolutePath();
            Files.createDirectories(base);
            PrivateRedisServer server = new PrivateRedisServer(freePort(), Files.createTempDirectory(base, "redis-"));
            server.startAgain();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int port() {
        return port;
    }

    String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** Starts the server (again) on the same port, empty, and waits until it answers PING. */
    void startAgain() {
        try {
            process = new ProcessBuilder(BINARY, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", workDir.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(workDir.resolve("redis.log").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        await().atMost(START_WITHIN).ignoreExceptions().until(this::answersPing);
    }

    /** Kills the server at once (SIGKILL): no shutdown, no data kept. */
    void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                throw new IllegalStateException("redis-server did not die within 20 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private boolean answersPing() {
        try (RedisClient client = RedisClient.create("127.0.0.1", port)) {
            return "PONG".equals(client.ping());
        }
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            kill();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
