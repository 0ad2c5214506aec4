package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class LeanHttpLoadTest {

    private static final String APPLIED = "{\"success\":true,\"status\":\"APPLIED\",\"transaction_id\":\"t\"}";
    private static final String BATCH = "{\"results\":[{\"success\":true,\"status\":\"APPLIED\",\"balance\":"
            + "{\"currency_code\":\"USDT\"},\"code\":200},{\"success\":false,\"status\":\"REJECTED\",\"code\":422}],"
            + "\"success\":false}";
    private static final LeanHttpLoad.Check ANY = LeanHttpLoad.Check.body(body -> true);
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void theOpenModelSendsExactlyTheRequestsOfItsSchedule() throws IOException {
        try (TestServer server = new TestServer(APPLIED, 0);
             LeanHttpLoad load = new LeanHttpLoad(server.uri(), 1)) {
            LeanHttpLoad.Phase phase = load.open(1_000, 200 * MS, 50, posts(load), ANY, 1);

            long scheduled = new RateSchedule(0, 1_000).countWithin(200 * MS);
            assertThat(scheduled).isEqualTo(200);
            assertThat(phase.requests()).isEqualTo(scheduled);
            assertThat(server.requests.get()).isEqualTo(scheduled);
            assertThat(phase.statuses()).isEqualTo(Map.of(200, scheduled));
            assertThat(phase.errors()).isZero();
            assertThat(phase.latency().getTotalCount()).isEqualTo(scheduled);
            assertThat(phase.sendLag().getTotalCount()).isEqualTo(scheduled);
            assertThat(phase.targetPerS()).isEqualTo(1_000);
            assertThat(phase.toMap()).containsKeys("target_per_s", "send_lag").doesNotContainKey("item_codes");
        }
    }

    @Test
    void theOpenModelsLatencyIncludesTheTimeTheServerTakes() throws IOException {
        long serviceNanos = 50 * MS;
        try (TestServer server = new TestServer(APPLIED, serviceNanos);
             LeanHttpLoad load = new LeanHttpLoad(server.uri(), 1)) {
            LeanHttpLoad.Phase phase = load.open(100, 100 * MS, 20, posts(load), ANY, 1);

            assertThat(phase.requests()).isEqualTo(10);
            assertThat(phase.errors()).isZero();
            assertThat(phase.latency().getMinValue()).isGreaterThanOrEqualTo(
                    phase.latency().lowestEquivalentValue(serviceNanos));
        }
    }

    @Test
    void aServerSlowerThanTheRateShowsItsBacklogInTheLatencyFromTheDueTime() throws IOException {
        // One connection, 20 ms an answer, a request due every 5 ms: request i (from 0) cannot be answered before
        // 20 (i + 1) ms, 20 + 15 i ms after it was due; it cannot be sent before 20 i ms, 15 i ms late.
        try (TestServer server = new TestServer(APPLIED, 20 * MS);
             LeanHttpLoad load = new LeanHttpLoad(server.uri(), 1)) {
            LeanHttpLoad.Phase phase = load.open(200, 100 * MS, 1, posts(load), ANY, 1);

            assertThat(phase.requests()).isEqualTo(20);
            assertThat(phase.errors()).isZero();
            assertThat(server.accepted.get()).isEqualTo(1);
            assertThat(phase.latency().getMaxValue()).isGreaterThanOrEqualTo(300 * MS);
            assertThat(phase.sendLag().getMaxValue()).isGreaterThanOrEqualTo(280 * MS);
            // The phase lasts until the last answer (at least 400 ms): the achieved rate is at most 50/s.
            assertThat(phase.elapsedS()).isGreaterThanOrEqualTo(0.4);
            assertThat(phase.requestsPerS()).isLessThanOrEqualTo(50);
        }
    }

    @Test
    void theOpenModelOpensConnectionsWhenAllAreBusyUpToTheMaximumAndQueuesTheRest() throws IOException {
        // 50 ms an answer, a request due every millisecond: with at most 5 connections, the rest wait their turn.
        try (TestServer server = new TestServer(APPLIED, 50 * MS);
             LeanHttpLoad load = new LeanHttpLoad(server.uri(), 1)) {
            LeanHttpLoad.Phase phase = load.open(1_000, 100 * MS, 5, posts(load), ANY, 1);

            assertThat(phase.requests()).isEqualTo(100);
            assertThat(phase.errors()).isZero();
            assertThat(server.requests.get()).isEqualTo(100);
            assertThat(server.accepted.get()).isEqualTo(5);
            assertThat(server.openMax.get()).isEqualTo(5);
        }
    }

    @Test
    void theOpenModelKeepsUsingAnIdleConnectionRatherThanOpeningAnother() throws IOException {
        try (TestServer server = new TestServer(APPLIED, 0);
             LeanHttpLoad load = new LeanHttpLoad(server.uri(), 1)) {
            LeanHttpLoad.Phase phase = load.open(50, 400 * MS, 100, posts(load), ANY, 1);

            assertThat(phase.requests()).isEqualTo(20);
            // An answer takes well under the 20 ms between requests: one connection, a second at a hiccup.
            assertThat(server.accepted.get()).isBetween(1, 3);
        }
    }

    @Test
    void connectionsTheServerClosesAfterAnAnswerAreReplaced() throws IOException {
        try (TestServer server = new TestServer(APPLIED, 0).closingAfterEachAnswer(true);
             LeanHttpLoad load = new LeanHttpLoad(server.uri(), 2)) {
            LeanHttpLoad.Phase open = load.open(1_000, 10 * MS, 1, posts(load), ANY, 1);
            LeanHttpLoad.Phase closed = load.requests(2, 10, posts(load), ANY);

            assertThat(open.requests()).isEqualTo(10);
            assertThat(closed.requests()).isEqualTo(10);
            assertThat(open.errors() + closed.errors()).isZero();
            assertThat(server.accepted.get()).isEqualTo(20);
        }
    }

    @Test
    void idleConnectionsTheServerClosesAreDroppedAndReplaced() throws IOException {
        // The server closes each connection after its answer without saying so; the next request is due 10 ms later.
        try (TestServer server = new TestServer(APPLIED, 0).closingAfterEachAnswer(false);
             LeanHttpLoad load = new LeanHttpLoad(server.uri(), 1)) {
            LeanHttpLoad.Phase phase = load.open(100, 100 * MS, 1, posts(load), ANY, 1);

            assertThat(phase.requests()).isEqualTo(10);
            assertThat(phase.errors()).isZero();
            assertThat(server.accepted.get()).isEqualTo(10);
        }
    }

    @Test
    void theOpenModelFailsWhenAnswersAreStillOpenLongAfterTheLastSend() throws IOException {
        try (TestServer server = new TestServer(APPLIED, 0).neverAnswering();
             LeanHttpLoad load = new LeanHttpLoad(server.uri(), 1, 60_000, 300)) {
            assertThatThrownBy(() -> load.open(100, 30 * MS, 10, posts(load), ANY, 1))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("3 requests still open 300 ms after the last was sent");
        }
    }

    @Test
    void theClosedModelSendsTheAskedRequestsOverItsConnections() throws IOException {
        try (TestServer server = new TestServer(APPLIED, MS);
             LeanHttpLoad load = new LeanHttpLoad(server.uri(), 3)) {
            LeanHttpLoad.Phase phase = load.requests(3, 50, posts(load), ANY);

            assertThat(phase.requests()).isEqualTo(50);
            assertThat(server.requests.get()).isEqualTo(50);
            assertThat(server.accepted.get()).isEqualTo(3);
            assertThat(phase.latency().getMinValue()).isGreaterThanOrEqualTo(phase.latency().lowestEquivalentValue(MS));
            assertThat(phase.sendLag()).isNull();
            assertThat(phase.toMap()).doesNotContainKeys("target_per_s", "send_lag", "items");
            assertThatThrownBy(() -> load.requests(4, 1, posts(load), ANY)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void batchAnswersHaveTheirItemsCodesCountedWhenTheCheckReadsThem() throws IOException {
        LeanHttpLoad.Check twoItems = (body, itemCodes) -> LeanHttpLoad.itemCodes(body, itemCodes) == 2;
        LeanHttpLoad.Check threeItems = (body, itemCodes) -> LeanHttpLoad.itemCodes(body, itemCodes) == 3;
        try (TestServer server = new TestServer(BATCH, 0);
             LeanHttpLoad load = new LeanHttpLoad(server.uri(), 2)) {
            LeanHttpLoad.Phase open = load.open(200, 50 * MS, 10, posts(load), twoItems, 1);
            assertThat(load.progress()).isEqualTo(20);
            LeanHttpLoad.Phase closed = load.requests(2, 7, posts(load), twoItems);
            LeanHttpLoad.Phase wrongSize = load.requests(2, 4, posts(load), threeItems);
            LeanHttpLoad.Phase unread = load.requests(2, 4, posts(load), ANY);

            assertThat(open.requests()).isEqualTo(10);
            assertThat(open.itemCodes()).isEqualTo(Map.of(200, 10L, 422, 10L));
            assertThat(open.items()).isEqualTo(20);
            assertThat(open.errors()).isZero();
            assertThat(open.toMap()).containsEntry("items", 20L).containsEntry("item_codes", Map.of(200, 10L, 422, 10L));
            assertThat(closed.itemCodes()).isEqualTo(Map.of(200, 7L, 422, 7L));
            assertThat(closed.items()).isEqualTo(14);
            assertThat(wrongSize.errors()).isEqualTo(4);
            assertThat(unread.itemCodes()).isEmpty();
            assertThat(unread.items()).isZero();
            assertThat(unread.toMap()).doesNotContainKey("item_codes");
        }
    }

    @Test
    void itemCodesAreReadOnlyFromBatchAnswers() {
        List<Integer> codes = new ArrayList<>();

        assertThat(LeanHttpLoad.itemCodes(BATCH.getBytes(StandardCharsets.UTF_8), codes::add)).isEqualTo(2);
        assertThat(codes).containsExactly(200, 422);
        assertThat(LeanHttpLoad.itemCodes("{\"code\":200}".getBytes(StandardCharsets.UTF_8), codes::add)).isEqualTo(-1);
        assertThat(LeanHttpLoad.itemCodes("{\"results\":[]}".getBytes(StandardCharsets.UTF_8), codes::add)).isZero();
        assertThat(codes).hasSize(2);
    }

    @Test
    void shouldReadAnAnswerWithAContentLengthAndLeaveTheNextOneInTheStream() throws IOException {
        InputStream in = stream("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                + "HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nnop");

        LeanHttpLoad.Answer first = LeanHttpLoad.read(in);
        LeanHttpLoad.Answer second = LeanHttpLoad.read(in);

        assertThat(first.status()).isEqualTo(200);
        assertThat(new String(first.body(), StandardCharsets.UTF_8)).isEqualTo("{}");
        assertThat(second.status()).isEqualTo(404);
        assertThat(new String(second.body(), StandardCharsets.UTF_8)).isEqualTo("nop");
    }

    @Test
    void shouldReadAChunkedAnswer() throws IOException {
        InputStream in = stream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=1\r\n:1}\r\n0\r\n\r\n");

        LeanHttpLoad.Answer answer = LeanHttpLoad.read(in);

        assertThat(new String(answer.body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
    }

    @Test
    void shouldReportAConnectionClosedMidAnswer() {
        assertThatThrownBy(() -> LeanHttpLoad.read(stream("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}")))
                .isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> LeanHttpLoad.read(stream("SSH-2.0\r\n"))).isInstanceOf(IOException.class);
    }

    @Test
    void shouldTellWhenAnAnswerIsCompleteByItsLengthOrItsLastChunk() throws IOException {
        String sized = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=1\r\n:1}\r\n0\r\n\r\n";
        for (String answer : new String[] {sized, chunked}) {
            byte[] bytes = answer.getBytes(StandardCharsets.US_ASCII);
            for (int cut = 0; cut < bytes.length; cut++) {
                assertThat(LeanHttpLoad.answerLength(bytes, cut)).as(answer + " cut at " + cut).isEqualTo(-1);
            }
            assertThat(LeanHttpLoad.answerLength(bytes, bytes.length)).isEqualTo(bytes.length);
        }
        byte[] noLength = "HTTP/1.1 200 OK\r\nX: y\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> LeanHttpLoad.answerLength(noLength, noLength.length)).isInstanceOf(IOException.class);
    }

    @Test
    void shouldReadTheSameHeadFromBytesAsTheStreamReaderDoes() throws IOException {
        String[] answers = {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                "HTTP/1.1 503 Service Unavailable\r\ncontent-length :  3 \r\nCONNECTION: Close\r\nRetry-After: 1\r\n\r\nbye",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n4\r\n{\"a\"\r\n0\r\n\r\n",
                "HTTP/1.1 404 Not Found\r\nX-Content-Length: 99\r\nContent-Length: 0\r\n\r\n"};
        for (String answer : answers) {
            byte[] bytes = answer.getBytes(StandardCharsets.US_ASCII);
            LeanHttpLoad.Answer streamed = LeanHttpLoad.read(stream(answer));
            LeanHttpLoad.Head head = LeanHttpLoad.head(bytes, bytes.length);

            assertThat(head.status()).as(answer).isEqualTo(streamed.status());
            assertThat(head.close()).as(answer).isEqualTo(streamed.close());
            assertThat(head.bodyStart()).as(answer).isEqualTo(answer.indexOf("\r\n\r\n") + 4);
            assertThat(head.chunked()).as(answer).isEqualTo(answer.contains("chunked"));
            if (!head.chunked()) {
                assertThat(head.contentLength()).as(answer).isEqualTo(streamed.body().length);
            }
        }
        byte[] badLength = "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> LeanHttpLoad.head(badLength, badLength.length)).isInstanceOf(IOException.class);
        byte[] notHttp = "SSH-2.0-OpenSSH\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> LeanHttpLoad.head(notHttp, notHttp.length)).isInstanceOf(IOException.class);
        assertThat(LeanHttpLoad.head(badLength, badLength.length - 2)).isNull();
    }

    @Test
    void shouldWritePostsWithTheirBodyLength() {
        String request = new String(LeanHttpLoad.post("h:1", "/p", "{\"é\":1}"), StandardCharsets.UTF_8);

        assertThat(request).startsWith("POST /p HTTP/1.1\r\nHost: h:1\r\n").contains("Content-Length: 8\r\n")
                .endsWith("\r\n\r\n{\"é\":1}");
    }

    private static InputStream stream(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    private static LeanHttpLoad.Requests posts(LeanHttpLoad load) {
        String host = load.hostHeader();
        return random -> LeanHttpLoad.post(host, "/api/v1/balance/change", "{\"n\":" + random.nextInt(1000) + "}");
    }

    /**
     * A small HTTP/1.1 server on a loopback port, a thread per connection: reads each request and
     * answers it with the same body, {@code serviceNanos} after the request was read.
     */
    private static final class TestServer implements AutoCloseable {
        final AtomicLong requests = new AtomicLong();
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger openMax = new AtomicInteger();
        private final AtomicInteger open = new AtomicInteger();
        private final ServerSocket socket;
        private final byte[] answer;
        private final long serviceNanos;
        private final List<Socket> sockets = new ArrayList<>();
        private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "test-server");
            thread.setDaemon(true);
            return thread;
        });
        private volatile boolean answering = true;
        private volatile boolean closeAfterAnswer;
        private volatile boolean announceClose;

        TestServer(String body, long serviceNanos) throws IOException {
            this.socket = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
            this.answer = body.getBytes(StandardCharsets.UTF_8);
            this.serviceNanos = serviceNanos;
            threads.execute(this::accept);
        }

        TestServer neverAnswering() {
            answering = false;
            return this;
        }

        /** Closes each connection after its first answer, saying so in a header or not. */
        TestServer closingAfterEachAnswer(boolean announce) {
            closeAfterAnswer = true;
            announceClose = announce;
            return this;
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/");
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket connection = socket.accept();
                    synchronized (sockets) {
                        sockets.add(connection);
                    }
                    accepted.incrementAndGet();
                    openMax.accumulateAndGet(open.incrementAndGet(), Math::max);
                    threads.execute(() -> serve(connection));
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        private void serve(Socket connection) {
            try (connection) {
                connection.setTcpNoDelay(true);
                InputStream in = new BufferedInputStream(connection.getInputStream());
                OutputStream out = connection.getOutputStream();
                while (readRequest(in)) {
                    long read = System.nanoTime();
                    requests.incrementAndGet();
                    if (!answering) {
                        continue;
                    }
                    long left;
                    while ((left = read + serviceNanos - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(left);
                    }
                    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + answer.length
                            + (closeAfterAnswer && announceClose ? "\r\nConnection: close" : "") + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII);
                    byte[] whole = Arrays.copyOf(head, head.length + answer.length);
                    System.arraycopy(answer, 0, whole, head.length, answer.length);
                    out.write(whole);
                    out.flush();
                    if (closeAfterAnswer) {
                        break;
                    }
                }
            } catch (IOException e) {
                // The client went away.
            } finally {
                open.decrementAndGet();
            }
        }

        /** Reads one request (headers and a Content-Length body); false at the end of the stream. */
        private static boolean readRequest(InputStream in) throws IOException {
            StringBuilder headers = new StringBuilder();
            while (headers.length() < 4 || !headers.substring(headers.length() - 4).equals("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    return false;
                }
                headers.append((char) b);
            }
            int length = 0;
            for (String header : headers.toString().split("\r\n")) {
                if (header.toLowerCase().startsWith("content-length:")) {
                    length = Integer.parseInt(header.substring(header.indexOf(':') + 1).trim());
                }
            }
            return in.readNBytes(length).length == length;
        }

        @Override
        public void close() throws IOException {
            socket.close();
            synchronized (sockets) {
                for (Socket connection : sockets) {
                    connection.close();
                }
            }
            threads.shutdownNow();
        }
    }
}
