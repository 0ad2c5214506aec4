package dev.balance.topology.model;

import java.math.BigDecimal;
import java.util.regex.Pattern;

/**
 * Exact amount parsing. Amounts travel as decimal strings; anything a human might misread or a
 * float might have produced (exponents, signs, NaN, too many decimals) is refused.
 */
public final class Amounts {

    public static final int SIGNIFICANT_DIGITS_MAX = 38;
    /** Longest amount string accepted before any parsing, so a huge string costs nothing. */
    public static final int TEXT_LENGTH_MAX = 64;
    /**
     * Balances and amounts stay below 10^20 so every value fits the ledger's DECIMAL(38,18)
     * columns whatever the currency's scale.
     */
    public static final BigDecimal BALANCE_LIMIT = BigDecimal.TEN.pow(20);

    private static final Pattern DECIMAL = Pattern.compile("[0-9]+(\\.[0-9]+)?");

    private Amounts() {
    }

    /**
     * Parses a strictly positive amount with at most {@code scale} fractional digits.
     *
     * @return the amount, never null
     * @throws InvalidAmountException with a message fit for the client when the text is not one
     */
    public static BigDecimal parse(String text, int scale) {
        if (text == null || text.isEmpty()) {
            throw new InvalidAmountException("must be a non-empty decimal string");
        }
        if (text.length() > TEXT_LENGTH_MAX) {
            throw new InvalidAmountException("must be at most " + TEXT_LENGTH_MAX + " characters");
        }
        if (!DECIMAL.matcher(text).matches()) {
            throw new InvalidAmountException("must be a plain decimal like \"12.5\" (no sign, exponent or spaces)");
        }
        BigDecimal amount = new BigDecimal(text);
        return check(amount, scale);
    }

    /** Checks an amount that is already a number (from the wire) against the same rules. */
    public static BigDecimal check(BigDecimal amount, int scale) {
        if (amount.signum() <= 0) {
            throw new InvalidAmountException("must be greater than zero");
        }
        // Counted as written, not by value: "1.500000000" has nine decimals even though the last is zero.
        if (amount.scale() > scale) {
            throw new InvalidAmountException("must have at most " + scale + " decimal places");
        }
        if (amount.stripTrailingZeros().precision() > SIGNIFICANT_DIGITS_MAX) {
            throw new InvalidAmountException("must have at most " + SIGNIFICANT_DIGITS_MAX + " significant digits");
        }
        if (amount.compareTo(BALANCE_LIMIT) >= 0) {
            throw new InvalidAmountException("must be less than 10^20");
        }
        return amount.scale() == scale ? amount : amount.setScale(scale);
    }

    /** Why an amount was refused, in words for the client. */
    public static final class InvalidAmountException extends IllegalArgumentException {
        public InvalidAmountException(String message) {
            super(message);
        }
    }
}
