package dev.balance.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * A closed-model HTTP/1.1 load generator cheap enough to sit beside the node on two cores: one
 * thread and one selector for all kept-alive connections, requests written as bytes, answers
 * parsed only as far as the status line and Content-Length (or chunks). The JDK's HttpClient costs about a
 * millisecond of CPU per request here, which would be most of what a read benchmark measured.
 *
 * <p>Only what the node sends is understood: a status line, headers with Content-Length, a body.
 */
final class LeanHttpLoad implements AutoCloseable {

    /** One request: the bytes of the request line, headers and body. */
    @FunctionalInterface
    interface Requests {
        byte[] next(SplittableRandom random);
    }

    /** What one measured phase did. */
    record Phase(org.HdrHistogram.Histogram latency, Map<Integer, Long> statuses, long requests, long errors,
                 double elapsedS) {
        double requestsPerS() {
            return requests / elapsedS;
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new java.util.LinkedHashMap<>();
            map.put("requests", requests);
            map.put("requests_per_s", Math.round(requestsPerS()));
            map.put("statuses", statuses);
            map.put("errors", errors);
            map.put("elapsed_s", elapsedS);
            map.put("latency", Latency.summary(latency));
            return map;
        }
    }

    private static final int BODY_BYTES_MAX = 16 * 1024 * 1024;
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int READ_TIMEOUT_MS = 30_000;

    private final String host;
    private final int port;
    private final LongAdder progress = new LongAdder();
    /** Threads live as long as the load, so the CPU account of a phase finds them (ended threads' CPU is lost). */
    private final java.util.concurrent.ExecutorService threads;
    private final int connectionsMax;

