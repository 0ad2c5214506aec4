package dev.balance.api.query;

import dev.balance.api.auth.NodeSigner;
import dev.balance.api.http.ApiException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLContext;

/**
 * Sends a request to the node that owns the account, once. The receiving node sees
 * {@link #FORWARDED_HEADER} and handles the request itself whatever its metadata says, so a
 * request is never forwarded twice even while ownership moves. One HTTP client for the node.
 * Forwarded requests are signed with the node key ({@link NodeSigner}), bound to their method,
 * path and body, and go over HTTPS when the nodes serve HTTPS.
 */
public final class Forwarder {

    public static final String FORWARDED_HEADER = "X-Balance-Forwarded";

    /** The owner's answer, passed back to the client as it is. */
    public record Response(int status, byte[] body, String location, String retryAfter) {
    }

    private final HttpClient client;
    private final Duration timeout;
    private final NodeSigner signer;
    private final String selfHostPort;
    private final String scheme;

    /** @param tls the context to reach other nodes over HTTPS with; null when the nodes serve plain HTTP */
    public Forwarder(Duration timeout, NodeSigner signer, String selfHostPort, SSLContext tls) {
        HttpClient.Builder client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(Math.min(timeout.toMillis(), 2_000)))
                .version(HttpClient.Version.HTTP_1_1);
        if (tls != null) {
            client.sslContext(tls);
        }
        this.client = client.build();
        this.timeout = timeout;
        this.signer = signer;
        this.selfHostPort = selfHostPort;
        this.scheme = tls == null ? "http://" : "https://";
    }

    public CompletableFuture<Response> forward(String hostPort, String method, String pathAndQuery, byte[] body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(scheme + hostPort + pathAndQuery))
                .timeout(timeout)
                .header(FORWARDED_HEADER, selfHostPort)
                .header("Content-Type", "application/json");
        signer.headers(method, pathAndQuery, body, System.currentTimeMillis()).forEach(request::header);
        request.method(method, body.length == 0 && method.equals("GET")
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        return client.sendAsync(request.build(), HttpResponse.BodyHandlers.ofByteArray())
                .thenApply(response -> new Response(response.statusCode(), response.body(),
                        response.headers().firstValue("Location").orElse(null),
                        response.headers().firstValue("Retry-After").orElse(null)))
                .exceptionally(error -> {
                    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                    throw new ApiException(503, "OWNER_UNREACHABLE", "the node owning this account (" + hostPort
                            + ") did not answer: " + cause.getClass().getSimpleName(), java.util.Map.of(), 1);
                });
    }
}
