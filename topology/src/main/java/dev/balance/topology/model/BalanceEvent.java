package dev.balance.topology.model;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * The outcome of one change, published on {@code balance-events} keyed by account id. Every
 * command yields exactly one event: applied, rejected, a replay of an earlier verdict, a
 * conflict or an invalid command. For anything but a fresh APPLIED the balance before and after
 * are equal.
 *
 * @param replay          true when this repeats the remembered verdict of an earlier command
 * @param version         the balance's version after this event
 * @param timestampMs     record timestamp of the command that was decided (for a replay: of the
 *                        original command)
 * @param detail          a short explanation for INVALID_COMMAND, otherwise null
 * @param leg             NONE for a one-account change; DEBIT for the client's verdict on a
 *                        two-account change (whatever its result); CREDIT or REFUND for the legs
 *                        that move the money on. {@code toAccountId} is then the counterparty:
 *                        the destination of a DEBIT or REFUND, the source of a CREDIT
 */
public record BalanceEvent(
        String transactionId,
        long accountId,
        String currency,
        ChangeType type,
        BigDecimal amount,
        long toAccountId,
        Result result,
        boolean replay,
        BigDecimal availableBefore,
        BigDecimal frozenBefore,
        BigDecimal availableAfter,
        BigDecimal frozenAfter,
        long version,
        long timestampMs,
        String userId,
        String description,
        String detail,
        Leg leg) {

    public BalanceEvent {
        Objects.requireNonNull(transactionId, "transactionId");
        Objects.requireNonNull(currency, "currency");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(amount, "amount");
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(availableBefore, "availableBefore");
        Objects.requireNonNull(frozenBefore, "frozenBefore");
        Objects.requireNonNull(availableAfter, "availableAfter");
        Objects.requireNonNull(frozenAfter, "frozenAfter");
        Objects.requireNonNull(leg, "leg");
    }

    /** An event of a one-account change (leg NONE). */
    public BalanceEvent(String transactionId, long accountId, String currency, ChangeType type, BigDecimal amount,
                        long toAccountId, Result result, boolean replay, BigDecimal availableBefore,
                        BigDecimal frozenBefore, BigDecimal availableAfter, BigDecimal frozenAfter, long version,
                        long timestampMs, String userId, String description, String detail) {
        this(transactionId, accountId, currency, type, amount, toAccountId, result, replay, availableBefore,
                frozenBefore, availableAfter, frozenAfter, version, timestampMs, userId, description, detail, Leg.NONE);
    }

    /** True for the first, state-moving verdict of an applied change: what the sinks write. */
    public boolean movedBalance() {
        return result == Result.APPLIED && !replay;
    }

    public BalanceEvent asReplay() {
        return new BalanceEvent(transactionId, accountId, currency, type, amount, toAccountId, result, true,
                availableBefore, frozenBefore, availableAfter, frozenAfter, version, timestampMs, userId,
                description, detail, leg);
    }

    public Balance balanceAfter() {
        return new Balance(availableAfter, frozenAfter, version, timestampMs);
    }
}
