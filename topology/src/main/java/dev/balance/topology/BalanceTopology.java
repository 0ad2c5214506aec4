package dev.balance.topology;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;

/**
 * Builds the balance topology. Read top to bottom, this is the whole data flow:
 * {@code balance-changes} → rules (with the {@code accounts} store: balances and remembered verdicts) →
 * {@code balance-events}; the credit and refund legs of transfers → back into {@code balance-changes},
 * keyed by the account they credit; and unreadable records → {@code balance-dlq}.
 */
public final class BalanceTopology {

    private static final String SOURCE = "changes-source";
    private static final String RULES = "balance-rules";

    private BalanceTopology() {
    }

    public static Topology build(StreamsSettings settings) {
        return build(settings, VerdictListener.NONE, new OutcomeCounters());
    }

    public static Topology build(StreamsSettings settings, VerdictListener listener, OutcomeCounters counters) {
        return build(settings, listener, counters, new ActiveStores());
    }

    /** As above; {@code activeStores} is told the store of each active task for fast local reads. */
    public static Topology build(StreamsSettings settings, VerdictListener listener, OutcomeCounters counters,
                                 ActiveStores activeStores) {
        Topology topology = new Topology();
        topology.addSource(SOURCE, Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(),
                settings.topics().changes());
        topology.addProcessor(RULES, () -> new BalanceProcessor(settings, listener, counters, activeStores), SOURCE);
        topology.addStateStore(store(Stores.ACCOUNTS), RULES);
        topology.addSink(BalanceProcessor.EVENTS_CHILD, settings.topics().events(),
                Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer(), RULES);
        topology.addSink(BalanceProcessor.LEGS_CHILD, settings.topics().changes(),
                Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer(), RULES);
        topology.addSink(BalanceProcessor.DLQ_CHILD, settings.topics().dlq(),
                Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer(), RULES);
        return topology;
    }

    private static StoreBuilder<KeyValueStore<Bytes, byte[]>> store(String name) {
        // Changelogged (the default) so a moved or crashed task restores exactly the committed state.
        return org.apache.kafka.streams.state.Stores.keyValueStoreBuilder(
                        org.apache.kafka.streams.state.Stores.persistentKeyValueStore(name),
                        Serdes.Bytes(), Serdes.ByteArray())
                .withCachingDisabled();
    }
}
