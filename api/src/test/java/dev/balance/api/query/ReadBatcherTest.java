package dev.balance.api.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.balance.api.auth.Credentials;
import dev.balance.api.auth.NodeSigner;
import dev.balance.api.http.ApiException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Grouped forwarding against a stand-in owner: reads that wait for the same owner travel together,
 * each gets its own answer back, and a read the owner marks (or an owner that does not know groups)
 * is asked singly.
 */
class ReadBatcherTest {

    private static final String SELF = "127.0.0.1:7001";

    /** A request as the owner saw it. */
    private record Seen(String method, String path, String body) {
    }

    private final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    private final AtomicInteger groups = new AtomicInteger();
    private HttpServer owner;
    private Forwarder forwarder;
    /** Holds the first groups until released, so that reads pile up behind them. */
    private volatile CountDownLatch released = new CountDownLatch(0);
    /** Reads of paths containing this are marked ask-singly by the stand-in. */
    private volatile String askSingly = "never";
    private volatile boolean knowsGroups = true;

    @BeforeEach
    void start() throws IOException {
        owner = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        owner.setExecutor(Executors.newCachedThreadPool());
        owner.createContext("/", this::handle);
        owner.start();
        forwarder = new Forwarder(Duration.ofSeconds(5), new NodeSigner(Credentials.parse(null, null, null)), SELF, null);
    }

    @AfterEach
    void stop() {
        released.countDown();
        forwarder.close();
        owner.stop(0);
    }

