package dev.balance.topology.codec;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte buffer with the primitive encodings of our binary formats. */
final class WireWriter {

    private byte[] bytes;
    private int size;

    WireWriter(int initialCapacity) {
        bytes = new byte[initialCapacity];
    }

    byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }

    void writeByte(int value) {
        ensure(1);
        bytes[size++] = (byte) value;
    }

    void writeBoolean(boolean value) {
        writeByte(value ? 1 : 0);
    }

    /** Unsigned LEB128 of a non-negative long. */
    void writeVarLong(long value) {
        ensure(10);
        while ((value & ~0x7FL) != 0) {
            bytes[size++] = (byte) ((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        bytes[size++] = (byte) value;
    }

    /** Zig-zag then LEB128, so small negative numbers stay small. */
    void writeSignedVarLong(long value) {
        writeVarLong((value << 1) ^ (value >> 63));
    }

    void writeFixedLong(long value) {
        ensure(8);
        for (int shift = 56; shift >= 0; shift -= 8) {
            bytes[size++] = (byte) (value >>> shift);
        }
    }

    /** Null is encoded as length 0 with a leading marker byte; strings are UTF-8. */
    void writeNullableString(String value) {
        if (value == null) {
            writeByte(0);
            return;
        }
        writeByte(1);
        writeString(value);
    }

    void writeString(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        writeVarLong(utf8.length);
        ensure(utf8.length);
        System.arraycopy(utf8, 0, bytes, size, utf8.length);
        size += utf8.length;
    }

    /**
     * A decimal as its scale and unscaled value: the unscaled value as a zig-zag varint when it
     * fits 63 bits (the common case), otherwise as two's-complement bytes.
     */
    void writeDecimal(BigDecimal value) {
        writeSignedVarLong(value.scale());
        BigInteger unscaled = value.unscaledValue();
        if (unscaled.bitLength() < 63) {
            writeByte(0);
            writeSignedVarLong(unscaled.longValue());
        } else {
            byte[] raw = unscaled.toByteArray();
            writeByte(1);
            writeVarLong(raw.length);
            ensure(raw.length);
            System.arraycopy(raw, 0, bytes, size, raw.length);
            size += raw.length;
        }
    }

    private void ensure(int extra) {
        if (size + extra > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + extra));
        }
    }
}
