package dev.balance.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
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
 * thread and one kept-alive blocking socket per connection, requests written as bytes, answers
 * parsed only as far as the status line and Content-Length. The JDK's HttpClient costs about a
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
        this.threads = java.util.concurrent.Executors.newFixedThreadPool(connectionsMax, runnable -> {
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
        List<java.util.concurrent.Future<?>> running = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            SplittableRandom random = seeds.split();
            running.add(threads.submit(() -> run(more, requests, check, random, latency, statuses, count, errors)));
        }
        for (java.util.concurrent.Future<?> connection : running) {
            try {
                connection.get(durationNanos / 1_000_000 + READ_TIMEOUT_MS + CONNECT_TIMEOUT_MS,
                        java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("a connection of the load failed: " + e, e);
            }
        }
        double elapsedS = (System.nanoTime() - start) / 1e9;
        Map<Integer, Long> byStatus = new TreeMap<>();
        statuses.forEach((status, adder) -> byStatus.put(status, adder.sum()));
        return new Phase(latency.snapshot(), byStatus, count.sum(), errors.sum(), elapsedS);
    }

    private void run(java.util.function.BooleanSupplier more, Requests requests, Function<byte[], Boolean> check,
                     SplittableRandom random, Latency latency, Map<Integer, LongAdder> statuses, LongAdder count,
                     LongAdder errors) {
        Socket socket = null;
        try {
            while (more.getAsBoolean()) {
                if (socket == null) {
                    socket = connect();
                }
                byte[] request = requests.next(random);
                long sent = System.nanoTime();
                try {
                    OutputStream out = socket.getOutputStream();
                    out.write(request);
                    out.flush();
                    Answer answer = read(socket.getInputStream());
                    latency.recordNanos(System.nanoTime() - sent);
                    count.increment();
                    progress.increment();
                    statuses.computeIfAbsent(answer.status, status -> new LongAdder()).increment();
                    if (answer.status == 200 && !check.apply(answer.body)) {
                        errors.increment();
                    }
                    if (answer.close) {
                        socket.close();
                        socket = null;
                    }
                } catch (IOException e) {
                    errors.increment();
                    count.increment();
                    closeQuietly(socket);
                    socket = null;
                }
            }
        } catch (IOException e) {
            errors.increment();
        } finally {
            closeQuietly(socket);
        }
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(READ_TIMEOUT_MS);
        socket.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
        return new BufferedSocket(socket);
    }

    record Answer(int status, byte[] body, boolean close) {
    }

    /** Reads one answer: the status line, the headers (Content-Length, Connection), the body. */
    static Answer read(InputStream in) throws IOException {
        String statusLine = line(in);
        if (!statusLine.startsWith("HTTP/1.1 ") || statusLine.length() < 12) {
            throw new IOException("not an HTTP/1.1 answer: " + statusLine);
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        int length = -1;
        boolean close = false;
        boolean chunked = false;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            int colon = header.indexOf(':');
            if (colon < 0) {
                continue;
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

    private static void closeQuietly(Socket socket) {
        if (socket == null) {
            return;
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // The connection is being dropped anyway.
        }
    }

    /** A socket whose streams are buffered once, so a request is one write and an answer few reads. */
    private static final class BufferedSocket extends Socket {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        BufferedSocket(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            this.out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
        }

        @Override
        public InputStream getInputStream() {
            return in;
        }

        @Override
        public OutputStream getOutputStream() {
            return out;
        }

        @Override
        public synchronized void close() throws IOException {
            socket.close();
        }
    }
}
