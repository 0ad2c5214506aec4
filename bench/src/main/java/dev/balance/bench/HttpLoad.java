package dev.balance.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;

/**
 * Drives POSTs with one asynchronous HTTP/1.1 client (its own small thread pool) in two shapes:
 * a closed model (N requests always in flight, latency from send to answer) and an open model
 * (requests due at a fixed rate, latency from the due time, so stalls are not hidden).
 */
final class HttpLoad implements AutoCloseable {

    /** The longest a single request may take before it counts as an error. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    static final long DRAIN_TIMEOUT_MS = 60_000;
    private static final int CLIENT_THREADS = 2;
    private static final Pattern ITEM_CODE = Pattern.compile("\"code\":(\\d{3})");

    /** What one measured phase did. */
    record Phase(Histogram latency, Histogram sendLag, Map<Integer, Long> statuses, Map<Integer, Long> itemCodes,
                 long requests, long items, long errors, double elapsedS, double targetPerS) {

        double requestsPerS() {
            return requests / elapsedS;
        }

        double itemsPerS() {
            return items / elapsedS;
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>();
            if (targetPerS > 0) {
                map.put("target_per_s", targetPerS);
            }
            map.put("requests", requests);
            map.put("requests_per_s", Math.round(requestsPerS()));
            if (!itemCodes.isEmpty()) {
                map.put("items", items);
                map.put("items_per_s", Math.round(itemsPerS()));
                map.put("item_codes", itemCodes);
            }
            map.put("statuses", statuses);
            map.put("errors", errors);
            map.put("elapsed_s", elapsedS);
            map.put("latency", Latency.summary(latency));
            if (sendLag != null) {
                map.put("send_lag", Latency.summary(sendLag));
            }
            return map;
        }
    }

    private final ExecutorService executor;
    private final HttpClient client;
    private final int inFlightMax;

    HttpLoad(int inFlightMax) {
        AtomicInteger counter = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(CLIENT_THREADS, runnable -> {
            Thread thread = new Thread(runnable, "loadgen-http-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(executor)
                .connectTimeout(Duration.ofSeconds(5)).build();
        this.inFlightMax = inFlightMax;
    }

    /** Requests (or batch items) answered in the current phase, for the progress line. */
    private final LongAdder progress = new LongAdder();

    long progress() {
        return progress.sum();
    }

    /** One blocking POST (prefill and warm-up); returns the status and fails on anything else than 200. */
    String postOk(URI uri, String body) {
        try {
            HttpResponse<String> response = client.send(request(uri, body), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("POST " + uri + " answered " + response.statusCode() + ": "
                        + response.body());
            }
            return response.body();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("POST " + uri + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** N requests always in flight for the duration; latency from send to answer. */
    Phase closed(URI uri, int concurrency, long durationNanos, Function<SplittableRandom, String> body, long seed) {
        Recorder recorder = new Recorder(false);
        long start = System.nanoTime();
        long end = start + durationNanos;
        CountDownLatch finished = new CountDownLatch(concurrency);
        SplittableRandom seeds = new SplittableRandom(seed);
        for (int worker = 0; worker < concurrency; worker++) {
            next(uri, end, body, seeds.split(), recorder, finished);
        }
        await(finished, durationNanos);
        return recorder.phase(System.nanoTime() - start, 0);
    }

    private void next(URI uri, long end, Function<SplittableRandom, String> body, SplittableRandom random,
                      Recorder recorder, CountDownLatch finished) {
        if (System.nanoTime() >= end) {
            finished.countDown();
            return;
        }
        HttpRequest request = request(uri, body.apply(random));
        long sent = System.nanoTime();
        client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
            recorder.completed(sent, response, error);
            next(uri, end, body, random, recorder, finished);
        });
    }

    /** Requests due at a fixed rate for the duration; latency from the due time to the answer. */
    Phase open(URI uri, double ratePerS, long durationNanos, Function<SplittableRandom, String> body, long seed) {
        Recorder recorder = new Recorder(true);
        SplittableRandom random = new SplittableRandom(seed);
        Semaphore inFlight = new Semaphore(inFlightMax);
        RateSchedule schedule = new RateSchedule(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10), ratePerS);
        long count = schedule.countWithin(durationNanos);
        for (long i = 0; i < count; i++) {
            long due = schedule.dueNanos(i);
            parkUntil(due);
            HttpRequest request = request(uri, body.apply(random));
            inFlight.acquireUninterruptibly();
            recorder.sent(due);
            client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
                recorder.completed(due, response, error);
                inFlight.release();
            });
        }
        try {
            if (!inFlight.tryAcquire(inFlightMax, DRAIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("requests still open " + DRAIN_TIMEOUT_MS + " ms after the last was sent");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        // The phase lasts until its last answer: when the node falls behind, the achieved rate drops below the target.
        return recorder.phase(recorder.lastCompletion.get() - schedule.startNanos(), ratePerS);
    }

    private static void parkUntil(long due) {
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }

    private static void await(CountDownLatch latch, long durationNanos) {
        try {
            if (!latch.await(durationNanos + TimeUnit.MILLISECONDS.toNanos(DRAIN_TIMEOUT_MS), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException("requests still open long after the phase ended");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static HttpRequest request(URI uri, String body) {
        return HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    /** Counts of one phase, safe to update from the client's threads. */
    private final class Recorder {
        private final Latency latency = new Latency();
        private final Latency sendLag;
        private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
        private final Map<Integer, LongAdder> itemCodes = new ConcurrentHashMap<>();
        private final LongAdder requests = new LongAdder();
        private final LongAdder items = new LongAdder();
        private final LongAdder errors = new LongAdder();
        private final AtomicLong lastCompletion = new AtomicLong();

        Recorder(boolean openModel) {
            this.sendLag = openModel ? new Latency() : null;
            progress.reset();
        }

        void sent(long due) {
            sendLag.recordNanos(System.nanoTime() - due);
        }

        void completed(long since, HttpResponse<String> response, Throwable error) {
            long now = System.nanoTime();
            latency.recordNanos(now - since);
            lastCompletion.accumulateAndGet(now, Math::max);
            requests.increment();
            if (error != null) {
                errors.increment();
                progress.increment();
                return;
            }
            statuses.computeIfAbsent(response.statusCode(), code -> new LongAdder()).increment();
            long answered = 0;
            if (response.statusCode() == 200 && response.body().startsWith("{\"results\"")) {
                Matcher matcher = ITEM_CODE.matcher(response.body());
                while (matcher.find()) {
                    itemCodes.computeIfAbsent(Integer.parseInt(matcher.group(1)), code -> new LongAdder()).increment();
                    answered++;
                }
                items.add(answered);
            }
            progress.add(Math.max(answered, 1));
        }

        Phase phase(long elapsedNanos, double targetPerS) {
            return new Phase(latency.snapshot(), sendLag == null ? null : sendLag.snapshot(), counts(statuses),
                    counts(itemCodes), requests.sum(), items.sum(), errors.sum(), elapsedNanos / 1e9, targetPerS);
        }

        private Map<Integer, Long> counts(Map<Integer, LongAdder> adders) {
            Map<Integer, Long> map = new TreeMap<>();
            adders.forEach((code, adder) -> map.put(code, adder.sum()));
            return map;
        }
    }
}
