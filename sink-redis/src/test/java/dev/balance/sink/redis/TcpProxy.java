package dev.balance.sink.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay between a client and a server that a test can cut: cutting closes every open
 * connection and refuses new ones, as a network outage or a server going away does, while the
 * server behind it keeps its data.
 */
final class TcpProxy implements AutoCloseable {

    private static final int BUFFER_BYTES = 64 * 1024;

    private final int upstreamPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final int port;
    private volatile ServerSocket server;

    TcpProxy(int upstreamPort) {
        this.upstreamPort = upstreamPort;
        this.server = bind(0);
        this.port = server.getLocalPort();
        acceptInBackground(server);
    }

    String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** Closes every relayed connection and stops accepting new ones. */
    void cut() {
        closeQuietly(server);
        for (Socket socket : sockets) {
            closeQuietly(socket);
        }
        sockets.clear();
    }

    /** Accepts connections again on the same port. */
    void restore() {
        server = bind(port);
        acceptInBackground(server);
    }

    @Override
    public void close() {
        cut();
    }

    private void acceptInBackground(ServerSocket listening) {
        Thread acceptor = new Thread(() -> acceptLoop(listening), "proxy-accept-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void acceptLoop(ServerSocket listening) {
        while (!listening.isClosed()) {
            Socket client;
            try {
                client = listening.accept();
            } catch (IOException e) {
                // accept fails once the listening socket is closed by cut(): the loop ends there.
                if (!listening.isClosed()) {
                    throw new UncheckedIOException(e);
                }
                return;
            }
            connect(client);
        }
    }

    private void connect(Socket client) {
        try {
            Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
            sockets.add(client);
            sockets.add(upstream);
            relay(client, upstream);
            relay(upstream, client);
        } catch (IOException e) {
            // The server behind is unreachable: the client sees its connection closed, like a real outage.
            closeQuietly(client);
        }
    }

    private void relay(Socket from, Socket to) {
        Thread copier = new Thread(() -> {
            byte[] buffer = new byte[BUFFER_BYTES];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                    out.write(buffer, 0, read);
                    out.flush();
                }
            } catch (IOException e) {
                // A cut or either side closing ends the relay; the other direction closes with it.
                closeQuietly(to);
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "proxy-relay");
        copier.setDaemon(true);
        copier.start();
    }

    private static ServerSocket bind(int port) {
        try {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return socket;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // Closing an already broken socket can fail; it is closed either way.
            return;
        }
    }
}
