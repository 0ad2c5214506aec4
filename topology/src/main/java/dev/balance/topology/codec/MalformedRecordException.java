package dev.balance.topology.codec;

/** A payload that is not a record of our formats. It goes to the DLQ; it never stops the topology. */
public final class MalformedRecordException extends RuntimeException {
    public MalformedRecordException(String message) {
        super(message);
    }
}
