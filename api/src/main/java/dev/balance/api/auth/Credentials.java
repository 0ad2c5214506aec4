package dev.balance.api.auth;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The secrets of a node, read once at start: the client keys of {@code API_KEYS}, the earlier
 * design's {@code HMAC_SECRET}, and the secrets nodes sign forwarded requests with. Immutable;
 * {@link #toString()} never shows a secret.
 *
 * <p>Node secrets come from {@code NODE_SECRET} (comma-separated, so one can be rotated like a
 * client key) or, when it is unset, are derived from each write secret (HMAC_SECRET and the
 * write keys): a node signs a forwarded request under every node secret it has and accepts a
 * request that matches any of its own, so nodes keep talking while a secret is rotated one node at
 * a time. Read secrets are never used: a read key must not be able to sign as a node.
 */
public final class Credentials {

    /** What a node secret is derived from a write secret with; changing it splits a cluster in two. */
    private static final byte[] NODE_KEY_LABEL = "balance node-to-node v1".getBytes(StandardCharsets.UTF_8);

    private final List<ApiKey> keys;
    private final Map<String, List<ApiKey>> keysById;
    private final String legacySecret;
    private final List<String> nodeSecrets;

    private Credentials(List<ApiKey> keys, String legacySecret, List<String> nodeSecrets) {
        this.keys = List.copyOf(keys);
        Map<String, List<ApiKey>> byId = new HashMap<>();
        keys.forEach(key -> byId.computeIfAbsent(key.id(), id -> new ArrayList<>()).add(key));
        byId.replaceAll((id, entries) -> List.copyOf(entries));
        this.keysById = Map.copyOf(byId);
        this.legacySecret = legacySecret;
        this.nodeSecrets = List.copyOf(nodeSecrets);
    }

    /** No keys and no secret: development mode, requests are not authenticated. */
    public static Credentials none() {
        return new Credentials(List.of(), null, List.of());
    }

    /**
     * @param apiKeys      API_KEYS: {@code key_id:secret:role,...} (blank or null: none)
     * @param hmacSecret   HMAC_SECRET (blank or null: none)
     * @param nodeSecret   NODE_SECRET: comma-separated (blank or null: derived from the write secrets)
     */
    public static Credentials parse(String apiKeys, String hmacSecret, String nodeSecret) {
        List<ApiKey> keys = parseKeys(apiKeys);
        String legacy = blank(hmacSecret) ? null : hmacSecret;
        List<String> nodeSecrets = new ArrayList<>();
        if (!blank(nodeSecret)) {
            for (String secret : nodeSecret.split(",")) {
                if (secret.length() < ApiKey.SECRET_CHARS_MIN) {
                    throw new IllegalArgumentException("NODE_SECRET: each secret must have at least "
                            + ApiKey.SECRET_CHARS_MIN + " characters");
                }
                nodeSecrets.add(secret);
            }
        } else if (legacy != null || !keys.isEmpty()) {
            Set<String> derived = new LinkedHashSet<>();
            if (legacy != null) {
                derived.add(Signatures.hmacHex(legacy, NODE_KEY_LABEL));
            }
            keys.stream().filter(key -> key.role() == Role.WRITE)
                    .forEach(key -> derived.add(Signatures.hmacHex(key.secret(), NODE_KEY_LABEL)));
            if (derived.isEmpty()) {
                throw new IllegalArgumentException("API_KEYS has no write key and HMAC_SECRET is unset, so there is no "
                        + "secret to derive the node-to-node key from: set NODE_SECRET");
            }
            nodeSecrets.addAll(derived);
        }
        if (nodeSecrets.size() > Authenticator.NODE_SIGNATURES_MAX) {
            throw new IllegalArgumentException("at most " + Authenticator.NODE_SIGNATURES_MAX + " node secrets (one is "
                    + "derived from each write key unless NODE_SECRET is set): set NODE_SECRET");
        }
        return new Credentials(keys, legacy, nodeSecrets);
    }

    private static List<ApiKey> parseKeys(String text) {
        List<ApiKey> keys = new ArrayList<>();
        if (blank(text)) {
            return keys;
        }
        Map<String, Role> roles = new HashMap<>();
        for (String entry : text.split(",")) {
            String trimmed = entry.trim();
            int first = trimmed.indexOf(':');
            int last = trimmed.lastIndexOf(':');
            if (first <= 0 || last == first) {
                throw new IllegalArgumentException("API_KEYS: entries are key_id:secret:role, one of them is not");
            }
            // The secret is everything between the first and the last colon, so it may hold colons itself.
            ApiKey key = new ApiKey(trimmed.substring(0, first), trimmed.substring(first + 1, last),
                    Role.parse(trimmed.substring(last + 1)));
            Role earlier = roles.putIfAbsent(key.id(), key.role());
            if (earlier != null && earlier != key.role()) {
                throw new IllegalArgumentException("API_KEYS: key " + key.id() + " appears with two roles; "
                        + "a key id given twice (rotation) keeps one role");
            }
            keys.add(key);
        }
        return keys;
    }

    /** True when requests must be signed. */
    public boolean enabled() {
        return !keys.isEmpty() || legacySecret != null;
    }

    public List<ApiKey> keys() {
        return keys;
    }

    /** The entries of one key id: one, or two while its secret is rotated; empty for an unknown id. */
    public List<ApiKey> keys(String id) {
        return keysById.getOrDefault(id, List.of());
    }

    /** HMAC_SECRET, or null. */
    public String legacySecret() {
        return legacySecret;
    }

    public List<String> nodeSecrets() {
        return nodeSecrets;
    }

    @Override
    public String toString() {
        return "Credentials[keys=" + keys + ", hmacSecret=" + (legacySecret == null ? "unset" : "set")
                + ", nodeSecrets=" + nodeSecrets.size() + "]";
    }

    private static boolean blank(String text) {
        return text == null || text.isBlank();
    }
}
