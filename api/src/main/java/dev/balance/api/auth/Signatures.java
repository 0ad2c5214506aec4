package dev.balance.api.auth;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signed strings of both schemes and their hex HMAC-SHA256.
 *
 * <ul>
 *   <li>v2 (clients and nodes): {@code timestamp + "\n" + METHOD + "\n" + path_with_query + "\n" + body},
 *       so a signature is bound to one method and one path as well as the body;</li>
 *   <li>the earlier design's (HMAC_SECRET, no key id): {@code timestamp + ":" + body}.</li>
 * </ul>
 */
public final class Signatures {

    private static final HexFormat HEX = HexFormat.of();

    private Signatures() {
    }

    public static String v2(String secret, String timestamp, String method, String pathWithQuery, byte[] body) {
        byte[] head = (timestamp + "\n" + method + "\n" + pathWithQuery + "\n").getBytes(StandardCharsets.UTF_8);
        return hmacHex(secret, head, body);
    }

    public static String legacy(String secret, String timestamp, byte[] body) {
        return hmacHex(secret, (timestamp + ":").getBytes(StandardCharsets.UTF_8), body);
    }

    static String hmacHex(String secret, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            for (byte[] part : parts) {
                mac.update(part);
            }
            return HEX.formatHex(mac.doFinal());
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Compares in time independent of where the first difference is. */
    static boolean same(String expectedHex, String givenHex) {
        return MessageDigest.isEqual(expectedHex.getBytes(StandardCharsets.US_ASCII),
                givenHex.getBytes(StandardCharsets.US_ASCII));
    }
}
