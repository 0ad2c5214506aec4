package dev.balance.sink.redis;

import dev.balance.topology.model.BalanceEvent;
import java.math.BigDecimal;
import java.util.Objects;

/**
 * One field of a balance hash: the snapshot of one account in one currency, and its text form.
 *
 * <p>The hash is {@code {prefix}balance:{account_id}}, the field is the currency code and the value
 * is {@code version|available|frozen|updated_at_ms}, for example {@code 7|1.50000000|0.25000000|1732350000000}.
 * The version is a decimal integer without leading zeros; it comes first so the guard script
 * compares versions without parsing amounts. Amounts are plain decimal strings (no exponent, no
 * sign) with exactly the currency's number of decimals, as the API shows them. {@code updated_at_ms}
 * is the record time of the change in epoch milliseconds. Readers split on {@code |} and must
 * ignore any further parts, so a field can be added at the end without breaking them.
 */
public record SnapshotValue(long version, BigDecimal available, BigDecimal frozen, long updatedAtMs) {

    private static final char SEPARATOR = '|';

    public SnapshotValue {
        Objects.requireNonNull(available, "available");
        Objects.requireNonNull(frozen, "frozen");
        if (version < 0 || available.signum() < 0 || frozen.signum() < 0) {
            // The topology never emits a negative balance or version: one here is a bug upstream.
            throw new IllegalStateException("snapshot invariant broken: version=" + version + " available="
                    + available + " frozen=" + frozen);
        }
    }

    /** The balance after an applied event. */
    public static SnapshotValue of(BalanceEvent event) {
        return new SnapshotValue(event.version(), event.availableAfter(), event.frozenAfter(), event.timestampMs());
    }

    /** The text stored in the hash field. */
    public String encode() {
        return Long.toString(version) + SEPARATOR + available.toPlainString() + SEPARATOR + frozen.toPlainString()
                + SEPARATOR + updatedAtMs;
    }

    /** Parses a stored field value; trailing parts beyond the four known ones are ignored. */
    public static SnapshotValue decode(String text) {
        String[] parts = text.split("\\|", -1);
        if (parts.length < 4) {
            throw new IllegalArgumentException("snapshot value needs version|available|frozen|updated_at_ms, got '"
                    + text + "'");
        }
        try {
            return new SnapshotValue(Long.parseLong(parts[0]), new BigDecimal(parts[1]), new BigDecimal(parts[2]),
                    Long.parseLong(parts[3]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("snapshot value has a malformed number: '" + text + "'", e);
        }
    }

    /** The hash of an account: {@code {prefix}balance:{account_id}}. */
    public static String key(String keyPrefix, long accountId) {
        return keyPrefix + "balance:" + accountId;
    }
}
