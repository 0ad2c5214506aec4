package dev.balance.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One balance node as a JVM of its own (the launcher with the API only), so that it can be killed
 * with SIGKILL as a crashed machine would be, or stopped with SIGTERM as an operator would. It runs
 * on this JVM's own classpath, which holds the launcher module. Closing kills it if it still runs.
 */
final class NodeProcess implements AutoCloseable {

    /** The heap scripts/run gives a node; RocksDB's memory is off the heap, on top of it. */
    static final String HEAP = "-Xmx1g";
    static final String MAIN = "dev.balance.launcher.Launcher";
    /** How long a killed process may take to be gone; the kernel frees it in far less. */
    private static final long KILL_WAIT_MS = 30_000;

    private final Process process;
    private final long startedNanos;

    private NodeProcess(Process process, long startedNanos) {
        this.process = process;
        this.startedNanos = startedNanos;
    }

    /** Starts the node with exactly the environment {@code env}; its output goes to {@code output}. */
    static NodeProcess start(Map<String, String> env, Path output) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                HEAP, "-cp", System.getProperty("java.class.path"), MAIN));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        try {
            Files.createDirectories(output.getParent());
            long startedNanos = System.nanoTime();
            return new NodeProcess(builder.start(), startedNanos);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start a node process", e);
        }
    }

    long pid() {
        return process.pid();
    }

    /** When the process was launched ({@link System#nanoTime()}): its restart is timed from here. */
    long startedNanos() {
        return startedNanos;
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGKILL, then waits until the process is gone. */
    void kill() {
        process.destroyForcibly();
        awaitExit(KILL_WAIT_MS, "killed");
    }

    /**
     * SIGTERM (the node's clean stop: it closes stream processing and writes its checkpoints), then
     * waits for the exit; returns how long the stop took in ms. A node that did not stop within
     * {@code timeoutMs} is killed and the stop fails.
     */
    long stop(long timeoutMs) {
        long start = System.nanoTime();
        process.destroy();
        awaitExit(timeoutMs, "stopped (SIGTERM)");
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    private void awaitExit(long timeoutMs, String how) {
        try {
            if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("the node (pid " + pid() + ") was " + how + " but still ran after "
                        + timeoutMs + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException("interrupted while waiting for the node to exit", e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
