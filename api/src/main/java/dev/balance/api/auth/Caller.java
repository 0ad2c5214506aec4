package dev.balance.api.auth;

/**
 * Who signed a request: a client key (v2), the earlier design's shared secret ({@link #LEGACY_KEY_ID}),
 * or another node of the cluster ({@link #NODE_KEY_ID}).
 */
public record Caller(String keyId, Role role) {

    /** The id audit lines show for requests signed with HMAC_SECRET in the earlier design's scheme. */
    public static final String LEGACY_KEY_ID = "@legacy";
    /** The key id nodes send on forwarded requests; configured ids cannot start with '@'. */
    public static final String NODE_KEY_ID = "@node";

    public boolean isNode() {
        return NODE_KEY_ID.equals(keyId);
    }
}
