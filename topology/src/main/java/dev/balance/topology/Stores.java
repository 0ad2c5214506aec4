package dev.balance.topology;

/** Names of the topology's state stores; the API queries them by these names. */
public final class Stores {

    /**
     * Everything the rules keep per account, under the keys of
     * {@link dev.balance.topology.codec.StoreKeys}: each balance (account + currency → available,
     * frozen, version) and each remembered verdict (account + transaction id → the outcome event).
     * One store rather than two, so a change's balance and verdict are written in one RocksDB
     * batch and the lookups of one account stay in one database.
     */
    public static final String ACCOUNTS = "accounts";

    private Stores() {
    }
}
