package dev.balance.topology.codec;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Bytes;

/**
 * Keys of the {@code accounts} store, which holds two kinds of entries: balances and remembered
 * verdicts. A key is one kind byte, then the account id (fixed-width, big-endian), then the
 * currency code or the transaction id. So the balances of one account are one contiguous range
 * (a prefix scan on {@link #balancesOf}), and all remembered verdicts are one range after all
 * balances ({@link #firstTransactionKey} to {@link #lastTransactionKey}).
 */
public final class StoreKeys {

    private static final byte BALANCE = 'b';
    private static final byte TRANSACTION = 't';
    private static final String CREDIT_LEG = "~c/";
    private static final String REFUND_LEG = "~r/";
    /** Kind byte + account id. */
    private static final int HEADER = 9;

    private StoreKeys() {
    }

    /** The prefix of every balance key of one account. */
    public static Bytes balancesOf(long accountId) {
        byte[] key = new byte[HEADER];
        key[0] = BALANCE;
        putLong(key, accountId);
        return Bytes.wrap(key);
    }

    public static Bytes balanceKey(long accountId, String currency) {
        return key(BALANCE, accountId, currency);
    }

    public static Bytes transactionKey(long accountId, String transactionId) {
        return key(TRANSACTION, accountId, transactionId);
    }

    /**
     * The remembered verdict of a CREDIT leg on its destination. It lives among the destination's
     * transaction keys, under an id no client can send ('~' is not allowed in a transaction id), so
     * a client's own change with the same transaction id never collides with it. The source
     * account, currency and the debit's version make it unique per applied debit, also for two
     * sources that use the same id, and for an id reused after the dedup retention.
     */
    public static Bytes creditLegKey(long destinationId, String transactionId, long sourceId, String currency,
                                     long debitVersion) {
        return transactionKey(destinationId, CREDIT_LEG + transactionId + '/' + sourceId + '/' + currency + '/'
                + debitVersion);
    }

    /** The prefix of every credit leg's key on this destination for this transaction id. */
    public static Bytes creditLegsOf(long destinationId, String transactionId) {
        return transactionKey(destinationId, CREDIT_LEG + transactionId + '/');
    }

    /** The remembered verdict of a REFUND leg on the source, namespaced as {@link #creditLegKey}. */
    public static Bytes refundLegKey(long sourceId, String transactionId, String currency, long debitVersion) {
        return transactionKey(sourceId, REFUND_LEG + transactionId + '/' + currency + '/' + debitVersion);
    }

    /** The prefix of every refund leg's key on this source for this transaction id. */
    public static Bytes refundLegsOf(long sourceId, String transactionId) {
        return transactionKey(sourceId, REFUND_LEG + transactionId + '/');
    }

    /** The lowest possible transaction key, as the inclusive start of a range over all of them. */
    public static Bytes firstTransactionKey() {
        return Bytes.wrap(new byte[] {TRANSACTION});
    }

    /**
     * An inclusive upper bound of every transaction key: account ids are positive, so their first
     * byte is at most 0x7F and every real key sorts before this one.
     */
    public static Bytes lastTransactionKey() {
        return Bytes.wrap(new byte[] {TRANSACTION, (byte) 0xFF});
    }

    public static boolean isBalanceKey(Bytes key) {
        byte[] raw = key.get();
        return raw.length > HEADER && raw[0] == BALANCE;
    }

    public static long accountOf(Bytes key) {
        byte[] raw = key.get();
        long value = 0;
        for (int i = 1; i < HEADER; i++) {
            value = (value << 8) | (raw[i] & 0xFF);
        }
        return value;
    }

    /** The currency (of a balance key) or transaction id (of a transaction key). */
    public static String suffixOf(Bytes key) {
        byte[] raw = key.get();
        return new String(raw, HEADER, raw.length - HEADER, StandardCharsets.US_ASCII);
    }

    private static Bytes key(byte kind, long accountId, String suffix) {
        // Currency codes and transaction ids are validated to ASCII before they reach a key.
        byte[] tail = suffix.getBytes(StandardCharsets.US_ASCII);
        byte[] key = new byte[HEADER + tail.length];
        key[0] = kind;
        putLong(key, accountId);
        System.arraycopy(tail, 0, key, HEADER, tail.length);
        return Bytes.wrap(key);
    }

    private static void putLong(byte[] target, long value) {
        for (int i = 0; i < 8; i++) {
            target[1 + i] = (byte) (value >>> (56 - 8 * i));
        }
    }
}
