package dev.balance.sink.mysql;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;

/**
 * Multi-row statements written as SQL text by the sink itself.
 *
 * <p>The driver's batch rewriting (client-side prepared statements, {@code
 * rewriteBatchedStatements}) does the same job at several times the cost: it looks up an encoder
 * per bound value, and encodes every value twice, once to size the packet and once to write it
 * (about two thirds of the sink thread's time in a profile). Here every value is appended once.
 *
 * <p>Only three kinds of value reach the text, none of which can end its literal: integers,
 * decimals as {@link BigDecimal#toPlainString()} (digits, a sign and a point), and strings as
 * {@code _utf8mb4 X'...'} hex literals of their UTF-8 bytes, so no character of a string (a
 * quote, a backslash, a NUL) is ever read as SQL. A hex literal with a character set introducer is
 * a string of that character set, so the column's length limit and strict mode apply as they do
 * to a bound parameter.
 */
final class RowsText {

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private final StringBuilder sql;
    private int rows;

    RowsText(String head, int expectedRows) {
        this.sql = new StringBuilder(head.length() + expectedRows * 320).append(head);
    }

    /** Starts the next row's parenthesis; values follow with {@link #next()} between them. */
    RowsText row() {
        if (rows++ > 0) {
            sql.append(", ");
        }
        sql.append('(');
        return this;
    }

    RowsText endRow() {
        sql.append(')');
        return this;
    }

    RowsText next() {
        sql.append(", ");
        return this;
    }

    RowsText number(long value) {
        sql.append(value);
        return this;
    }

    RowsText decimal(BigDecimal value) {
        if (value == null) {
            sql.append("NULL");
        } else {
            sql.append(value.toPlainString());
        }
        return this;
    }

    RowsText string(String value) {
        if (value == null) {
            sql.append("NULL");
            return this;
        }
        sql.append("_utf8mb4 X'");
        boolean ascii = true;
        for (int i = 0; i < value.length() && ascii; i++) {
            ascii = value.charAt(i) < 0x80;
        }
        if (ascii) {
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                sql.append(HEX[c >>> 4]).append(HEX[c & 0xF]);
            }
        } else {
            for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
                sql.append(HEX[(b >>> 4) & 0xF]).append(HEX[b & 0xF]);
            }
        }
        sql.append('\'');
        return this;
    }

    /** Raw SQL written by the sink, never a value. */
    RowsText sql(String text) {
        sql.append(text);
        return this;
    }

    String text() {
        return sql.toString();
    }
}
