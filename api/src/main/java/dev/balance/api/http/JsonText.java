package dev.balance.api.http;

import dev.balance.topology.model.Balance;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;

/**
 * JSON text written straight into bytes, for the read paths that answer many balances: a
 * balance is some thirty fragments and numbers, and a {@code StringBuilder} (then its string,
 * then that string's bytes) cost more than the store read. Fixed fragments are copied as
 * pre-made bytes, numbers written digit by digit. Text that is not ASCII is written as UTF-8.
 */
final class JsonText {

    private static final byte[] ACCOUNT_ID = ascii("{\"account_id\":");
    private static final byte[] CURRENCY_CODE = ascii(",\"currency_code\":\"");
    private static final byte[] AVAILABLE = ascii("\",\"available\":\"");
    private static final byte[] FROZEN = ascii("\",\"frozen\":\"");
    private static final byte[] VERSION = ascii("\",\"version\":");
    private static final byte[] UPDATED_AT = ascii(",\"updated_at\":");
    private static final byte[] NULL = ascii("null");
    private static final long[] POWERS_OF_TEN = new long[19];

    static {
        POWERS_OF_TEN[0] = 1;
        for (int i = 1; i < POWERS_OF_TEN.length; i++) {
            POWERS_OF_TEN[i] = POWERS_OF_TEN[i - 1] * 10;
        }
    }

    /** The date part of the last day written ({@code 2026-11-30T}): balances mostly change on the same few days. */
    private static volatile Day lastDay = new Day(-1, new byte[0]);

    private record Day(long epochDay, byte[] prefix) {
    }

    private byte[] bytes;
    private int length;

    JsonText(int capacity) {
        this.bytes = new byte[Math.max(capacity, 16)];
    }

    int length() {
        return length;
    }

    /** Drops what was written after {@code length}. */
    void truncate(int length) {
        this.length = length;
    }

    byte[] toBytes() {
        return Arrays.copyOf(bytes, length);
    }

    /** {@code prefix}, the text written, then {@code suffix}, as one array. */
    byte[] toBytes(String prefix, String suffix) {
        byte[] head = prefix.getBytes(StandardCharsets.UTF_8);
        byte[] tail = suffix.getBytes(StandardCharsets.UTF_8);
        byte[] whole = new byte[head.length + length + tail.length];
        System.arraycopy(head, 0, whole, 0, head.length);
        System.arraycopy(bytes, 0, whole, head.length, length);
        System.arraycopy(tail, 0, whole, head.length + length, tail.length);
        return whole;
    }

    @Override
    public String toString() {
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }

    JsonText append(char ascii) {
        ensure(1);
        bytes[length++] = (byte) ascii;
        return this;
    }

    /** Text as it is (it must already be JSON where it lands: a fragment, a code, an escaped item). */
    JsonText append(String text) {
        int n = text.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                length -= i;
                return append(text.getBytes(StandardCharsets.UTF_8));
            }
            bytes[length++] = (byte) c;
        }
        return this;
    }

    JsonText append(byte[] fragment) {
        ensure(fragment.length);
        System.arraycopy(fragment, 0, bytes, length, fragment.length);
        length += fragment.length;
        return this;
    }

    JsonText append(long value) {
        if (value < 0) {
            if (value == Long.MIN_VALUE) {
                return append(Long.toString(value));
            }
            append('-');
            value = -value;
        }
        int digits = 1;
        while (digits < 19 && value >= POWERS_OF_TEN[digits]) {
            digits++;
        }
        return digits(value, digits);
    }

    /** {@code value} (not negative) as exactly {@code digits} digits, zeros in front. */
    private JsonText digits(long value, int digits) {
        ensure(digits);
        for (int i = length + digits - 1; i >= length; i--) {
            bytes[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        length += digits;
        return this;
    }

    /**
     * A balance as {@link Responses#balance} renders it, field for field, without the tree.
     * Currency codes are registered codes (letters and digits), so they need no escaping.
     */
    JsonText balance(long accountId, String currency, Balance balance) {
        append(ACCOUNT_ID).append(accountId).append(CURRENCY_CODE).append(currency).append(AVAILABLE);
        plain(balance.available()).append(FROZEN);
        plain(balance.frozen()).append(VERSION).append(balance.version()).append(UPDATED_AT);
        if (balance.version() == 0) {
            append(NULL);
        } else {
            append('"').instant(balance.updatedAtMs()).append('"');
        }
        return append('}');
    }

    /**
     * {@code value.toPlainString()}, digit for digit when the value fits a long at a scale of 0-18
     * (every registered currency's); else the slow way.
     */
    JsonText plain(BigDecimal value) {
        int scale = value.scale();
        if (scale < 0 || scale > 18 || value.precision() > 18) {
            return append(value.toPlainString());
        }
        long unscaled = value.unscaledValue().longValue();
        if (unscaled < 0) {
            append('-');
            unscaled = -unscaled;
        }
        if (scale == 0) {
            return append(unscaled);
        }
        long power = POWERS_OF_TEN[scale];
        append(unscaled / power).append('.');
        return digits(unscaled % power, scale);
    }

    /**
     * {@code Instant.ofEpochMilli(epochMs).toString()} (ISO-8601 in UTC, milliseconds only when
     * there are some) without the formatter, for years 1970-9999; else the slow way.
     */
    JsonText instant(long epochMs) {
        if (epochMs < 0 || epochMs >= 253_402_300_800_000L) {
            return append(Instant.ofEpochMilli(epochMs).toString());
        }
        long seconds = epochMs / 1000;
        int millis = (int) (epochMs % 1000);
        long epochDay = seconds / 86_400;
        Day day = lastDay;
        if (day.epochDay() != epochDay) {
            LocalDate date = LocalDate.ofEpochDay(epochDay);
            JsonText prefix = new JsonText(16).append(date.getYear()).append('-');
            prefix.digits(date.getMonthValue(), 2).append('-').digits(date.getDayOfMonth(), 2).append('T');
            day = new Day(epochDay, prefix.toBytes());
            lastDay = day;
        }
        int secondOfDay = (int) (seconds % 86_400);
        append(day.prefix()).digits(secondOfDay / 3600, 2).append(':').digits(secondOfDay / 60 % 60, 2)
                .append(':').digits(secondOfDay % 60, 2);
        if (millis != 0) {
            append('.').digits(millis, 3);
        }
        return append('Z');
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
