package dev.balance.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The node's listener holds a burst of new connections while Jetty is not accepting them, instead of
 * letting the kernel drop the attempts beyond the JDK's default backlog of 50 (a dropped attempt
 * waits a second for its SYN to be sent again). A real Jetty server and sockets.
 */
class AcceptQueueTest {

    private static final int BURST = 300;

    private Server server;
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (Socket socket : sockets) {
            socket.close();
        }
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void shouldQueueABurstOfConnectionsThatJettyHasNotAcceptedYet() throws Exception {
        server = new Server();
        ServerConnector connector = HttpApi.connector(server, "127.0.0.1", 0,
                new HttpConnectionFactory(new HttpConfiguration()));
        server.addConnector(connector);
        server.start();
        // Jetty stops taking connections off the queue, as it would while its threads are busy.
        connector.setAccepting(false);

        int connected = 0;
        for (int i = 0; i < BURST; i++) {
            Socket socket = new Socket();
            sockets.add(socket);
            try {
                // Queued connections complete their handshake at once; a dropped one would wait 1 s.
                socket.connect(new InetSocketAddress("127.0.0.1", connector.getLocalPort()), 500);
                connected++;
            } catch (java.net.SocketTimeoutException e) {
                break;
            }
        }

        assertThat(connected).as("connections queued by the kernel while Jetty accepted none").isEqualTo(BURST);
        assertThat(connector.getAcceptQueueSize()).isEqualTo(HttpApi.ACCEPT_QUEUE_SIZE);
    }
}
