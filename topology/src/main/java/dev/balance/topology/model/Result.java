package dev.balance.topology.model;

/**
 * Every outcome of a change has a name. Business outcomes are values, not exceptions:
 * a harmless replay and a conflicting reuse of an id are different results.
 */
public enum Result {
    /** The change was applied; the balance moved and its version grew by one. */
    APPLIED(0, Status.APPLIED),
    /** WITHDRAW, FREEZE or TRANSFER asked for more than the available amount. */
    INSUFFICIENT_FUNDS(1, Status.REJECTED),
    /** UNFREEZE or SETTLE asked for more than the frozen amount. */
    INSUFFICIENT_FROZEN(2, Status.REJECTED),
    /** The change would push available or frozen to {@link Amounts#BALANCE_LIMIT} or beyond. */
    BALANCE_LIMIT_EXCEEDED(3, Status.REJECTED),
    /** The transaction id was used before on this account with a different payload. */
    IDEMPOTENCY_CONFLICT(4, Status.CONFLICT),
    /** The command failed validation inside the topology (the API validates first). */
    INVALID_COMMAND(5, Status.INVALID);

    /** How a result is reported: it decides the HTTP status and whether state may have moved. */
    public enum Status { APPLIED, REJECTED, CONFLICT, INVALID }

    private static final Result[] BY_CODE = new Result[6];

    static {
        for (Result result : values()) {
            BY_CODE[result.code] = result;
        }
    }

    private final int code;
    private final Status status;

    Result(int code, Status status) {
        this.code = code;
        this.status = status;
    }

    public int code() {
        return code;
    }

    public Status status() {
        return status;
    }

    /** Returns the result with this code, or null when the code names no result. */
    public static Result ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /**
     * Results that are remembered for idempotency: the original verdict of a transaction id,
     * applied or rejected by the rules. Conflicts and invalid commands changed nothing and are
     * not a verdict on the id, so they are not remembered.
     */
    public boolean remembered() {
        return status == Status.APPLIED || status == Status.REJECTED;
    }
}
