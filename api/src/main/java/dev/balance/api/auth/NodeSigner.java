package dev.balance.api.auth;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Signs the requests a node forwards to the owner of an account: v2 signatures (bound to method,
 * path and body) under every node secret, with key id {@link Caller#NODE_KEY_ID}. Without
 * credentials (development mode) it adds nothing.
 */
public final class NodeSigner {

    private final List<String> secrets;

    public NodeSigner(Credentials credentials) {
        this.secrets = credentials.nodeSecrets();
    }

    /** The headers to add to a forwarded request; empty in development mode. */
    public Map<String, String> headers(String method, String pathWithQuery, byte[] body, long nowMs) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (secrets.isEmpty()) {
            return headers;
        }
        String timestamp = Long.toString(nowMs);
        headers.put(Authenticator.KEY_ID_HEADER, Caller.NODE_KEY_ID);
        headers.put(Authenticator.TIMESTAMP_HEADER, timestamp);
        headers.put(Authenticator.SIGNATURE_HEADER, secrets.stream()
                .map(secret -> Signatures.v2(secret, timestamp, method, pathWithQuery, body))
                .collect(Collectors.joining(",")));
        return headers;
    }
}
