package dev.balance.topology.model;

/**
 * The operations a balance change can perform. The codes 0-4 are those of the original
 * Node.js design so its clients keep working; the code is also the wire value.
 */
public enum ChangeType {
    DEPOSIT(0),
    WITHDRAW(1),
    FREEZE(2),
    UNFREEZE(3),
    TRANSFER(4),
    SETTLE(5);

    private static final ChangeType[] BY_CODE = new ChangeType[6];

    static {
        for (ChangeType type : values()) {
            BY_CODE[type.code] = type;
        }
    }

    private final int code;

    ChangeType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Returns the type with this code, or null when the code names no type. */
    public static ChangeType ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** Returns the type with this name (case-insensitive), or null when none matches. */
    public static ChangeType ofName(String name) {
        for (ChangeType type : values()) {
            if (type.name().equalsIgnoreCase(name)) {
                return type;
            }
        }
        return null;
    }
}
