package dev.balance.api.http;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 request signatures as in the original design: the signature is the hex HMAC of
 * {@code timestamp + ":" + body} under the shared secret, sent in {@code X-Signature} with the
 * timestamp (Unix milliseconds) in {@code X-Timestamp}. Nodes sign forwarded requests the same way.
 */
public final class RequestSigner {

    public static final String TIMESTAMP_HEADER = "X-Timestamp";
    public static final String SIGNATURE_HEADER = "X-Signature";

    private final SecretKeySpec key;
    private final long windowMs;

    public RequestSigner(String secret, long windowMs) {
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        this.windowMs = windowMs;
    }

    public String sign(String timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update(timestamp.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) ':');
            mac.update(body);
            return HexFormat.of().formatHex(mac.doFinal());
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Throws a 401 ApiException unless the signature is valid and the timestamp within the window. */
    public void verify(String timestamp, String signature, byte[] body, long nowMs) {
        if (timestamp == null || signature == null) {
            throw new ApiException(401, "UNAUTHORIZED", "X-Timestamp and X-Signature headers are required");
        }
        long sentMs;
        try {
            sentMs = Long.parseLong(timestamp);
        } catch (NumberFormatException e) {
            throw new ApiException(401, "UNAUTHORIZED", "X-Timestamp must be Unix milliseconds");
        }
        if (sentMs < nowMs - windowMs || sentMs > nowMs + windowMs) {
            throw new ApiException(401, "UNAUTHORIZED", "X-Timestamp is outside the allowed window of " + windowMs + " ms");
        }
        byte[] expected = sign(timestamp, body).getBytes(StandardCharsets.US_ASCII);
        byte[] given = signature.toLowerCase().getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, given)) {
            throw new ApiException(401, "UNAUTHORIZED", "signature does not match");
        }
    }
}
