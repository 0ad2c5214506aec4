package dev.balance.api.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.balance.api.auth.Credentials;
import dev.balance.api.auth.NodeSigner;
import dev.balance.api.auth.Signatures;
import dev.balance.api.http.ApiException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The forwarding client against a stand-in owner: what it sends, what it passes back, how it fails. */
class ForwarderTest {

    private static final String NODE_SECRET = "node-secret-for-the-forwarder-test";
    private static final String SELF = "127.0.0.1:7001";

    /** A request as the owner saw it; header names are looked up case-insensitively. */
    private record Seen(String method, String pathAndQuery, Headers headers, byte[] body) {
        String header(String name) {
            return headers.getFirst(name);
        }
    }

    private final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    private HttpServer owner;
    private volatile int status = 200;
    private volatile String answer = "{\"success\":true}";
    private volatile Map<String, String> answerHeaders = Map.of();
    private volatile long delayMs;
    private volatile CountDownLatch released = new CountDownLatch(0);

    @BeforeEach
    void startOwner() throws IOException {
        owner = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        owner.setExecutor(Executors.newCachedThreadPool());
        owner.createContext("/", this::handle);
        owner.start();
    }

    @AfterEach
    void stopOwner() {
        released.countDown();
        owner.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        Headers headers = new Headers();
        headers.putAll(exchange.getRequestHeaders());
        seen.add(new Seen(exchange.getRequestMethod(), exchange.getRequestURI().toString(), headers, body));
        try {
            if (delayMs > 0) {
                Thread.sleep(delayMs);
            }
            released.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        answerHeaders.forEach(exchange.getResponseHeaders()::add);
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    private String ownerHostPort() {
        return "127.0.0.1:" + owner.getAddress().getPort();
    }

    private static Forwarder forwarder(Duration timeout, Credentials credentials) {
        return new Forwarder(timeout, new NodeSigner(credentials), SELF, null);
    }

    @Test
    void aReadTravelsMarkedAndSignedAndItsAnswerComesBackAsItIs() throws Exception {
        status = 202;
        answer = "{\"success\":true,\"status\":\"PENDING\"}";
        answerHeaders = Map.of("Location", "/api/v1/transactions/42/t1", "Retry-After", "2");
        try (Forwarder forwarder = forwarder(Duration.ofSeconds(5), Credentials.parse(null, null, NODE_SECRET))) {
            Forwarder.Response response = forwarder.forward(ownerHostPort(), "GET",
                    "/api/v1/balance/42/BTC?allow_stale=true", new byte[0]).get(10, TimeUnit.SECONDS);

            assertThat(response.status()).isEqualTo(202);
            assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(answer);
            assertThat(response.location()).isEqualTo("/api/v1/transactions/42/t1");
            assertThat(response.retryAfter()).isEqualTo("2");
        }
        Seen request = seen.poll();
        assertThat(request.method()).isEqualTo("GET");
        assertThat(request.pathAndQuery()).isEqualTo("/api/v1/balance/42/BTC?allow_stale=true");
        assertThat(request.body()).isEmpty();
        assertThat(request.header(Forwarder.FORWARDED_HEADER)).isEqualTo(SELF);
        assertThat(request.header("Content-Type")).isEqualTo("application/json");
        assertThat(request.header("X-Key-Id")).isEqualTo("@node");
        String timestamp = request.header("X-Timestamp");
        assertThat(request.header("X-Signature")).isEqualTo(Signatures.v2(NODE_SECRET, timestamp, "GET",
                "/api/v1/balance/42/BTC?allow_stale=true", new byte[0]));
    }

    @Test
    void aChangeTravelsWithItsBodyAndASignatureBoundToIt() throws Exception {
        byte[] body = "{\"transaction_id\":\"t1\",\"account_id\":42}".getBytes(StandardCharsets.UTF_8);
        try (Forwarder forwarder = forwarder(Duration.ofSeconds(5), Credentials.parse(null, null, NODE_SECRET))) {
            Forwarder.Response response = forwarder.forward(ownerHostPort(), "POST", "/api/v1/balance/change", body)
                    .get(10, TimeUnit.SECONDS);
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.location()).isNull();
            assertThat(response.retryAfter()).isNull();
        }
        Seen request = seen.poll();
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.body()).isEqualTo(body);
        assertThat(request.header("Content-Type")).isEqualTo("application/json");
        assertThat(request.headers().get("Content-Type")).hasSize(1);
        assertThat(request.header("X-Signature")).isEqualTo(Signatures.v2(NODE_SECRET, request.header("X-Timestamp"),
                "POST", "/api/v1/balance/change", body));
    }

    @Test
    void developmentModeSendsNoSignature() throws Exception {
        try (Forwarder forwarder = forwarder(Duration.ofSeconds(5), Credentials.none())) {
            forwarder.forward(ownerHostPort(), "GET", "/api/v1/balance/42", new byte[0]).get(10, TimeUnit.SECONDS);
        }
        Seen request = seen.poll();
        assertThat(request.header(Forwarder.FORWARDED_HEADER)).isEqualTo(SELF);
        assertThat(request.header("X-Key-Id")).isNull();
        assertThat(request.header("X-Signature")).isNull();
    }

