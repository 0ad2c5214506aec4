package dev.balance.topology.codec;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Bytes;

/**
 * Store keys put the account id first, fixed-width and big-endian, so every currency (or every
 * transaction) of one account is one contiguous range: a prefix scan on {@link #accountPrefix}.
 */
public final class StoreKeys {

    private StoreKeys() {
    }

    public static Bytes accountPrefix(long accountId) {
        byte[] key = new byte[8];
        putLong(key, accountId);
        return Bytes.wrap(key);
    }

    public static Bytes balanceKey(long accountId, String currency) {
        return withSuffix(accountId, currency);
    }

    public static Bytes transactionKey(long accountId, String transactionId) {
        return withSuffix(accountId, transactionId);
    }

    public static long accountOf(Bytes key) {
        byte[] raw = key.get();
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | (raw[i] & 0xFF);
        }
        return value;
    }

    /** The currency (of a balance key) or transaction id (of a transaction key). */
    public static String suffixOf(Bytes key) {
        byte[] raw = key.get();
        return new String(raw, 8, raw.length - 8, StandardCharsets.US_ASCII);
    }

    private static Bytes withSuffix(long accountId, String suffix) {
        // Currency codes and transaction ids are validated to ASCII before they reach a key.
        byte[] tail = suffix.getBytes(StandardCharsets.US_ASCII);
        byte[] key = new byte[8 + tail.length];
        putLong(key, accountId);
        System.arraycopy(tail, 0, key, 8, tail.length);
        return Bytes.wrap(key);
    }

    private static void putLong(byte[] target, long value) {
        for (int i = 0; i < 8; i++) {
            target[i] = (byte) (value >>> (56 - 8 * i));
        }
    }
}
