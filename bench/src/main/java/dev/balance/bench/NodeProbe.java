package dev.balance.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The reads the restart mode makes of a node process over HTTP, on one kept-alive client: its
 * readiness (polled, with what it says about restores), its metrics, and single balances.
 */
final class NodeProbe {

    /** Often enough that a restart's time is known to 50 ms, rarely enough to cost the starting node nothing. */
    static final long READY_POLL_MS = 50;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

    private final URI base;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    NodeProbe(URI base) {
        this.base = base;
    }

    /**
     * Polls {@code /ready} until it answers 200, handing every answer to {@code restores}; returns
     * the ms from the process's launch to that 200. Fails when the process exits or the deadline passes.
     */
    long awaitReady(NodeProcess node, long timeoutMs, RestoreProgress restores, Path output) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!node.alive()) {
                throw new IllegalStateException("the node exited while starting; see " + output);
            }
            try {
                HttpResponse<String> response = get("/ready");
                long answeredNanos = System.nanoTime();
                restores.seen(response.body());
                if (response.statusCode() == 200) {
                    return TimeUnit.NANOSECONDS.toMillis(answeredNanos - node.startedNanos());
                }
                last = response.statusCode() + " " + response.body();
            } catch (IOException e) {
                last = e.toString();
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(READY_POLL_MS));
        }
        throw new IllegalStateException("the node was not ready within " + timeoutMs + " ms: " + last);
    }

    /** The Prometheus exposition of the node. */
    String metrics() {
        try {
            return get("/metrics").body();
        } catch (IOException e) {
            throw new IllegalStateException("the node's /metrics did not answer: " + e, e);
        }
    }

    /** The answer to a GET of one balance. */
    HttpResponse<String> balance(long account, String currency) throws IOException {
        return get("/api/v1/balance/" + account + "/" + currency);
    }

    private HttpResponse<String> get(String path) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT).GET().build();
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking the node for " + path, e);
        }
    }
}
