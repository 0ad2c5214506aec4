package dev.balance.sink.mysql;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of the database that a test can break: {@link #cut()} closes every open
 * connection and turns new ones away (accepted, then closed at once, as a server that is going
 * down does); {@link #restore()} lets them through again. {@link #cutAfterBytes(long)} cuts in the
 * middle of the traffic, once the client has sent that many more bytes.
 */
final class TcpProxy implements AutoCloseable {

    private static final int BUFFER_BYTES = 16 * 1024;

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytesBeforeCut = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong connectionsAccepted = new AtomicLong();
    private volatile boolean refusing;
    private volatile boolean closed;

    TcpProxy(String targetHost, int targetPort) throws IOException {
        this.target = new InetSocketAddress(targetHost, targetPort);
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "tcp-proxy-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Closes every open connection and turns new ones away until {@link #restore()}. */
    void cut() {
        refusing = true;
        for (Socket socket : sockets) {
            closeQuietly(socket);
        }
        sockets.clear();
    }

    void restore() {
        bytesBeforeCut.set(Long.MAX_VALUE);
        refusing = false;
    }

    /** Cuts (as {@link #cut()}) once clients have sent this many more bytes towards the server. */
    void cutAfterBytes(long bytes) {
        bytesBeforeCut.set(bytes);
    }

    boolean isCut() {
        return refusing;
    }

    long connectionsAccepted() {
        return connectionsAccepted.get();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            if (refusing) {
                closeQuietly(client);
                continue;
            }
            connectionsAccepted.incrementAndGet();
            connect(client);
        }
    }

    private void connect(Socket client) {
        Socket upstream = new Socket();
        try {
            upstream.connect(target, 5000);
        } catch (IOException e) {
            closeQuietly(client);
            closeQuietly(upstream);
            return;
        }
        sockets.add(client);
        sockets.add(upstream);
        pump(client, upstream, true);
        pump(upstream, client, false);
    }

    private void pump(Socket from, Socket to, boolean towardsServer) {
        Thread thread = new Thread(() -> copy(from, to, towardsServer), "tcp-proxy-pump-" + port());
        thread.setDaemon(true);
        thread.start();
    }

    private void copy(Socket from, Socket to, boolean towardsServer) {
        byte[] buffer = new byte[BUFFER_BYTES];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                if (towardsServer && bytesBeforeCut.addAndGet(-read) < 0) {
                    cut();
                    return;
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (SocketException e) {
            // The other direction, a cut or a closing peer closed the socket: the copy is over.
            return;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            sockets.remove(from);
            sockets.remove(to);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // Closing a socket that is already broken can fail; it is closed either way.
            return;
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        cut();
    }
}
