package dev.balance.bench;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * JSON bodies of change requests, built as text (cheap, so the generator stays light). Every
 * change has a fresh transaction id; accounts are drawn uniformly from 1..accounts.
 */
final class ChangeBodies {

    static final String CURRENCY = "USDT";
    /** What each account is given before the measured load, so withdrawals rarely fail. */
    static final String PREFILL_AMOUNT = "1000000.00";
    static final String CHANGE_AMOUNT = "1.00";

    private final String idPrefix;
    private final int accounts;
    private final AtomicLong sequence = new AtomicLong();

    ChangeBodies(String idPrefix, int accounts) {
        this.idPrefix = idPrefix;
        this.accounts = accounts;
    }

    /** A deposit or a withdrawal (even odds) of a random account. */
    String mixed(SplittableRandom random) {
        StringBuilder body = new StringBuilder(160);
        appendMixed(body, random);
        return body.toString();
    }

    /** A JSON array of {@code size} mixed changes. */
    String mixedBatch(SplittableRandom random, int size) {
        StringBuilder body = new StringBuilder(size * 150);
        body.append('[');
        for (int i = 0; i < size; i++) {
            if (i > 0) {
                body.append(',');
            }
            appendMixed(body, random);
        }
        return body.append(']').toString();
    }

    /** A JSON array depositing {@link #PREFILL_AMOUNT} to accounts {@code from..to-1}. */
    String prefillBatch(long from, long to) {
        StringBuilder body = new StringBuilder((int) (to - from) * 150);
        body.append('[');
        for (long account = from; account < to; account++) {
            if (account > from) {
                body.append(',');
            }
            append(body, account, "DEPOSIT", PREFILL_AMOUNT);
        }
        return body.append(']').toString();
    }

    private void appendMixed(StringBuilder body, SplittableRandom random) {
        long account = 1 + random.nextInt(accounts);
        append(body, account, random.nextBoolean() ? "DEPOSIT" : "WITHDRAW", CHANGE_AMOUNT);
    }

    private void append(StringBuilder body, long account, String type, String amount) {
        body.append("{\"transaction_id\":\"").append(idPrefix).append(Long.toString(sequence.getAndIncrement(), 36))
                .append("\",\"account_id\":").append(account)
                .append(",\"currency_code\":\"").append(CURRENCY)
                .append("\",\"type\":\"").append(type)
                .append("\",\"amount\":\"").append(amount).append("\"}");
    }
}
