package dev.balance.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import java.util.function.Predicate;
import org.HdrHistogram.Histogram;

/**
 * The HTTP/1.1 load generator of the HTTP modes, cheap enough to sit beside the node on two cores:
 * one thread and one selector for all kept-alive connections, requests written as bytes, answers
 * parsed only as far as the status line and Content-Length (or chunks), bodies read only by the
 * phase's check. The JDK's HttpClient cost 0.2 to 1 ms of CPU per request here, a large part of
 * what a benchmark measured.
 *
 * <p>Two shapes: a closed model ({@link #closed}: N connections, each sending its next request as
 * soon as its answer is in; latency from the first byte written to the last byte read) and an open
 * model ({@link #open}: requests due at a fixed rate whatever the node does; latency from the due
 * time, so stalls are not hidden).
 *
 * <p>Only what the node sends is understood: a status line, headers with Content-Length or chunks,
 * a body. Plain HTTP only.
 */
final class LeanHttpLoad implements AutoCloseable {

    /** One request: the bytes of the request line, headers and body. */
    @FunctionalInterface
    interface Requests {
        byte[] next(SplittableRandom random);
    }

    /**
     * Reads the body of a 200 answer: false when the answer is wrong (it counts as an error). A check
     * of batch answers hands each item's code to {@code itemCodes} ({@link #itemCodes} does); other
     * checks leave bodies unparsed.
     */
    @FunctionalInterface
    interface Check {
        boolean ok(byte[] body, IntConsumer itemCodes);

        /** A check that only looks at the body. */
        static Check body(Predicate<byte[]> test) {
            return (body, itemCodes) -> test.test(body);
        }
    }

    /**
     * What one measured phase did. {@code sendLag} (actual send minus due time) is the open model's
     * only; {@code itemCodes} and {@code items} are counted only by a check that reads batch answers.
     */
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

    /** The longest a request may wait for its answer once written; longer fails the phase. */
    static final long ANSWER_TIMEOUT_MS = 30_000;
    /** The longest the open model waits for its last answers after its last request was sent. */
    static final long DRAIN_TIMEOUT_MS = 60_000;
    private static final long CONNECT_TIMEOUT_MS = 5_000;
    private static final int BODY_BYTES_MAX = 16 * 1024 * 1024;
    private static final int ANSWER_BUFFER_BYTES = 4 * 1024;
    /** The open model's first request is due this long after the phase starts. */
    private static final long OPEN_START_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** How often requests are held against their timeouts; the selector wakes up at least this often. */
    private static final long SCAN_PERIOD_MS = 100;

    private final String host;
    private final int port;
    private final InetSocketAddress address;
    private final LongAdder progress = new LongAdder();
    /** Threads live as long as the load, so the CPU account of a phase finds them (ended threads' CPU is lost). */
    private final ExecutorService threads;
    private final int connectionsMax;
    private final long answerTimeoutNanos;
    private final long drainTimeoutNanos;

    /** A load on the node at {@code base}, whose closed phases use at most {@code connectionsMax} connections. */
    LeanHttpLoad(URI base, int connectionsMax) {
        this(base, connectionsMax, ANSWER_TIMEOUT_MS, DRAIN_TIMEOUT_MS);
    }

