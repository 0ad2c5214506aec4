package dev.balance.api.query;

import dev.balance.api.auth.NodeSigner;
import dev.balance.api.http.ApiException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;

/**
 * Sends a request to the node that owns the account, once. The receiving node sees
 * {@link #FORWARDED_HEADER} and handles the request itself whatever its metadata says, so a
 * request is never forwarded twice even while ownership moves. One HTTP client for the node.
 * Forwarded requests are signed with the node key ({@link NodeSigner}), bound to their method,
 * path and body, and go over HTTPS when the nodes serve HTTPS.
 *
 * <p>The client is Jetty's, the one the node's server is built on: HTTP/1.1 over kept-alive
 * connections, at most {@link #CONNECTIONS_PER_OWNER} to each owner, its I/O on a few threads named
 * {@code forward-}. The JDK's {@code java.net.http.HttpClient} cost about a millisecond of CPU per
 * forwarded read on two cores. The returned future completes on one of the client's threads, never
 * on one that is selecting: the client's connections declare their work as blocking, so Jetty hands
 * reading and parsing to a pool thread (or hands the selecting on to another) before the callbacks
 * run. The callers write the answer to their own request there, as they did on the JDK client's
 * executor.
 */
public final class Forwarder implements AutoCloseable {

    public static final String FORWARDED_HEADER = "X-Balance-Forwarded";
    /** Kept-alive connections to one owner: more than the requests a node has in flight to it under load. */
    static final int CONNECTIONS_PER_OWNER = 64;
    /** Requests waiting for a connection to one owner beyond that; more fail at once as OWNER_UNREACHABLE. */
    static final int QUEUED_PER_OWNER = 4_096;
    /**
     * Threads are started on demand and a few do the work; the ceiling leaves room for callers whose
     * write of an answer to a slow client blocks a while on the thread the owner's answer came on.
     */
    private static final int THREADS_MIN = 2;
    private static final int THREADS_MAX = 32;
    private static final int CONNECT_TIMEOUT_MS_MAX = 2_000;
    /** The largest answer taken from an owner: a batch of verdicts or a lookup is well below it. */
    private static final int ANSWER_BYTES_MAX = 64 * 1024 * 1024;

    /** The owner's answer, passed back to the client as it is. */
    public record Response(int status, byte[] body, String location, String retryAfter) {
    }

    private final HttpClient client;
    private final long timeoutMs;
    private final NodeSigner signer;
    private final String selfHostPort;
    private final String scheme;

    /** @param tls the context to reach other nodes over HTTPS with; null when the nodes serve plain HTTP */
    public Forwarder(Duration timeout, NodeSigner signer, String selfHostPort, SSLContext tls) {
        ClientConnector connector = new ClientConnector();
        connector.setSelectors(1);
        if (tls != null) {
            SslContextFactory.Client ssl = new SslContextFactory.Client();
            ssl.setSslContext(tls);
            // As the JDK client did: the owner's certificate must name the host it is reached at.
            ssl.setEndpointIdentificationAlgorithm("HTTPS");
            connector.setSslContextFactory(ssl);
        }
        QueuedThreadPool threads = new QueuedThreadPool(THREADS_MAX, THREADS_MIN);
        threads.setName("forward");
        threads.setDaemon(true);
        HttpClient client = new HttpClient(new HttpClientTransportOverHTTP(connector));
        client.setExecutor(threads);
        client.setScheduler(new ScheduledExecutorScheduler("forward-scheduler", true));
        client.setConnectTimeout(Math.min(timeout.toMillis(), CONNECT_TIMEOUT_MS_MAX));
        client.setMaxConnectionsPerDestination(CONNECTIONS_PER_OWNER);
        client.setMaxRequestsQueuedPerDestination(QUEUED_PER_OWNER);
        client.setFollowRedirects(false);
        client.setUserAgentField(null);
        // Nodes answer uncompressed; without decoders no Accept-Encoding is sent either.
        client.getContentDecoderFactories().clear();
        try {
            client.start();
        } catch (Exception e) {
            throw new IllegalStateException("the forwarding HTTP client did not start", e);
        }
        this.client = client;
        this.timeoutMs = timeout.toMillis();
        this.signer = signer;
        this.selfHostPort = selfHostPort;
        this.scheme = tls == null ? "http://" : "https://";
    }

    public CompletableFuture<Response> forward(String hostPort, String method, String pathAndQuery, byte[] body) {
        CompletableFuture<ContentResponse> sent;
        try {
            Request request = client.newRequest(scheme + hostPort + pathAndQuery)
                    .method(method)
                    .timeout(timeoutMs, TimeUnit.MILLISECONDS)
                    .headers(headers -> {
                        headers.put(FORWARDED_HEADER, selfHostPort);
                        headers.put(HttpHeader.CONTENT_TYPE, "application/json");
                        signer.headers(method, pathAndQuery, body, System.currentTimeMillis()).forEach(headers::put);
                    });
            if (body.length > 0 || !method.equals("GET")) {
                request.body(new BytesRequestContent("application/json", body));
            }
            sent = new CompletableResponseListener(request, ANSWER_BYTES_MAX).send();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((response, error) -> {
            if (error != null) {
                if (refused(error)) {
                    java.util.function.Consumer<String> listener = refusedListener;
                    if (listener != null) {
                        listener.accept(hostPort);
                    }
                }
                throw unreachable(hostPort, error);
            }
            return new Response(response.getStatus(), response.getContent(),
                    response.getHeaders().get(HttpHeader.LOCATION), response.getHeaders().get(HttpHeader.RETRY_AFTER));
        });
    }

    private volatile java.util.function.Consumer<String> refusedListener;

    /** Told the host:port of every node that refused a connection (nothing listens there). */
    public void onRefused(java.util.function.Consumer<String> listener) {
        this.refusedListener = listener;
    }

    /** True when the connection was refused: no process listens on the port, as after a kill. */
    static boolean refused(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof java.net.ConnectException && String.valueOf(cause.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("refused")) {
                return true;
            }
        }
        return false;
    }

    private static ApiException unreachable(String hostPort, Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return new ApiException(503, "OWNER_UNREACHABLE", "the node owning this account (" + hostPort
                + ") did not answer: " + cause.getClass().getSimpleName(), Map.of(), 1);
    }

    /** Stops the client: requests still under way fail as OWNER_UNREACHABLE. */
    @Override
    public void close() {
        try {
            client.stop();
        } catch (Exception e) {
            // Stopping is best effort; the node is going away.
        }
    }
}
