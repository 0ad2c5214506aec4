package dev.balance.topology.codec;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/** Reads what {@link WireWriter} wrote; every malformed input ends in {@link MalformedRecordException}. */
final class WireReader {

    /** No string or number in our formats comes near this; a larger length is corruption. */
    private static final int FIELD_BYTES_MAX = 64 * 1024;

    private final byte[] bytes;
    private int position;

    WireReader(byte[] bytes) {
        if (bytes == null) {
            throw new MalformedRecordException("null payload");
        }
        this.bytes = bytes;
    }

    int readByte() {
        if (position >= bytes.length) {
            throw new MalformedRecordException("truncated at byte " + position);
        }
        return bytes[position++] & 0xFF;
    }

    boolean readBoolean() {
        int value = readByte();
        if (value > 1) {
            throw new MalformedRecordException("bad boolean " + value);
        }
        return value == 1;
    }

    long readVarLong() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = readByte();
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new MalformedRecordException("varint too long");
    }

    long readSignedVarLong() {
        long raw = readVarLong();
        return (raw >>> 1) ^ -(raw & 1);
    }

    long readFixedLong() {
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | readByte();
        }
        return value;
    }

    String readNullableString() {
        return readBoolean() ? readString() : null;
    }

    String readString() {
        int length = length();
        String value = new String(bytes, position, length, StandardCharsets.UTF_8);
        position += length;
        return value;
    }

    BigDecimal readDecimal() {
        long scale = readSignedVarLong();
        if (scale < -64 || scale > 64) {
            throw new MalformedRecordException("decimal scale out of range: " + scale);
        }
        int form = readByte();
        if (form == 0) {
            return BigDecimal.valueOf(readSignedVarLong(), (int) scale);
        }
        if (form != 1) {
            throw new MalformedRecordException("bad decimal form " + form);
        }
        int length = length();
        if (length == 0 || length > 32) {
            throw new MalformedRecordException("decimal of " + length + " bytes");
        }
        byte[] raw = new byte[length];
        System.arraycopy(bytes, position, raw, 0, length);
        position += length;
        return new BigDecimal(new BigInteger(raw), (int) scale);
    }

    void expectEnd() {
        if (position != bytes.length) {
            throw new MalformedRecordException((bytes.length - position) + " trailing bytes");
        }
    }

    private int length() {
        long length = readVarLong();
        if (length < 0 || length > FIELD_BYTES_MAX || position + length > bytes.length) {
            throw new MalformedRecordException("field length " + length + " exceeds payload");
        }
        return (int) length;
    }
}