    LeanHttpLoad(URI base, int connectionsMax, long answerTimeoutMs, long drainTimeoutMs) {
        if (!"http".equalsIgnoreCase(base.getScheme()) || base.getHost() == null) {
            throw new IllegalArgumentException("the load generator speaks plain HTTP to host:port, not " + base);
        }
        this.host = base.getHost();
        this.port = base.getPort() < 0 ? 80 : base.getPort();
        this.address = new InetSocketAddress(host, port);
        this.connectionsMax = connectionsMax;
        this.answerTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(answerTimeoutMs);
        this.drainTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(drainTimeoutMs);
        AtomicInteger counter = new AtomicInteger();
        this.threads = Executors.newFixedThreadPool(1, runnable -> {
            Thread thread = new Thread(runnable, "loadgen-lean-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }

    /** Requests answered in the current phase (batch items, when its check counts them), for the progress line. */
    long progress() {
        return progress.sum();
    }

    /** Request bytes of a GET. */
    static byte[] get(String hostHeader, String path) {
        return ("GET " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Request bytes of a POST with a JSON body. */
    static byte[] post(String hostHeader, String path, String body) {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: " + hostHeader
                + "\r\nContent-Type: application/json\r\nContent-Length: " + content.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[head.length + content.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(content, 0, all, head.length, content.length);
        return all;
    }

    String hostHeader() {
        return host + ":" + port;
    }

    /**
     * {@code connections} connections, each sending its next request as soon as the last one is
     * answered, for the duration; latency from the first byte written to the last byte read.
     */
    Phase closed(int connections, long durationNanos, Requests requests, Check check, long seed) {
        long end = System.nanoTime() + durationNanos;
        return run(new Closed(connections, () -> System.nanoTime() < end, requests, check, seed),
                durationNanos);
    }

    /** Exactly {@code total} requests over {@code connections} connections, each sent when the last is answered. */
    Phase requests(int connections, long total, Requests requests, Check check) {
        AtomicLong remaining = new AtomicLong(total);
        return run(new Closed(connections, () -> remaining.getAndDecrement() > 0, requests, check, 0),
                TimeUnit.HOURS.toNanos(1));
    }

    /**
     * Requests due at {@code ratePerS} for the duration ({@link RateSchedule}), each written on an
     * idle kept-alive connection as soon as it is due; a new connection is opened when none is idle,
     * up to {@code openMax}, and past that due requests wait in order for the next free one.
     * Latency runs from the due time to the last byte of the answer, so time spent waiting for a
     * connection (or for the generator) counts; the send lag says how late requests were written.
     * The phase lasts until its last answer: a node that falls behind shows a lower rate than the target.
     */
    Phase open(double ratePerS, long durationNanos, int openMax, Requests requests, Check check, long seed) {
        if (openMax <= 0) {
            throw new IllegalArgumentException("the open model needs at least one connection");
        }
        return run(new Open(ratePerS, durationNanos, openMax, requests, check, seed), -1);
    }

    /** Drives the phase on the load's thread; the driver bounds itself, {@code boundNanos} (unless negative) too. */
    private Phase run(Driver driver, long boundNanos) {
        progress.reset();
        Future<Phase> phase = threads.submit(driver::drive);
        try {
            return boundNanos < 0 ? phase.get()
                    : phase.get(TimeUnit.NANOSECONDS.toMillis(boundNanos) + ANSWER_TIMEOUT_MS + CONNECT_TIMEOUT_MS
                            + 10 * SCAN_PERIOD_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            phase.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the load failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            phase.cancel(true);
            throw new IllegalStateException("the load failed: the phase did not end in time", e);
        }
    }

    /**
     * One phase on one selector: connections write a request, read its answer, and are handed to
     * {@link #free} for what comes next. One thread per blocking connection cost a thread wake-up per
     * request, which on two cores was a fifth of the machine at read rates.
     */
    private abstract class Driver {
        final Requests requests;
        final Check check;
        final Latency latency = new Latency();
        /** Actual send minus due time; the open model's only. */
        final Latency sendLag;
        final Map<Integer, Long> statuses = new TreeMap<>();
        final Map<Integer, Long> itemCodes = new TreeMap<>();
        final List<Connection> connections = new ArrayList<>();
        long answered;
        long items;
        long errors;
        long lastCompletionNanos;
        /** Connections with a request written or to write. */
        int busy;
        Selector selector;
        private long nextScanNanos;
        private final IntConsumer itemCode = code -> {
            itemCodes.merge(code, 1L, Long::sum);
            items++;
        };

        Driver(Requests requests, Check check, boolean openModel) {
            this.requests = requests;
            this.check = check;
            this.sendLag = openModel ? new Latency() : null;
        }

        final Phase drive() throws IOException {
            try (Selector opened = Selector.open()) {
                selector = opened;
                try {
                    loop();
                } finally {
                    for (Connection connection : connections) {
                        connection.close();
                    }
                }
            }
            return phase();
        }

        abstract void loop() throws IOException;

        abstract Phase phase();

        /** The connection's request is done (answered, or failed and the connection closed): what it does next. */
        abstract void free(Connection connection) throws IOException;

        /** A connection without a request was closed (by the node, or for sending what nobody asked). */
        void dropped(Connection connection) {
        }

        final Phase phase(double elapsedS, double targetPerS) {
            return new Phase(latency.snapshot(), sendLag == null ? null : sendLag.snapshot(), statuses, itemCodes,
                    answered, items, errors, elapsedS, targetPerS);
        }

        /** Gives the connection a request and writes it, once connected; {@code due} is -1 in the closed model. */
        final void send(Connection connection, byte[] request, long due) throws IOException {
            busy++;
            try {
                connection.start(request, due);
            } catch (IOException e) {
                throw new IOException("could not connect to " + address + ": " + e, e);
            }
            if (!connection.connecting) {
                write(connection);
            }
        }

        private void write(Connection connection) throws IOException {
            long now = System.nanoTime();
            connection.sentNanos = now;
            if (connection.dueNanos >= 0) {
                sendLag.recordNanos(now - connection.dueNanos);
            } else {
                connection.sinceNanos = now;
            }
            try {
                connection.flush();
            } catch (IOException e) {
                failed(connection);
            }
        }

        /** Waits up to {@code timeoutMs} (0: not at all) for the sockets, handles what they report, checks timeouts. */
        final void select(long timeoutMs) throws IOException {
            if (Thread.interrupted()) {
                throw new java.io.InterruptedIOException("the phase was stopped");
            }
            if (timeoutMs > 0) {
                selector.select(timeoutMs);
            } else {
                selector.selectNow();
            }
            Set<SelectionKey> keys = selector.selectedKeys();
            for (SelectionKey key : keys) {
                handle(key);
            }
            keys.clear();
            long now = System.nanoTime();
            if (now - nextScanNanos >= 0) {
                scan(now);
                nextScanNanos = now + TimeUnit.MILLISECONDS.toNanos(SCAN_PERIOD_MS);
            }
        }

        private void handle(SelectionKey key) throws IOException {
            Connection connection = (Connection) key.attachment();
            if (!key.isValid() || key != connection.key) {
                return; // closed since it was selected
            }
            if (!connection.busy) {
                idleReadable(connection);
                return;
            }
            if (connection.connecting) {
                boolean connected;
                try {
                    connected = key.isConnectable() && connection.finishConnect();
                } catch (IOException e) {
                    throw new IOException("could not connect to " + address + ": " + e, e);
                }
                if (connected) {
                    write(connection);
                }
                return;
            }
            try {
                if (key.isWritable()) {
                    connection.flush();
                }
                if (!key.isReadable()) {
                    return;
                }
                Answer answer = connection.receive();
                if (answer != null) {
                    answered(connection, answer);
                }
            } catch (IOException e) {
                failed(connection);
            }
        }

        /** A connection without a request turned readable: closed by the node, or bytes nobody asked for. */
        private void idleReadable(Connection connection) {
            int read;
            try {
                read = connection.channel.read(ByteBuffer.wrap(connection.in));
            } catch (IOException e) {
                read = -1;
            }
            if (read == 0) {
                return;
            }
            if (read > 0) {
                errors++;
            }
            connection.close();
            dropped(connection);
        }

        private void answered(Connection connection, Answer answer) throws IOException {
            completed(connection);
            statuses.merge(answer.status(), 1L, Long::sum);
            long itemsBefore = items;
            if (answer.status() == 200 && !check.ok(answer.body(), itemCode)) {
                errors++;
            }
            progress.add(Math.max(items - itemsBefore, 1));
            if (answer.close()) {
                connection.close();
            }
            free(connection);
        }

        private void failed(Connection connection) throws IOException {
            completed(connection);
            errors++;
            progress.increment();
            connection.close();
            free(connection);
        }

        private void completed(Connection connection) {
            long now = System.nanoTime();
            latency.recordNanos(now - connection.sinceNanos);
            answered++;
            lastCompletionNanos = now;
            connection.busy = false;
            busy--;
        }

        /** Fails the phase when a request waits too long for its connection or its answer. */
        private void scan(long now) throws IOException {
            for (Connection connection : connections) {
                if (!connection.busy) {
                    continue;
                }
                if (connection.connecting && now - connection.startedNanos > TimeUnit.MILLISECONDS.toNanos(CONNECT_TIMEOUT_MS)) {
                    throw new IOException("no connection to " + address + " within " + CONNECT_TIMEOUT_MS + " ms");
                }
                if (!connection.connecting && now - connection.sentNanos > answerTimeoutNanos) {
                    throw new IOException("no answer within " + TimeUnit.NANOSECONDS.toMillis(answerTimeoutNanos) + " ms");
                }
            }
            connections.removeIf(connection -> !connection.busy && connection.channel == null);
        }
    }

    /** The closed model: each connection sends its next request when its answer is in, while there are more. */
    private final class Closed extends Driver {
        private final int connectionCount;
        private final BooleanSupplier more;
        private final SplittableRandom seeds;
        private long startNanos;

        Closed(int connections, BooleanSupplier more, Requests requests, Check check, long seed) {
            super(requests, check, false);
            if (connections > connectionsMax) {
                throw new IllegalArgumentException("at most " + connectionsMax + " connections");
            }
            this.connectionCount = connections;
            this.more = more;
            this.seeds = new SplittableRandom(seed);
        }

        @Override
        void loop() throws IOException {
            startNanos = System.nanoTime();
            for (int i = 0; i < connectionCount && more.getAsBoolean(); i++) {
                Connection connection = new Connection(selector, seeds.split());
                connections.add(connection);
                send(connection, requests.next(connection.random), -1);
            }
            while (busy > 0) {
                select(SCAN_PERIOD_MS);
            }
            lastCompletionNanos = System.nanoTime();
        }

        @Override
        void free(Connection connection) throws IOException {
            if (more.getAsBoolean()) {
                send(connection, requests.next(connection.random), -1);
            }
        }

        @Override
        Phase phase() {
            return phase((lastCompletionNanos - startNanos) / 1e9, 0);
        }
    }

    /** The open model: requests due on a schedule, sent on idle connections, waiting in order when none is free. */
    private final class Open extends Driver {
        private final double ratePerS;
        private final long durationNanos;
        private final int openMax;
        private final SplittableRandom random;
        /** Idle connections, the last freed first: the fewest connections stay in use. */
        private final ArrayDeque<Connection> idle = new ArrayDeque<>();
        private RateSchedule schedule;
        private long total;
        /** The next request to send: those from here up to the last due are the backlog. */
        private long next;
        private int open;
        private long lastSendNanos;

        Open(double ratePerS, long durationNanos, int openMax, Requests requests, Check check, long seed) {
            super(requests, check, true);
            this.ratePerS = ratePerS;
            this.durationNanos = durationNanos;
            this.openMax = openMax;
            this.random = new SplittableRandom(seed);
        }

        @Override
        void loop() throws IOException {
            schedule = new RateSchedule(System.nanoTime() + OPEN_START_DELAY_NANOS, ratePerS);
            total = schedule.countWithin(durationNanos);
            while (next < total || busy > 0) {
                long now = System.nanoTime();
                dispatch(now);
                if (next == total) {
                    if (busy == 0) {
                        break;
                    }
                    if (now - lastSendNanos > drainTimeoutNanos) {
                        throw new IOException(busy + " requests still open " + TimeUnit.NANOSECONDS.toMillis(drainTimeoutNanos)
                                + " ms after the last was sent");
                    }
                    select(SCAN_PERIOD_MS);
                } else if (idle.isEmpty() && open >= openMax) {
                    select(SCAN_PERIOD_MS); // every connection is busy: the next answer frees one
                } else {
                    // The selector waits in whole milliseconds, and returns at once when an answer arrives:
                    // a request due sooner than that waits for the next answer or tick, at most a millisecond,
                    // and is then sent with whatever else fell due. That lateness is in its latency (measured
                    // from the due time) and in the send lag. Waking up more often to be punctual cost the
                    // generator a wake-up every 200 µs, a tenth of a core at 1,000 requests/s.
                    long wait = schedule.dueNanos(next) - System.nanoTime();
                    select(Math.max(1, wait / 1_000_000));
                }
            }
        }

        /** Sends every due request that has a connection: an idle one, or a new one while under the maximum. */
        private void dispatch(long now) throws IOException {
            while (next < total) {
                long due = schedule.dueNanos(next);
                if (due - now > 0) {
                    return;
                }
                Connection connection = idle.pollFirst();
                if (connection == null) {
                    if (open >= openMax) {
                        return;
                    }
                    connection = new Connection(selector, null);
                    connections.add(connection);
                    open++;
                }
                next++;
                if (next == total) {
                    lastSendNanos = System.nanoTime();
                }
                send(connection, requests.next(random), due);
            }
        }

        @Override
        void free(Connection connection) {
            if (connection.channel != null) {
                idle.addFirst(connection);
            } else {
                open--;
            }
        }

        @Override
        void dropped(Connection connection) {
            idle.remove(connection);
            open--;
        }

        @Override
        Phase phase() {
            return phase((lastCompletionNanos - schedule.startNanos()) / 1e9, ratePerS);
        }
    }

    /** One kept-alive non-blocking connection: the request being written, the answer being read. */
    private final class Connection {
        final Selector selector;
        /** The closed model's requests are drawn with it; the open model draws with one for the phase. */
        final SplittableRandom random;
        SocketChannel channel;
        SelectionKey key;
        ByteBuffer out = ByteBuffer.allocate(0);
        byte[] in = new byte[ANSWER_BUFFER_BYTES];
        int filled;
        /** The request's due time in the open model, else -1. */
        long dueNanos;
        /** When the request was given to the connection (connecting counts from there). */
        long startedNanos;
        /** When its first byte was written. */
        long sentNanos;
        /** What its latency is measured from: the due time, or the first byte written. */
        long sinceNanos;
        boolean busy;
        boolean connecting;

        Connection(Selector selector, SplittableRandom random) {
            this.selector = selector;
            this.random = random;
        }

        /** Takes a request; opens the connection (without waiting for it) when there is none. */
        void start(byte[] request, long due) throws IOException {
            busy = true;
            filled = 0;
            out = ByteBuffer.wrap(request);
            dueNanos = due;
            startedNanos = System.nanoTime();
            sinceNanos = due >= 0 ? due : startedNanos;
            if (channel == null) {
                channel = SocketChannel.open();
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                connecting = !channel.connect(address);
                key = channel.register(selector, connecting ? SelectionKey.OP_CONNECT : SelectionKey.OP_READ, this);
            }
        }

        /** True once the connection is up. */
        boolean finishConnect() throws IOException {
            if (!channel.finishConnect()) {
                return false;
            }
            connecting = false;
            key.interestOps(SelectionKey.OP_READ);
            return true;
        }

        void flush() throws IOException {
            channel.write(out);
            int ops = out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
            if (key.interestOps() != ops) {
                key.interestOps(ops);
            }
        }

        /** Reads what arrived; the answer once it is complete, else null. */
        Answer receive() throws IOException {
            if (filled == in.length) {
                if (in.length >= BODY_BYTES_MAX) {
                    throw new IOException("answer larger than " + BODY_BYTES_MAX + " bytes");
                }
                in = java.util.Arrays.copyOf(in, in.length * 2);
            }
            int read = channel.read(ByteBuffer.wrap(in, filled, in.length - filled));
            if (read < 0) {
                throw new EOFException("connection closed mid-answer");
            }
            filled += read;
            Head head = head(in, filled);
            int length = head == null ? -1 : answerLength(in, filled, head);
            if (length < 0) {
                return null;
            }
            if (length != filled) {
                throw new IOException("bytes after the answer: the node answered what was not asked");
            }
            // One pass over the head's bytes (no header strings), the body copied once.
            byte[] body = head.chunked()
                    ? chunks(new java.io.ByteArrayInputStream(in, head.bodyStart(), length - head.bodyStart()))
                    : java.util.Arrays.copyOfRange(in, head.bodyStart(), length);
            return new Answer(head.status(), body, head.close());
        }

        void close() {
            if (channel != null) {
                if (key != null) {
                    key.cancel();
                }
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // The connection is being dropped anyway.
                }
            }
            channel = null;
            key = null;
            connecting = false;
        }
    }

    private static final byte[] RESULTS = "{\"results\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ITEM_CODE = "\"code\":".getBytes(StandardCharsets.US_ASCII);

    /**
     * Hands the code of each item of a batch answer ({@code {"results":[{..."code":200...},...]}}) to
     * {@code codes}, in order; returns how many there were, or -1 for a body that is not a batch answer.
     */
    static int itemCodes(byte[] body, IntConsumer codes) {
        if (body.length < RESULTS.length || indexOf(body, 0, RESULTS.length, RESULTS) != 0) {
            return -1;
        }
        int count = 0;
        for (int at = indexOf(body, RESULTS.length, body.length, ITEM_CODE); at >= 0;
             at = indexOf(body, at + ITEM_CODE.length, body.length, ITEM_CODE)) {
            int digits = at + ITEM_CODE.length;
            if (digits + 3 <= body.length && digit(body[digits]) && digit(body[digits + 1]) && digit(body[digits + 2])) {
                codes.accept((body[digits] - '0') * 100 + (body[digits + 1] - '0') * 10 + body[digits + 2] - '0');
                count++;
            }
        }
        return count;
    }

    private static boolean digit(byte b) {
        return b >= '0' && b <= '9';
    }

    /** Whether {@code text} occurs in {@code body}, starting within its first {@code within} bytes. */
    static boolean contains(byte[] body, byte[] text, int within) {
        return indexOf(body, 0, (int) Math.min(body.length, (long) within + text.length), text) >= 0;
    }

    /**
     * The length of the first complete answer in {@code bytes[0, filled)}, or -1 while it is not
     * complete: headers, then a Content-Length body or chunks up to the last one.
     */
    static int answerLength(byte[] bytes, int filled) throws IOException {
        Head head = head(bytes, filled);
        return head == null ? -1 : answerLength(bytes, filled, head);
    }

    private static int answerLength(byte[] bytes, int filled, Head head) throws IOException {
        int bodyStart = head.bodyStart();
        if (!head.chunked()) {
            int contentLength = head.contentLength();
            if (contentLength < 0) {
                throw new IOException("answer without a usable Content-Length");
            }
            return filled >= bodyStart + contentLength ? bodyStart + contentLength : -1;
        }
        int at = bodyStart;
        while (true) {
            int lineEnd = indexOf(bytes, at, filled, CRLF);
            if (lineEnd < 0) {
                return -1;
            }
            String sizeLine = new String(bytes, at, lineEnd - at, StandardCharsets.US_ASCII);
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            at = lineEnd + 2;
            if (size == 0) {
                // No trailers are sent: the last chunk ends with one more CRLF.
                return filled >= at + 2 ? at + 2 : -1;
            }
            at += size + 2;
            if (at > filled) {
                return -1;
            }
        }
    }

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] CRLF_CRLF = {'\r', '\n', '\r', '\n'};
    private static final byte[] HTTP_11 = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);

    /** What an answer's head says: its status, where its body starts, and how the body is framed. */
    record Head(int status, int bodyStart, int contentLength, boolean chunked, boolean close) {
    }

    /**
     * The head of the answer in {@code bytes[0, filled)}, read from the bytes without making a
     * string of any header, or null while the head is incomplete.
     */
    static Head head(byte[] bytes, int filled) throws IOException {
        int end = indexOf(bytes, 0, filled, CRLF_CRLF);
        if (end < 0) {
            return null;
        }
        if (end < 12 || indexOf(bytes, 0, HTTP_11.length, HTTP_11) != 0 || !digit(bytes[9]) || !digit(bytes[10])
                || !digit(bytes[11])) {
            throw new IOException("not an HTTP/1.1 answer: "
                    + new String(bytes, 0, Math.min(end, 40), StandardCharsets.US_ASCII));
        }
        int status = (bytes[9] - '0') * 100 + (bytes[10] - '0') * 10 + bytes[11] - '0';
        int length = -1;
        boolean chunked = false;
        boolean close = false;
        int at = indexOf(bytes, 0, end + 2, CRLF) + 2;
        while (at < end) {
            int lineEnd = indexOf(bytes, at, end + 2, CRLF);
            int colon = -1;
            for (int i = at; i < lineEnd; i++) {
                if (bytes[i] == ':') {
                    colon = i;
                    break;
                }
            }
            if (colon > at) {
                if (named(bytes, at, colon, "content-length")) {
                    length = decimal(bytes, colon + 1, lineEnd);
                } else if (named(bytes, at, colon, "transfer-encoding")) {
                    chunked = named(bytes, colon + 1, lineEnd, "chunked");
                } else if (named(bytes, at, colon, "connection")) {
                    close = named(bytes, colon + 1, lineEnd, "close");
                }
            }
            at = lineEnd + 2;
        }
        return new Head(status, end + 4, length, chunked, close);
    }

    /** Whether {@code bytes[from, to)}, without surrounding blanks, is {@code lower} in any case. */
    private static boolean named(byte[] bytes, int from, int to, String lower) {
        while (from < to && (bytes[from] == ' ' || bytes[from] == '\t')) {
            from++;
        }
        while (to > from && (bytes[to - 1] == ' ' || bytes[to - 1] == '\t')) {
            to--;
        }
        if (to - from != lower.length()) {
            return false;
        }
        for (int i = 0; i < lower.length(); i++) {
            int b = bytes[from + i];
            if ((b >= 'A' && b <= 'Z' ? b + 32 : b) != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The decimal in {@code bytes[from, to)} between blanks; an IOException when it is not one. */
    private static int decimal(byte[] bytes, int from, int to) throws IOException {
        while (from < to && (bytes[from] == ' ' || bytes[from] == '\t')) {
            from++;
        }
        while (to > from && (bytes[to - 1] == ' ' || bytes[to - 1] == '\t')) {
            to--;
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            if (!digit(bytes[i]) || i - from >= 10) {
                throw new IOException("answer without a usable Content-Length");
            }
            value = value * 10 + bytes[i] - '0';
        }
        if (to == from || value > Integer.MAX_VALUE) {
            throw new IOException("answer without a usable Content-Length");
        }
        return (int) value;
    }

    private static int indexOf(byte[] bytes, int from, int to, byte[] pattern) {
        outer:
        for (int i = from; i <= to - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (bytes[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    record Answer(int status, byte[] body, boolean close) {
    }

    /** What the headers say about the body: its length, chunks, and whether the connection closes after it. */
    private static final class Framing {
        int length = -1;
        boolean chunked;
        boolean close;

        void take(String header) {
            int colon = header.indexOf(':');
            if (colon < 0) {
                return;
            }
            String name = header.substring(0, colon).trim();
            String value = header.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("Content-Length")) {
                length = Integer.parseInt(value);
            } else if (name.equalsIgnoreCase("Connection") && value.equalsIgnoreCase("close")) {
                close = true;
            } else if (name.equalsIgnoreCase("Transfer-Encoding") && value.equalsIgnoreCase("chunked")) {
                chunked = true;
            }
        }
    }

    /** Reads one answer: the status line, the headers (Content-Length, Connection), the body. */
    static Answer read(InputStream in) throws IOException {
        String statusLine = line(in);
        if (!statusLine.startsWith("HTTP/1.1 ") || statusLine.length() < 12) {
            throw new IOException("not an HTTP/1.1 answer: " + statusLine);
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        Framing framing = new Framing();
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            framing.take(header);
        }
        int length = framing.length;
        boolean close = framing.close;
        boolean chunked = framing.chunked;
        if (chunked) {
            return new Answer(status, chunks(in), close);
        }
        if (length < 0 || length > BODY_BYTES_MAX) {
            throw new IOException("answer without a usable Content-Length: " + length);
        }
        byte[] body = in.readNBytes(length);
        if (body.length != length) {
            throw new EOFException("answer cut short");
        }
        return new Answer(status, body, close);
    }

    /** A chunked body (asynchronous answers are sent so): size line, data, CRLF, until a size of 0. */
    private static byte[] chunks(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream(256);
        while (true) {
            String sizeLine = line(in);
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                while (!line(in).isEmpty()) {
                    // trailers, none expected
                }
                return body.toByteArray();
            }
            if (body.size() + size > BODY_BYTES_MAX) {
                throw new IOException("answer larger than " + BODY_BYTES_MAX + " bytes");
            }
            byte[] chunk = in.readNBytes(size);
            if (chunk.length != size) {
                throw new EOFException("chunk cut short");
            }
            body.write(chunk);
            line(in);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder(64);
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed mid-answer");
            }
            if (b == '\n') {
                int last = line.length() - 1;
                if (last >= 0 && line.charAt(last) == '\r') {
                    line.setLength(last);
                }
                return line.toString();
            }
            line.append((char) b);
        }
    }
}
