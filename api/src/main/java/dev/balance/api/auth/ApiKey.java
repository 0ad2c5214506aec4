package dev.balance.api.auth;

import java.util.regex.Pattern;

/**
 * One entry of {@code API_KEYS}: a key id, its secret and its role. The same id may appear with
 * two secrets while a secret is rotated. {@link #toString()} never shows the secret.
 */
public record ApiKey(String id, String secret, Role role) {

    /** Ids clients may use; ids of the node itself start with '@' and so never clash with one. */
    static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** Shortest secret accepted in API_KEYS and NODE_SECRET: 16 characters. */
    public static final int SECRET_CHARS_MIN = 16;

    public ApiKey {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("API_KEYS: a key id is 1-64 characters of [A-Za-z0-9._-], got '" + id + "'");
        }
        if (secret == null || secret.length() < SECRET_CHARS_MIN) {
            throw new IllegalArgumentException("API_KEYS: the secret of key " + id + " must have at least "
                    + SECRET_CHARS_MIN + " characters");
        }
        if (role == null) {
            throw new IllegalArgumentException("API_KEYS: key " + id + " needs a role");
        }
    }

    @Override
    public String toString() {
        return "ApiKey[" + id + ", role=" + role + "]";
    }
}
