package dev.balance.launcher;

import static dev.balance.launcher.LiveStack.change;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A little steady load on a live stack: per round a deposit, a withdrawal and an unfreeze beyond
 * the balance (rejected for two reasons), a freeze and a read, paced so a 2-core machine stays
 * responsive.
 */
final class Load implements AutoCloseable {

    private static final long ROUND_PAUSE_MS = 20;

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    private Load(LiveStack stack) {
        thread = new Thread(() -> run(stack), "test-load");
        thread.setDaemon(true);
    }

    static Load start(LiveStack stack) {
        Load load = new Load(stack);
        load.thread.start();
        return load;
    }

    private void run(LiveStack stack) {
        long round = 0;
        while (running.get()) {
            long account = 500_000 + round % 50;
            String id = "load-" + round;
            try {
                stack.post("/api/v1/balance/change", change(id + "-d", account, "USDT", "DEPOSIT", "10"));
                stack.post("/api/v1/balance/change", change(id + "-w", account, "USDT", "WITHDRAW", "1000000"));
                stack.post("/api/v1/balance/change", change(id + "-u", account, "USDT", "UNFREEZE", "1000000"));
                stack.post("/api/v1/balance/change", change(id + "-f", account, "USDT", "FREEZE", "1"));
                stack.get("/api/v1/balance/" + account + "/USDT");
            } catch (RuntimeException e) {
                if (!running.get()) {
                    return;
                }
                throw e;
            }
            round++;
            // Pacing, not synchronisation: the load is meant to be light and steady.
            try {
                Thread.sleep(ROUND_PAUSE_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        running.set(false);
        thread.interrupt();
    }
}
