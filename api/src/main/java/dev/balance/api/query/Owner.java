package dev.balance.api.query;

/** Where the partition of an account lives right now, as this node's Streams metadata says. */
public sealed interface Owner {

    /** This node runs the active task of the partition. */
    record Local(int partition) implements Owner {
    }

    /** Another node does; {@code hostPort} is its advertised HTTP address. */
    record Remote(int partition, String hostPort) implements Owner {
    }
}