    LeanHttpLoad(URI base, int connectionsMax) {
        this.host = base.getHost();
        this.port = base.getPort();
        this.connectionsMax = connectionsMax;
        java.util.concurrent.atomic.AtomicInteger counter = new java.util.concurrent.atomic.AtomicInteger();
        this.threads = java.util.concurrent.Executors.newFixedThreadPool(1, runnable -> {
            Thread thread = new Thread(runnable, "loadgen-lean-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }

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
     * {@code check} sees each 200 body and returns false for an answer that is wrong.
     */
    Phase closed(int connections, long durationNanos, Requests requests, Function<byte[], Boolean> check, long seed) {
        long end = System.nanoTime() + durationNanos;
        return phase(connections, () -> System.nanoTime() < end, durationNanos, requests, check, seed);
    }

    /** Exactly {@code total} requests over {@code connections} connections, each sent when the last is answered. */
    Phase requests(int connections, long total, Requests requests, Function<byte[], Boolean> check) {
        java.util.concurrent.atomic.AtomicLong remaining = new java.util.concurrent.atomic.AtomicLong(total);
        return phase(connections, () -> remaining.getAndDecrement() > 0, java.util.concurrent.TimeUnit.HOURS.toNanos(1),
                requests, check, 0);
    }

    private Phase phase(int connections, java.util.function.BooleanSupplier more, long durationNanos, Requests requests,
                        Function<byte[], Boolean> check, long seed) {
        progress.reset();
        Latency latency = new Latency();
        Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
        LongAdder count = new LongAdder();
        LongAdder errors = new LongAdder();
        long start = System.nanoTime();
        if (connections > connectionsMax) {
            throw new IllegalArgumentException("at most " + connectionsMax + " connections");
        }
        SplittableRandom seeds = new SplittableRandom(seed);
        java.util.concurrent.Future<?> driver = threads.submit(() -> {
            drive(connections, more, requests, check, seeds, latency, statuses, count, errors);
            return null;
        });
        try {
            driver.get(durationNanos / 1_000_000 + READ_TIMEOUT_MS + CONNECT_TIMEOUT_MS,
                    java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            driver.cancel(true);
            throw new IllegalStateException("the load failed: " + e, e);
        }
        double elapsedS = (System.nanoTime() - start) / 1e9;
        Map<Integer, Long> byStatus = new TreeMap<>();
        statuses.forEach((status, adder) -> byStatus.put(status, adder.sum()));
        return new Phase(latency.snapshot(), byStatus, count.sum(), errors.sum(), elapsedS);
    }

    /**
     * All connections on one thread and one selector: a connection writes its next request as soon
     * as its answer is complete. One thread per blocking connection cost a thread wake-up per request,
     * which on two cores was a fifth of the machine at read rates.
     */
    private void drive(int connections, java.util.function.BooleanSupplier more, Requests requests,
                       Function<byte[], Boolean> check, SplittableRandom seeds, Latency latency,
                       Map<Integer, LongAdder> statuses, LongAdder count, LongAdder errors) throws IOException {
        try (java.nio.channels.Selector selector = java.nio.channels.Selector.open()) {
            List<Connection> all = new ArrayList<>();
            int busy = 0;
            for (int i = 0; i < connections; i++) {
                Connection connection = new Connection(seeds.split());
                all.add(connection);
                if (more.getAsBoolean()) {
                    connection.send(selector, requests.next(connection.random));
                    busy++;
                }
            }
            while (busy > 0) {
                selector.select(1_000);
                for (java.nio.channels.SelectionKey key : selector.selectedKeys()) {
                    Connection connection = (Connection) key.attachment();
                    try {
                        if (key.isValid() && key.isWritable()) {
                            connection.flush();
                        }
                        if (!key.isValid() || !key.isReadable()) {
                            continue;
                        }
                        Answer answer = connection.receive();
                        if (answer == null) {
                            continue;
                        }
                        latency.recordNanos(System.nanoTime() - connection.sentNanos);
                        count.increment();
                        progress.increment();
                        statuses.computeIfAbsent(answer.status, status -> new LongAdder()).increment();
                        if (answer.status == 200 && !check.apply(answer.body)) {
                            errors.increment();
                        }
                        if (answer.close) {
                            connection.close();
                        }
                    } catch (IOException e) {
                        errors.increment();
                        count.increment();
                        connection.close();
                    }
                    if (more.getAsBoolean()) {
                        connection.send(selector, requests.next(connection.random));
                    } else {
                        connection.idle = true;
                        busy--;
                    }
                }
                selector.selectedKeys().clear();
                long now = System.nanoTime();
                for (Connection connection : all) {
                    if (!connection.idle && now - connection.sentNanos > READ_TIMEOUT_MS * 1_000_000L) {
                        throw new IOException("no answer within " + READ_TIMEOUT_MS + " ms");
                    }
                }
            }
            for (Connection connection : all) {
                connection.close();
            }
        }
    }

    /** One kept-alive non-blocking connection: the request being written, the answer being read. */
    private final class Connection {
        final SplittableRandom random;
        java.nio.channels.SocketChannel channel;
        java.nio.channels.SelectionKey key;
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(0);
        byte[] in = new byte[16 * 1024];
        int filled;
        long sentNanos;
        boolean idle;

        Connection(SplittableRandom random) {
            this.random = random;
        }

        void send(java.nio.channels.Selector selector, byte[] request) throws IOException {
            if (channel == null) {
                channel = java.nio.channels.SocketChannel.open();
                channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                channel.socket().connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
                channel.configureBlocking(false);
                key = channel.register(selector, java.nio.channels.SelectionKey.OP_READ, this);
            }
            filled = 0;
            out = java.nio.ByteBuffer.wrap(request);
            sentNanos = System.nanoTime();
            flush();
        }

        void flush() throws IOException {
            channel.write(out);
            key.interestOps(out.hasRemaining() ? java.nio.channels.SelectionKey.OP_READ | java.nio.channels.SelectionKey.OP_WRITE
                    : java.nio.channels.SelectionKey.OP_READ);
        }

        /** Reads what arrived; the answer once it is complete, else null. */
        Answer receive() throws IOException {
            if (filled == in.length) {
                if (in.length >= BODY_BYTES_MAX) {
                    throw new IOException("answer larger than " + BODY_BYTES_MAX + " bytes");
                }
                in = java.util.Arrays.copyOf(in, in.length * 2);
            }
            int read = channel.read(java.nio.ByteBuffer.wrap(in, filled, in.length - filled));
            if (read < 0) {
                throw new EOFException("connection closed mid-answer");
            }
            filled += read;
            int length = answerLength(in, filled);
            if (length < 0) {
                return null;
            }
            if (length != filled) {
                throw new IOException("bytes after the answer: the node answered what was not asked");
            }
            return LeanHttpLoad.read(new java.io.ByteArrayInputStream(in, 0, length));
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
        }
    }

    /**
     * The length of the first complete answer in {@code bytes[0, filled)}, or -1 while it is not
     * complete: headers, then a Content-Length body or chunks up to the last one.
     */
    static int answerLength(byte[] bytes, int filled) throws IOException {
        int headersEnd = indexOf(bytes, 0, filled, CRLF_CRLF);
        if (headersEnd < 0) {
            return -1;
        }
        int bodyStart = headersEnd + 4;
        Framing framing = new Framing();
        for (String header : new String(bytes, 0, headersEnd, StandardCharsets.US_ASCII).split("\r\n")) {
            framing.take(header);
        }
        int contentLength = framing.length;
        if (!framing.chunked) {
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
