package dev.balance.api.query;

import dev.balance.api.http.ApiException;
import dev.balance.api.http.RequestSigner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Sends a request to the node that owns the account, once. The receiving node sees
 * {@link #FORWARDED_HEADER} and handles the request itself whatever its metadata says, so a
 * request is never forwarded twice even while ownership moves. One HTTP client for the node.
 */
public final class Forwarder {

    public static final String FORWARDED_HEADER = "X-Balance-Forwarded";

    /** The owner's answer, passed back to the client as it is. */
    public record Response(int status, byte[] body, String location, String retryAfter) {
    }

    private final HttpClient client;
    private final Duration timeout;
    private final RequestSigner signer;
    private final String selfHostPort;

    public Forwarder(Duration timeout, RequestSigner signer, String selfHostPort) {
        this.client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(Math.min(timeout.toMillis(), 2_000)))
                .version(HttpClient.Version.HTTP_1_1)
                .build();
        this.timeout = timeout;
        this.signer = signer;
        this.selfHostPort = selfHostPort;
    }

    public CompletableFuture<Response> forward(String hostPort, String method, String pathAndQuery, byte[] body) {
        String timestamp = Long.toString(System.currentTimeMillis());
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + hostPort + pathAndQuery))
                .timeout(timeout)
                .header(FORWARDED_HEADER, selfHostPort)
                .header("Content-Type", "application/json");
        if (signer != null) {
            request.header(RequestSigner.TIMESTAMP_HEADER, timestamp)
                    .header(RequestSigner.SIGNATURE_HEADER, signer.sign(timestamp, body));
        }
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
