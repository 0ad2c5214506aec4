package dev.balance.api.http;

import java.util.Map;

/**
 * A request that is answered with an error. Handlers throw it; {@link HttpApi} maps it to a JSON
 * body in one place. Never used for business outcomes (those are verdicts).
 *
 * @see HttpApi
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String error;
    private final Map<String, String> details;
    private final Integer retryAfterS;

    public ApiException(int status, String error, String message) {
        this(status, error, message, Map.of(), null);
    }

    public ApiException(int status, String error, String message, Map<String, String> details, Integer retryAfterS) {
        super(message, null, false, false);
        this.status = status;
        this.error = error;
        this.details = details;
        this.retryAfterS = retryAfterS;
    }

    public static ApiException validation(String message, Map<String, String> details) {
        return new ApiException(400, "VALIDATION_FAILED", message, details, null);
    }

    public static ApiException notReady(String message) {
        return new ApiException(503, "NOT_READY", message, Map.of(), 1);
    }

    public int status() {
        return status;
    }

    public String error() {
        return error;
    }

    public Map<String, String> details() {
        return details;
    }

    public Integer retryAfterS() {
        return retryAfterS;
    }
}
