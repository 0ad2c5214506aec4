package dev.balance.launcher.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The load generator: client threads send single changes and batches (deposits, withdrawals,
 * freezes, unfreezes, transfers) to random nodes and retry on 202, 503 and connection errors with
 * the very same payload until they are told a verdict; reader threads read balances from random
 * nodes. Every payload and every answer is kept for the checks.
 */
final class Load {

    static final List<String> CURRENCIES = List.of("USDT", "BTC");
    private static final String[] TYPES = {"DEPOSIT", "WITHDRAW", "FREEZE", "UNFREEZE", "TRANSFER"};

    /** One change as sent, its payload fixed once, and what the client was told about it. */
    static final class Tx {
        final String id;
        final long account;
        final String currency;
        final String type;
        final BigDecimal amount;
        final long to;
        final String json;
        volatile long firstSentNanos;
        volatile long decidedNanos;
        volatile String told;           // APPLIED, REJECTED, or null: never told
        volatile long toldVersion = -1;
        volatile BigDecimal toldAvailable;
        volatile BigDecimal toldFrozen;
        volatile boolean got202;
        volatile int attempts;

        Tx(String id, long account, String currency, String type, BigDecimal amount, long to, ObjectMapper mapper) {
            this.id = id;
            this.account = account;
            this.currency = currency;
            this.type = type;
            this.amount = amount;
            this.to = to;
            ObjectNode node = mapper.createObjectNode();
            node.put("transaction_id", id);
            node.put("account_id", account);
            if (to > 0) {
                node.put("to_account_id", to);
            }
            node.put("currency_code", currency);
            node.put("type", type);
            node.put("amount", amount.toPlainString());
            this.json = node.toString();
        }
    }

    /** Counts of everything the clients and readers saw. */
    static final class Stats {
        final Map<Integer, LongAdder> changeCodes = new ConcurrentHashMap<>();
        final LongAdder requests = new LongAdder();
        final LongAdder retries = new LongAdder();
        final LongAdder connectionErrors = new LongAdder();
        final LongAdder batches = new LongAdder();
        final LongAdder reads = new LongAdder();
        final LongAdder readFailures = new LongAdder();
        /** Stale reads that found a node gone and were sent to the next one. */
        final LongAdder readsRerouted = new LongAdder();
        final ConcurrentLinkedQueue<String> readFailureSamples = new ConcurrentLinkedQueue<>();
        final AtomicLong longestReadGapNanos = new AtomicLong();
        final AtomicLong lastReadNanos = new AtomicLong();
        final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();

        void code(int code) {
            changeCodes.computeIfAbsent(code, c -> new LongAdder()).increment();
        }

        long count(int code) {
            LongAdder adder = changeCodes.get(code);
            return adder == null ? 0 : adder.sum();
        }
    }

    final List<Tx> txs = new ArrayList<>();
    final Stats stats = new Stats();
    private final Chaos.Options options;
    private final List<URI> nodes;
    private final String runId;
    private final ObjectMapper mapper = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final AtomicLong sequence = new AtomicLong();
    private volatile boolean generating = true;
    private volatile long giveUpAtNanos = Long.MAX_VALUE;
    private final List<Thread> threads = new ArrayList<>();
    private final java.util.concurrent.DelayQueue<Retry> retries = new java.util.concurrent.DelayQueue<>();
    /** Changes (or rests of batches) waiting for a retry beyond which clients pause. */
    private static final int RETRY_BACKLOG_MAX = 500;
    /** Retries queued and not yet taken. */
    private final AtomicLong outstanding = new AtomicLong();
    private volatile List<URI> readyNodes = List.of();
    private final java.util.concurrent.atomic.AtomicInteger clientsRunning = new java.util.concurrent.atomic.AtomicInteger();

    Load(Chaos.Options options, List<URI> nodes, String runId) {
        this.options = options;
        this.nodes = nodes;
        this.runId = runId;
    }

    void start() {
        stats.lastReadNanos.set(System.nanoTime());
        clientsRunning.set(options.clients());
        for (int i = 0; i < options.clients(); i++) {
            Thread thread = new Thread(this::clientLoop, "chaos-client-" + i);
            thread.start();
            threads.add(thread);
        }
        for (int i = 0; i < Math.max(2, options.clients() / 2); i++) {
            Thread thread = new Thread(this::retryLoop, "chaos-retry-" + i);
            thread.start();
            threads.add(thread);
        }
        Thread readiness = new Thread(this::readinessLoop, "chaos-readiness");
        readiness.start();
        threads.add(readiness);
        for (int i = 0; i < options.readers(); i++) {
            Thread thread = new Thread(this::readerLoop, "chaos-reader-" + i);
            thread.start();
            threads.add(thread);
        }
    }

    /** No new change from now on; changes under way are retried until told or until the grace is over. */
    void stop(long graceMs) throws InterruptedException {
        generating = false;
        giveUpAtNanos = System.nanoTime() + graceMs * 1_000_000L;
        for (Thread thread : threads) {
            thread.join();
        }
    }

