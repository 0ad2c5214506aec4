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

/** The node's HTTP server drains at a stop: requests in flight finish first; a real Jetty server and sockets. */
class DrainOnStopTest {

    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch entered = new CountDownLatch(1);
    private Server server;

    @AfterEach
    void stopServer() throws Exception {
        release.countDown();
        if (server != null && !server.isStopped()) {
            server.stop();
        }
    }

    @Test
    void shouldLetARequestInFlightFinishBeforeTheServerStops() throws Exception {
        Handler slow = new Handler.Abstract() {
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
        };
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(slow);
        HttpApi.drainOnStop(server, 20_000);
        server.start();
        int port = connector.getLocalPort();

        try (Socket inFlight = new Socket("127.0.0.1", port); Socket keptAlive = new Socket("127.0.0.1", port)) {
            // A kept-alive connection, used once before the stop.
            assertThat(exchange(keptAlive, "/fast")).startsWith("HTTP/1.1 200");
            send(inFlight, "/slow");
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> {
                try {
                    server.stop();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.isRunning());

            // An idle connection is closed without an answer (a client retries it on another node) ...
            keptAlive.setSoTimeout(10_000);
            assertThat(keptAlive.getInputStream().read()).isEqualTo(-1);
            // ... while the stop waits for the request in flight, which then gets its answer.
            assertThat(stopping).isNotDone();


            release.countDown();
            assertThat(read(inFlight)).startsWith("HTTP/1.1 200").endsWith("done");
            stopping.get(20, TimeUnit.SECONDS);
        }
    }
}
