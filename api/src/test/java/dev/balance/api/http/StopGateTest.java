package dev.balance.api.http;

import static dev.balance.api.http.RawHttp.exchange;
import static dev.balance.api.http.RawHttp.read;
import static dev.balance.api.http.RawHttp.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A stop turns new requests away with 503 while its port stays open (so no other node takes it for
 * dead), and waits for the requests in flight; a real Jetty server and sockets.
 */
class StopGateTest {

    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch entered = new CountDownLatch(1);
    private Server server;

    @AfterEach
    void stopServer() throws Exception {
        release.countDown();
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void shouldAnswerNewRequests503WithThePortOpenAndWaitForThoseInFlight() throws Exception {
        StopGate gate = new StopGate();
        gate.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                if (request.getHttpURI().getPath().equals("/slow")) {
                    entered.countDown();
                    release.await(30, TimeUnit.SECONDS);
                }
                response.setStatus(200);
                response.write(true, ByteBuffer.wrap("done".getBytes(StandardCharsets.US_ASCII)), callback);
                return true;
            }
        });
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(gate);
        server.start();
        int port = connector.getLocalPort();

        try (Socket inFlight = new Socket("127.0.0.1", port); Socket keptAlive = new Socket("127.0.0.1", port)) {
            assertThat(exchange(keptAlive, "/fast")).startsWith("HTTP/1.1 200");
            send(inFlight, "/slow");
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            // The gate counts /fast out only after Jetty completed its answer, which the client may
            // already have read: wait for the count rather than race it.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(gate.inFlight()).isEqualTo(1));

            // When a stop begins while one request is in flight
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> {
                try {
                    return gate.stopAndDrain(20_000);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(gate::stopping);

            // Then a request on a kept-alive connection and one on a new connection (the port is open) get 503
            String onKeptAlive = exchange(keptAlive, "/fast");
            assertThat(onKeptAlive).startsWith("HTTP/1.1 503").contains("Retry-After: 1").contains("STOPPING");
            try (Socket fresh = new Socket("127.0.0.1", port)) {
                assertThat(exchange(fresh, "/fast")).startsWith("HTTP/1.1 503");
            }
            // ... while the drain waits for the request in flight, which then gets its answer
            assertThat(drained).isNotDone();
            release.countDown();
            assertThat(read(inFlight)).startsWith("HTTP/1.1 200").endsWith("done");
            assertThat(drained.get(20, TimeUnit.SECONDS)).isTrue();
            assertThat(gate.inFlight()).isZero();
        }
    }
}