    /** Answers a group with each path's own body ("answer to PATH"), a GET with "single PATH". */
    private void handle(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String path = exchange.getRequestURI().toString();
        seen.add(new Seen(exchange.getRequestMethod(), path, body));
        byte[] answer;
        int status = 200;
        if (exchange.getRequestMethod().equals("POST") && path.equals(ReadBatcher.PATH) && knowsGroups) {
            groups.incrementAndGet();
            try {
                released.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            List<ReadBatcher.Answer> answers = new ArrayList<>();
            for (String read : body.split("\n")) {
                answers.add(read.contains(askSingly) ? new ReadBatcher.Answer(ReadBatcher.ASK_SINGLY, new byte[0])
                        : new ReadBatcher.Answer(200, ("answer to " + read).getBytes(StandardCharsets.UTF_8)));
            }
            answer = ReadBatcher.encode(answers);
        } else if (exchange.getRequestMethod().equals("GET")) {
            status = 404;
            answer = ("single " + path).getBytes(StandardCharsets.UTF_8);
        } else {
            status = 404;
            answer = "{\"error\":\"NOT_FOUND\"}".getBytes(StandardCharsets.UTF_8);
        }
        exchange.sendResponseHeaders(status, answer.length);
        exchange.getResponseBody().write(answer);
        exchange.close();
    }

    private String ownerHostPort() {
        return "127.0.0.1:" + owner.getAddress().getPort();
    }

    private static String text(Forwarder.Response response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    @Test
    void readsThatWaitForTheSameOwnerTravelTogetherAndEachGetsItsOwnAnswer() throws Exception {
        ReadBatcher batcher = new ReadBatcher(forwarder);
        released = new CountDownLatch(1);
        // Two groups go at once and are held by the owner; the next reads wait for one to come back.
        List<CompletableFuture<Forwarder.Response>> first = List.of(
                batcher.read(ownerHostPort(), "/api/v1/balance/1/BTC"),
                batcher.read(ownerHostPort(), "/api/v1/balance/2/BTC"));
        await().atMost(Duration.ofSeconds(10)).until(() -> groups.get() == 2);
        List<CompletableFuture<Forwarder.Response>> waiting = new ArrayList<>();
        for (int i = 3; i <= 52; i++) {
            waiting.add(batcher.read(ownerHostPort(), "/api/v1/balance/" + i + "/BTC"));
        }
        released.countDown();

        for (int i = 0; i < first.size(); i++) {
            assertThat(text(first.get(i).get(10, TimeUnit.SECONDS))).isEqualTo("answer to /api/v1/balance/" + (i + 1) + "/BTC");
        }
        for (int i = 0; i < waiting.size(); i++) {
            Forwarder.Response response = waiting.get(i).get(10, TimeUnit.SECONDS);
            assertThat(response.status()).isEqualTo(200);
            assertThat(text(response)).isEqualTo("answer to /api/v1/balance/" + (i + 3) + "/BTC");
        }
        // The 50 waiting reads went in one group: three groups in all, no single GET.
        assertThat(groups.get()).isEqualTo(3);
        assertThat(seen).allMatch(request -> request.method().equals("POST"));
        assertThat(seen).anyMatch(request -> request.body().split("\n").length == 50);
    }

    @Test
    void aReadTheOwnerMarksIsAskedSinglyAndItsAnswerRelayed() throws Exception {
        ReadBatcher batcher = new ReadBatcher(forwarder);
        askSingly = "/api/v1/transactions/";

        Forwarder.Response marked = batcher.read(ownerHostPort(), "/api/v1/transactions/7/t-1").get(10, TimeUnit.SECONDS);
        Forwarder.Response answered = batcher.read(ownerHostPort(), "/api/v1/balance/7").get(10, TimeUnit.SECONDS);

        assertThat(marked.status()).isEqualTo(404);
        assertThat(text(marked)).isEqualTo("single /api/v1/transactions/7/t-1");
        assertThat(text(answered)).isEqualTo("answer to /api/v1/balance/7");
        assertThat(seen).extracting(Seen::method).containsExactly("POST", "GET", "POST");
    }

    @Test
    void anOwnerThatDoesNotKnowGroupsIsAskedEachReadSingly() throws Exception {
        ReadBatcher batcher = new ReadBatcher(forwarder);
        knowsGroups = false;

        Forwarder.Response response = batcher.read(ownerHostPort(), "/api/v1/balance/9/USDT").get(10, TimeUnit.SECONDS);

        assertThat(text(response)).isEqualTo("single /api/v1/balance/9/USDT");
        assertThat(seen).extracting(Seen::method).containsExactly("POST", "GET");
    }

    @Test
    void anOwnerThatDoesNotAnswerFailsEveryReadOfTheGroupAsUnreachable() throws Exception {
        ReadBatcher batcher = new ReadBatcher(forwarder);
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }

        Throwable error = catchThrowable(() -> batcher.read("127.0.0.1:" + closedPort, "/api/v1/balance/1/BTC")
                .get(10, TimeUnit.SECONDS));

        assertThat(error).isInstanceOf(ExecutionException.class);
        assertThat(error.getCause()).isInstanceOf(ApiException.class);
        assertThat(((ApiException) error.getCause()).status()).isEqualTo(503);
        // And the next read to that owner is sent again (nothing stays counted in flight).
        Throwable again = catchThrowable(() -> batcher.read("127.0.0.1:" + closedPort, "/api/v1/balance/2/BTC")
                .get(10, TimeUnit.SECONDS));
        assertThat(again).isInstanceOf(ExecutionException.class);
    }

    @Test
    void aGroupAnswerDecodesToItsAnswersAndAMalformedOneToNothing() {
        List<ReadBatcher.Answer> answers = List.of(new ReadBatcher.Answer(200, "{\"a\":\"x\ny\"}".getBytes(StandardCharsets.UTF_8)),
                new ReadBatcher.Answer(ReadBatcher.ASK_SINGLY, new byte[0]), new ReadBatcher.Answer(200, new byte[0]));
        byte[] encoded = ReadBatcher.encode(answers);

        List<ReadBatcher.Answer> decoded = ReadBatcher.decode(encoded, 3);

        assertThat(decoded).hasSize(3);
        assertThat(new String(decoded.get(0).body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":\"x\ny\"}");
        assertThat(decoded.get(1).status()).isEqualTo(ReadBatcher.ASK_SINGLY);
        assertThat(decoded.get(2).body()).isEmpty();
        assertThat(ReadBatcher.decode(encoded, 2)).isNull();
        assertThat(ReadBatcher.decode(java.util.Arrays.copyOf(encoded, encoded.length - 3), 3)).isNull();
        assertThat(ReadBatcher.decode("{\"success\":false}".getBytes(StandardCharsets.UTF_8), 1)).isNull();
    }
}