    private Tx next() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long account = account(random);
        String currency = CURRENCIES.get(random.nextInt(CURRENCIES.size()));
        int pick = random.nextInt(100);
        String type = pick < 35 ? TYPES[0] : pick < 50 ? TYPES[1] : pick < 65 ? TYPES[2] : pick < 75 ? TYPES[3] : TYPES[4];
        // Deposits larger than the rest, so most changes apply and some still lack the funds.
        BigDecimal amount = BigDecimal.valueOf(1 + random.nextInt(type.equals("DEPOSIT") ? 100_000 : 30_000), 2);
        long to = 0;
        if (type.equals("TRANSFER")) {
            do {
                to = account(random);
            } while (to == account);
        }
        Tx tx = new Tx(runId + "-" + sequence.incrementAndGet(), account, currency, type, amount, to, mapper);
        synchronized (txs) {
            txs.add(tx);
        }
        return tx;
    }

    /** Six picks in ten from the busiest tenth of the accounts, so balances see many changes and conflicts. */
    private long account(ThreadLocalRandom random) {
        int hot = Math.max(2, options.accounts() / 10);
        return 1 + (random.nextInt(10) < 6 ? random.nextInt(hot) : random.nextInt(options.accounts()));
    }

    /**
     * A client never waits on one change: a change (or the rest of a batch) answered 202 or 503, or
     * refused a connection, goes to a retry queue, served by retry threads of their own, and is sent
     * again with the same payload after the answer's Retry-After (or 150-400 ms); meanwhile the
     * client sends new changes. So an account that cannot be served right now does not hold back the
     * others' clients (as the load does), and the rate of new changes measures the service.
     */
    private void clientLoop() {
        try {
            generate();
        } finally {
            clientsRunning.decrementAndGet();
        }
    }

    private void generate() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (generating) {
            if (outstanding.get() > RETRY_BACKLOG_MAX) {
                // Too many changes wait for a retry: let the retry threads catch up before adding more.
                sleep(20);
                continue;
            }
            int size = random.nextInt(100) < 20 ? 2 + random.nextInt(4) : 1;
            List<Tx> pending = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                pending.add(next());
            }
            boolean batch = size > 1;
            if (batch) {
                stats.batches.increment();
            }
            sendOrQueue(pending, batch);
        }
    }

    private void sendOrQueue(List<Tx> pending, boolean batch) {
        Attempt attempt = send(pending, batch);
        if (!attempt.left().isEmpty()) {
            long delayMs = attempt.retryAfterS() > 0 ? attempt.retryAfterS() * 1_000L
                    : 150 + ThreadLocalRandom.current().nextInt(250);
            outstanding.incrementAndGet();
            retries.add(new Retry(attempt.left(), batch, System.nanoTime() + delayMs * 1_000_000L));
        }
    }

    private void retryLoop() {
        while (true) {
            Retry due;
            try {
                due = retries.poll(50, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (due == null) {
                if (clientsRunning.get() == 0 && outstanding.get() == 0 || System.nanoTime() > giveUpAtNanos) {
                    return;
                }
                continue;
            }
            outstanding.decrementAndGet();
            if (System.nanoTime() > giveUpAtNanos) {
                continue;
            }
            stats.retries.add(due.pending().size());
            sendOrQueue(due.pending(), due.batch());
        }
    }

    private record Retry(List<Tx> pending, boolean batch, long dueNanos) implements java.util.concurrent.Delayed {
        @Override
        public long getDelay(java.util.concurrent.TimeUnit unit) {
            return unit.convert(dueNanos - System.nanoTime(), java.util.concurrent.TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(java.util.concurrent.Delayed other) {
            return Long.compare(dueNanos, ((Retry) other).dueNanos);
        }
    }

    /** The changes of one attempt still without a verdict, and the Retry-After of its answer (0 when none). */
    private record Attempt(List<Tx> left, int retryAfterS) {
    }

    /**
     * The node to send to: any node in the faults scenario; in the availability scenarios a node
     * whose /ready answered 200 last time it was asked, as a load balancer with a readiness check
     * would pick (any node when none is ready).
     */
    private URI pick() {
        List<URI> ready = readyNodes;
        List<URI> from = options.staleReads() && !ready.isEmpty() ? ready : nodes;
        return from.get(ThreadLocalRandom.current().nextInt(from.size()));
    }

    private void readinessLoop() {
        while (generating || (clientsRunning.get() > 0 || outstanding.get() > 0) && System.nanoTime() < giveUpAtNanos) {
            List<URI> ready = new ArrayList<>();
            for (URI node : nodes) {
                try {
                    if (http.send(HttpRequest.newBuilder(node.resolve("/ready")).timeout(Duration.ofSeconds(1)).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        ready.add(node);
                    }
                } catch (IOException e) {
                    // not ready
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            readyNodes = List.copyOf(ready);
            sleep(300);
        }
    }

    /** One attempt; returns the changes still without a verdict. */
    private Attempt send(List<Tx> pending, boolean batch) {
        URI node = pick();
        long now = System.nanoTime();
        for (Tx tx : pending) {
            if (tx.firstSentNanos == 0) {
                tx.firstSentNanos = now;
            }
            tx.attempts++;
        }
        String body;
        String path;
        if (batch) {
            StringBuilder array = new StringBuilder("[");
            for (Tx tx : pending) {
                array.append(array.length() > 1 ? "," : "").append(tx.json);
            }
            body = array.append(']').toString();
            path = "/api/v1/balance/changes";
        } else {
            body = pending.get(0).json;
            path = "/api/v1/balance/change";
        }
        stats.requests.increment();
        HttpResponse<String> response;
        try {
            response = http.send(HttpRequest.newBuilder(node.resolve(path)).timeout(Duration.ofSeconds(20))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            stats.connectionErrors.increment();
            return new Attempt(pending, 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Attempt(pending, 0);
        }
        int retryAfterS = (int) Math.min(5, response.headers().firstValueAsLong("Retry-After").orElse(0));
        JsonNode answer;
        try {
            answer = mapper.readTree(response.body());
        } catch (IOException e) {
            answer = mapper.createObjectNode();
        }
        List<Tx> left = new ArrayList<>();
        JsonNode results = answer.get("results");
        if (batch && response.statusCode() == 200 && results != null && results.isArray() && results.size() == pending.size()) {
            for (int i = 0; i < pending.size(); i++) {
                if (!settle(pending.get(i), results.get(i).path("code").asInt(-1), results.get(i))) {
                    left.add(pending.get(i));
                }
            }
        } else {
            for (Tx tx : pending) {
                if (!settle(tx, response.statusCode(), answer)) {
                    left.add(tx);
                }
            }
        }
        return new Attempt(left, retryAfterS);
    }

    /** Takes one answer for one change; true when it is final (a verdict, or an answer not worth retrying). */
    private boolean settle(Tx tx, int code, JsonNode body) {
        stats.code(code);
        switch (code) {
            case 200, 422 -> {
                String status = body.path("status").asText();
                JsonNode balance = body.path("balance");
                if (!(code == 200 ? "APPLIED" : "REJECTED").equals(status) || !tx.id.equals(body.path("transaction_id").asText())) {
                    stats.violations.add("tx " + tx.id + ": answer " + code + " with status '" + status + "' and id '"
                            + body.path("transaction_id").asText() + "'");
                }
                tx.told = status;
                tx.toldVersion = balance.path("version").asLong(-1);
                tx.toldAvailable = balance.has("available") ? new BigDecimal(balance.get("available").asText()) : null;
                tx.toldFrozen = balance.has("frozen") ? new BigDecimal(balance.get("frozen").asText()) : null;
                tx.decidedNanos = System.nanoTime();
                return true;
            }
            case 202 -> {
                tx.got202 = true;
                return false;
            }
            case 503 -> {
                return false;
            }
            case 409 -> {
                stats.violations.add("tx " + tx.id + " (attempt " + tx.attempts + "): 409 for the same payload: " + body);
                return true;
            }
            default -> {
                stats.violations.add("tx " + tx.id + " (attempt " + tx.attempts + "): answered " + code + ": " + body);
                // a 5xx other than 503 may still be retried; a 4xx will not change
                return code < 500;
            }
        }
    }

    /**
     * Readers read a random balance from a random node. In the fault scenarios with a node kill only
     * (kill-once, kill-every) they read with {@code allow_stale=true}, as a client that can live with
     * a standby's copy would, from the nodes whose /ready answered 200 first (as a load balancer with
     * a readiness check would send them), and a node that refuses the connection is skipped for the
     * next one at once: such a read fails only when a node that answered refused it.
     */
    private void readerLoop() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        boolean stale = options.staleReads();
        while (generating) {
            List<URI> order = new ArrayList<>(nodes);
            java.util.Collections.rotate(order, random.nextInt(order.size()));
            if (stale) {
                List<URI> ready = readyNodes;
                order.sort(java.util.Comparator.comparing(node -> !ready.contains(node)));
            }
            long account = 1 + random.nextInt(options.accounts());
            String currency = CURRENCIES.get(random.nextInt(CURRENCIES.size()));
            String path = "/api/v1/balance/" + account + "/" + currency + (stale ? "?allow_stale=true" : "");
            for (int attempt = 0; attempt < (stale ? order.size() : 1); attempt++) {
                URI node = order.get(attempt);
                try {
                    HttpResponse<String> response = http.send(HttpRequest.newBuilder(node.resolve(path))
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200) {
                        stats.reads.increment();
                        long now = System.nanoTime();
                        long previous = stats.lastReadNanos.getAndSet(now);
                        stats.longestReadGapNanos.accumulateAndGet(now - previous, Math::max);
                    } else {
                        stats.readFailures.increment();
                        if (stats.readFailureSamples.size() < 20) {
                            stats.readFailureSamples.add(response.statusCode() + " " + path + ": " + response.body());
                        }
                        if (response.statusCode() >= 500 && response.statusCode() != 503) {
                            stats.violations.add("read " + account + "/" + currency + " answered " + response.statusCode());
                        }
                    }
                    break;
                } catch (IOException e) {
                    if (stale) {
                        stats.readsRerouted.increment();
                    } else {
                        stats.readFailures.increment();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            sleep(20);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
