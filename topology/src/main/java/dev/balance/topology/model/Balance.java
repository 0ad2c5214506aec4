package dev.balance.topology.model;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * The balance of one account in one currency.
 *
 * @param available   spendable, never negative
 * @param frozen      held for open orders, never negative
 * @param version     0 for a balance never touched, +1 per applied change
 * @param updatedAtMs record timestamp of the last applied change (stream time, not wall clock)
 */
public record Balance(BigDecimal available, BigDecimal frozen, long version, long updatedAtMs) {

    public Balance {
        Objects.requireNonNull(available, "available");
        Objects.requireNonNull(frozen, "frozen");
        if (available.signum() < 0 || frozen.signum() < 0 || version < 0) {
            // A negative balance is a broken invariant, never a business outcome: fail loudly.
            throw new IllegalStateException("balance invariant broken: available=" + available
                    + " frozen=" + frozen + " version=" + version);
        }
    }

    /** The balance of an account and currency that was never touched. */
    public static Balance zero(int scale) {
        BigDecimal zero = BigDecimal.ZERO.setScale(scale);
        return new Balance(zero, zero, 0L, 0L);
    }
}
