package dev.balance.topology;

/** Names of the topology's state stores; the API queries them by these names. */
public final class Stores {

    /** account id (8 bytes, big-endian) + currency code → balance. */
    public static final String BALANCES = "balances";
    /** account id (8 bytes, big-endian) + transaction id → the remembered verdict. */
    public static final String TRANSACTIONS = "transactions";

    private Stores() {
    }
}
