package dev.balance.bench;

import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Prints a progress line once a second while a phase runs: done/total, the rate of the last
 * second and the average rate. On a terminal the line is rewritten in place.
 */
final class Progress implements AutoCloseable {

    private static final long PERIOD_MS = 1_000;

    private final PrintStream out;
    private final String label;
    private final long total;
    private final LongSupplier done;
    private final boolean inPlace;
    private final long startNanos = System.nanoTime();
    private final ScheduledExecutorService timer;
    private long lastDone;
    private long lastNanos = startNanos;

    private Progress(PrintStream out, String label, long total, LongSupplier done) {
        this.out = out;
        this.label = label;
        this.total = total;
        this.done = done;
        this.inPlace = System.console() != null;
        this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "loadgen-progress");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts printing; {@code total} 0 means open-ended (no percentage). */
    static Progress start(PrintStream out, String label, long total, LongSupplier done) {
        Progress progress = new Progress(out, label, total, done);
        progress.timer.scheduleAtFixedRate(progress::print, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
        return progress;
    }

    private synchronized void print() {
        long now = System.nanoTime();
        long current = done.getAsLong();
        double recent = (current - lastDone) * 1e9 / Math.max(1, now - lastNanos);
        double average = current * 1e9 / Math.max(1, now - startNanos);
        lastDone = current;
        lastNanos = now;
        String share = total > 0 ? String.format("/%,d (%5.1f%%)", total, 100.0 * current / total) : "";
        String text = String.format("[%s] %4ds  %,d%s  %,.0f/s now  %,.0f/s avg", label,
                (now - startNanos) / 1_000_000_000L, current, share, recent, average);
        if (inPlace) {
            out.print("\r" + text + "   ");
        } else {
            out.println(text);
        }
        out.flush();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        synchronized (this) {
            if (inPlace) {
                out.println();
            }
        }
    }
}
