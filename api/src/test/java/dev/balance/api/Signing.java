package dev.balance.api;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs requests as a client would, written from the contract (DESIGN §5) rather than with the
 * node's own code, so a node and its tests cannot agree on a wrong signed string.
 */
final class Signing {

    private Signing() {
    }

    /** X-Key-Id, X-Timestamp and X-Signature of hex HMAC-SHA256(secret, ts \n METHOD \n path_with_query \n body). */
    static Map<String, String> v2(String keyId, String secret, long timestampMs, String method, String pathWithQuery,
                                  String body) {
        String ts = Long.toString(timestampMs);
        return Map.of("X-Key-Id", keyId, "X-Timestamp", ts,
                "X-Signature", hmac(secret, ts + "\n" + method + "\n" + pathWithQuery + "\n" + body));
    }

    static Map<String, String> v2(String keyId, String secret, String method, String pathWithQuery, String body) {
        return v2(keyId, secret, System.currentTimeMillis(), method, pathWithQuery, body);
    }

    /** The earlier design: no key id, hex HMAC-SHA256(HMAC_SECRET, ts + ":" + body). */
    static Map<String, String> legacy(String secret, String body) {
        String ts = Long.toString(System.currentTimeMillis());
        return Map.of("X-Timestamp", ts, "X-Signature", hmac(secret, ts + ":" + body));
    }

    static String hmac(String secret, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
