package dev.balance.api.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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

    private static String exchange(Socket socket, String path) throws IOException {
        send(socket, path);
        return read(socket);
    }

    private static void send(Socket socket, String path) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One answer with a Content-Length body (all these answers have one). */
    private static String read(Socket socket) throws IOException {
        socket.setSoTimeout(20_000);
        InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head);
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
}
