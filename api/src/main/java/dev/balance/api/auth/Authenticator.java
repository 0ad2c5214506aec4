package dev.balance.api.auth;

import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Decides who signed a request, or why nobody did. Pure: the caller passes the clock, the
 * headers and the raw body; the HTTP layer turns a refusal into one 401 that tells the client
 * nothing an attacker could use, and keeps the {@link Refusal} for its metrics.
 */
public final class Authenticator {

    public static final String KEY_ID_HEADER = "X-Key-Id";
    public static final String TIMESTAMP_HEADER = "X-Timestamp";
    public static final String SIGNATURE_HEADER = "X-Signature";
    /** Most signatures a node may send on one forwarded request (one per node secret). */
    public static final int NODE_SIGNATURES_MAX = 16;

    private static final Pattern TIMESTAMP = Pattern.compile("[0-9]{1,18}");
    private static final Pattern SIGNATURE = Pattern.compile("[0-9a-f]{64}");

    /** Why a request was refused; each is answered with the same 401. */
    public enum Refusal {
        MISSING,
        MALFORMED,
        UNKNOWN_KEY,
        EXPIRED,
        BAD_SIGNATURE
    }

    /** What the authenticator needs of a request: {@code pathWithQuery} exactly as it was sent. */
    public record Request(String method, String pathWithQuery, UnaryOperator<String> headers, byte[] body) {
    }

    /** Either a caller or a refusal, never both. */
    public record Outcome(Caller caller, Refusal refusal) {
        static Outcome accepted(Caller caller) {
            return new Outcome(caller, null);
        }

        static Outcome refused(Refusal refusal) {
            return new Outcome(null, refusal);
        }

        public boolean accepted() {
            return caller != null;
        }
    }

    private final Credentials credentials;
    private final long windowMs;

    /** @param windowMs SIGNATURE_WINDOW_MS: how far X-Timestamp may be from this node's clock, either way */
    public Authenticator(Credentials credentials, long windowMs) {
        if (!credentials.enabled()) {
            throw new IllegalArgumentException("an authenticator needs keys or a secret");
        }
        this.credentials = credentials;
        this.windowMs = windowMs;
    }

    public Outcome authenticate(Request request, long nowMs) {
        String keyId = request.headers().apply(KEY_ID_HEADER);
        String timestamp = request.headers().apply(TIMESTAMP_HEADER);
        String signature = request.headers().apply(SIGNATURE_HEADER);
        if (timestamp == null || signature == null || (keyId == null && credentials.legacySecret() == null)) {
            return Outcome.refused(Refusal.MISSING);
        }
        if (!TIMESTAMP.matcher(timestamp).matches()) {
            return Outcome.refused(Refusal.MALFORMED);
        }
        if (Math.abs(nowMs - Long.parseLong(timestamp)) > windowMs) {
            return Outcome.refused(Refusal.EXPIRED);
        }
        signature = signature.trim().toLowerCase(Locale.ROOT);
        if (keyId == null) {
            return legacy(request, timestamp, signature);
        }
        if (keyId.equals(Caller.NODE_KEY_ID)) {
            return node(request, timestamp, signature);
        }
        return client(request, keyId, timestamp, signature);
    }

    private Outcome client(Request request, String keyId, String timestamp, String signature) {
        if (!SIGNATURE.matcher(signature).matches()) {
            return Outcome.refused(Refusal.MALFORMED);
        }
        List<ApiKey> candidates = credentials.keys(keyId);
        if (candidates.isEmpty()) {
            return Outcome.refused(Refusal.UNKNOWN_KEY);
        }
        // A key id listed twice (rotation) is valid under either secret.
        for (ApiKey key : candidates) {
            String expected = Signatures.v2(key.secret(), timestamp, request.method(), request.pathWithQuery(), request.body());
            if (Signatures.same(expected, signature)) {
                return Outcome.accepted(new Caller(key.id(), key.role()));
            }
        }
        return Outcome.refused(Refusal.BAD_SIGNATURE);
    }

    private Outcome legacy(Request request, String timestamp, String signature) {
        if (!SIGNATURE.matcher(signature).matches()) {
            return Outcome.refused(Refusal.MALFORMED);
        }
        String expected = Signatures.legacy(credentials.legacySecret(), timestamp, request.body());
        return Signatures.same(expected, signature)
                ? Outcome.accepted(new Caller(Caller.LEGACY_KEY_ID, Role.WRITE))
                : Outcome.refused(Refusal.BAD_SIGNATURE);
    }

    /** A forwarded request carries one v2 signature per node secret of the sender; one match with ours is enough. */
    private Outcome node(Request request, String timestamp, String signatures) {
        String[] given = signatures.split(",", NODE_SIGNATURES_MAX + 1);
        if (given.length > NODE_SIGNATURES_MAX) {
            return Outcome.refused(Refusal.MALFORMED);
        }
        for (String signature : given) {
            if (!SIGNATURE.matcher(signature).matches()) {
                return Outcome.refused(Refusal.MALFORMED);
            }
        }
        for (String secret : credentials.nodeSecrets()) {
            String expected = Signatures.v2(secret, timestamp, request.method(), request.pathWithQuery(), request.body());
            for (String signature : given) {
                if (Signatures.same(expected, signature)) {
                    return Outcome.accepted(new Caller(Caller.NODE_KEY_ID, Role.WRITE));
                }
            }
        }
        return Outcome.refused(Refusal.BAD_SIGNATURE);
    }
}
