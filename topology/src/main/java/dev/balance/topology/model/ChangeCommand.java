package dev.balance.topology.model;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * One balance change as it travels on the {@code balance-changes} topic, keyed by account id.
 *
 * @param transactionId unique per account; the idempotency key
 * @param accountId     positive
 * @param userId        optional, up to 64 characters, null when absent
 * @param currency      a registered currency code
 * @param type          the operation
 * @param amount        strictly positive, at the currency's scale
 * @param toAccountId   the other account of a two-account change: for a client's TRANSFER or
 *                      SETTLE the destination; for a CREDIT leg the source it came from; for a
 *                      REFUND leg the destination that refused it. 0 for one-account changes
 * @param description   optional, up to 256 characters, null when absent
 * @param metadata      optional JSON object text, up to 4 KB, null when absent
 * @param leg           NONE for every command a client sends; CREDIT or REFUND for the legs the
 *                      processor writes
 * @param debitVersion  for a CREDIT or REFUND leg, the source balance's version after the debit
 *                      it belongs to: with the source account, currency and transaction id it
 *                      names that one debit, even when the id is reused after the dedup
 *                      retention. 0 for client commands
 */
public record ChangeCommand(
        String transactionId,
        long accountId,
        String userId,
        String currency,
        ChangeType type,
        BigDecimal amount,
        long toAccountId,
        String description,
        String metadata,
        Leg leg,
        long debitVersion) {

    public ChangeCommand {
        Objects.requireNonNull(transactionId, "transactionId");
        Objects.requireNonNull(currency, "currency");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(amount, "amount");
        Objects.requireNonNull(leg, "leg");
    }

    /** A client's change (leg NONE). */
    public ChangeCommand(String transactionId, long accountId, String userId, String currency, ChangeType type,
                         BigDecimal amount, long toAccountId, String description, String metadata) {
        this(transactionId, accountId, userId, currency, type, amount, toAccountId, description, metadata, Leg.NONE, 0L);
    }

    /** True for a client's change that moves money to another account: TRANSFER, or SETTLE with a destination. */
    public boolean twoLeg() {
        return leg == Leg.NONE && toAccountId != 0 && (type == ChangeType.TRANSFER || type == ChangeType.SETTLE);
    }

    /** A change without the optional fields. */
    public static ChangeCommand of(String transactionId, long accountId, String currency, ChangeType type, BigDecimal amount) {
        return new ChangeCommand(transactionId, accountId, null, currency, type, amount, 0L, null, null);
    }

    /**
     * True when the other command asks for the same change: same type, currency, amount and
     * target. Reusing a transaction id for a different change is a conflict. Amounts compare by
     * value, so "1.5" and "1.50" are the same amount.
     */
    public boolean samePayload(String otherCurrency, ChangeType otherType, BigDecimal otherAmount, long otherToAccountId) {
        return type == otherType
                && currency.equals(otherCurrency)
                && amount.compareTo(otherAmount) == 0
                && toAccountId == otherToAccountId;
    }
}