    @Test
    void manyRequestsToOneOwnerAreInFlightAtOnce() throws Exception {
        int requests = 40;
        released = new CountDownLatch(1);
        try (Forwarder forwarder = forwarder(Duration.ofSeconds(20), Credentials.none())) {
            List<CompletableFuture<Forwarder.Response>> answers = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                answers.add(forwarder.forward(ownerHostPort(), "GET", "/api/v1/balance/" + (i + 1), new byte[0]));
            }
            // Every request reaches the owner before any is answered: one connection each.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (seen.size() < requests && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(seen).hasSize(requests);
            released.countDown();
            for (CompletableFuture<Forwarder.Response> answer : answers) {
                assertThat(answer.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
        }
    }

    @Test
    void anOwnerThatIsNotListeningIsAnOwnerUnreachableWithRetryAfter() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        try (Forwarder forwarder = forwarder(Duration.ofSeconds(5), Credentials.none())) {
            ApiException error = failure(forwarder.forward("127.0.0.1:" + closedPort, "GET", "/api/v1/balance/42",
                    new byte[0]));
            assertThat(error.status()).isEqualTo(503);
            assertThat(error.error()).isEqualTo("OWNER_UNREACHABLE");
            assertThat(error.retryAfterS()).isEqualTo(1);
            assertThat(error.getMessage()).contains("127.0.0.1:" + closedPort);
        }
    }

    @Test
    void anOwnerSlowerThanTheTimeoutIsAnOwnerUnreachable() throws Exception {
        delayMs = 3_000;
        try (Forwarder forwarder = forwarder(Duration.ofMillis(300), Credentials.none())) {
            long started = System.nanoTime();
            ApiException error = failure(forwarder.forward(ownerHostPort(), "GET", "/api/v1/balance/42", new byte[0]));
            assertThat(error.status()).isEqualTo(503);
            assertThat(error.error()).isEqualTo("OWNER_UNREACHABLE");
            assertThat(error.retryAfterS()).isEqualTo(1);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(2_500);
        }
    }

    @Test
    void answersArriveOnTheForwardingThreads() throws Exception {
        // Answered well after the callback below is attached, so it runs where the answer arrives.
        delayMs = 200;
        try (Forwarder forwarder = forwarder(Duration.ofSeconds(5), Credentials.none())) {
            String thread = forwarder.forward(ownerHostPort(), "GET", "/api/v1/balance/42", new byte[0])
                    .thenApply(response -> Thread.currentThread().getName()).get(10, TimeUnit.SECONDS);
            assertThat(thread).startsWith("forward-");
        }
    }

    /**
     * Over HTTPS the owner's certificate must name the host it is reached at, as the JDK client
     * checked: a certificate for localhost is accepted at localhost and refused at 127.0.0.1.
     */
    @Test
    void overHttpsTheOwnersCertificateMustNameTheHost(@TempDir Path dir) throws Exception {
        KeyStore store = selfSignedForLocalhost(dir);
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, "changeit".toCharArray());
        SSLContext serverContext = SSLContext.getInstance("TLS");
        serverContext.init(keys.getKeyManagers(), null, null);
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("node", store.getCertificate("node"));
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext clientContext = SSLContext.getInstance("TLS");
        clientContext.init(null, trust.getTrustManagers(), null);

        HttpsServer secure = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        secure.setHttpsConfigurator(new HttpsConfigurator(serverContext));
        secure.createContext("/", this::handle);
        secure.start();
        int port = secure.getAddress().getPort();
        try (Forwarder forwarder = new Forwarder(Duration.ofSeconds(5), new NodeSigner(Credentials.none()), SELF,
                clientContext)) {
            Forwarder.Response named = forwarder.forward("localhost:" + port, "GET", "/api/v1/balance/42",
                    new byte[0]).get(10, TimeUnit.SECONDS);
            assertThat(named.status()).isEqualTo(200);

            ApiException unnamed = failure(forwarder.forward("127.0.0.1:" + port, "GET", "/api/v1/balance/42",
                    new byte[0]));
            assertThat(unnamed.error()).isEqualTo("OWNER_UNREACHABLE");
        } finally {
            secure.stop(0);
        }
        assertThat(seen).hasSize(1);
    }

    private static KeyStore selfSignedForLocalhost(Path dir) throws Exception {
        Path file = dir.resolve("node.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "node", "-keyalg", "EC",
                "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", file.toString(), "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("keytool finished").isTrue();
        assertThat(process.exitValue()).as("keytool: " + output).isZero();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(file)) {
            store.load(in, "changeit".toCharArray());
        }
        return store;
    }

    private static ApiException failure(CompletableFuture<Forwarder.Response> answer) throws Exception {
        Throwable error = catchThrowable(() -> answer.get(10, TimeUnit.SECONDS));
        assertThat(error).isInstanceOf(ExecutionException.class);
        Throwable cause = error.getCause();
        while (!(cause instanceof ApiException) && cause != null && cause.getCause() != null) {
            cause = cause.getCause();
        }
        assertThat(cause).isInstanceOf(ApiException.class);
        return (ApiException) cause;
    }
}
