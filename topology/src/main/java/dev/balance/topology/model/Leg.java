package dev.balance.topology.model;

/**
 * Which part of a change a command or event is. A one-account change is {@link #NONE}. A
 * two-account change (TRANSFER, or SETTLE with a destination) is decided as its {@link #DEBIT} on
 * the source's task; an applied debit emits a {@link #CREDIT} to the destination's partition, and a
 * credit the destination must refuse (balance limit) emits a {@link #REFUND} back to the source.
 * Clients only ever send {@link #NONE}; the other legs are written by the processor itself.
 */
public enum Leg {
    NONE(0),
    DEBIT(1),
    CREDIT(2),
    REFUND(3);

    private static final Leg[] BY_CODE = values();

    private final int code;

    Leg(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Returns the leg with this code, or null when the code names none. */
    public static Leg ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** True for the legs the processor writes to move money it already took from a source. */
    public boolean internal() {
        return this == CREDIT || this == REFUND;
    }
}
