package dev.balance.api.auth;

import java.util.Locale;

/** What a key may do: {@code read} keys call the {@link Access#READ} routes, {@code write} keys every route. */
public enum Role {
    READ,
    WRITE;

    public boolean permits(Access access) {
        return switch (access) {
            case PUBLIC, READ -> true;
            case WRITE -> this == WRITE;
        };
    }

    static Role parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "read" -> READ;
            case "write" -> WRITE;
            default -> throw new IllegalArgumentException("API_KEYS: role must be read or write, got '" + text + "'");
        };
    }
}
