package dev.balance.api.query;

import dev.balance.api.http.ApiException;
import dev.balance.topology.ActiveStores;
import dev.balance.topology.Stores;
import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.LagInfo;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/** Reads balances and verdicts from this node's copy of one partition's stores. */
public final class LocalStores {

    /** A balance of one currency. */
    public record CurrencyBalance(String currency, Balance balance) {
    }

    private final KafkaStreams streams;
    private final ActiveStores activeStores;

    public LocalStores(KafkaStreams streams, ActiveStores activeStores) {
        this.streams = streams;
        this.activeStores = activeStores;
    }

    /** The balance, or null when the account never held this currency. */
    public Balance balance(int partition, long accountId, String currency, boolean stale) {
        byte[] stored = read(partition, () -> store(Stores.ACCOUNTS, partition, stale).get(StoreKeys.balanceKey(accountId, currency)));
        return stored == null ? null : Codecs.decodeBalance(stored);
    }

    /** All balances of the account, ordered by currency code. */
    public List<CurrencyBalance> balances(int partition, long accountId, boolean stale) {
        return read(partition, () -> {
            List<CurrencyBalance> result = new ArrayList<>();
            ReadOnlyKeyValueStore<Bytes, byte[]> store = store(Stores.ACCOUNTS, partition, stale);
            try (KeyValueIterator<Bytes, byte[]> entries = store.prefixScan(StoreKeys.balancesOf(accountId),
                    Serdes.Bytes().serializer())) {
                while (entries.hasNext()) {
                    KeyValue<Bytes, byte[]> entry = entries.next();
                    result.add(new CurrencyBalance(StoreKeys.suffixOf(entry.key), Codecs.decodeBalance(entry.value)));
                }
            }
            return result;
        });
    }

    /** The remembered verdict of a transaction, or null when unknown. */
    public BalanceEvent transaction(int partition, long accountId, String transactionId, boolean stale) {
        byte[] stored = read(partition, () -> store(Stores.ACCOUNTS, partition, stale)
                .get(StoreKeys.transactionKey(accountId, transactionId)));
        return stored == null ? null : Codecs.decodeEvent(stored);
    }

    /**
     * The remembered legs of two-account changes under this transaction id on this account: the
     * credits it received (from any source) and the refunds it got back, in key order.
     */
    public List<BalanceEvent> legs(int partition, long accountId, String transactionId, boolean stale) {
        return read(partition, () -> {
            List<BalanceEvent> result = new ArrayList<>();
            ReadOnlyKeyValueStore<Bytes, byte[]> store = store(Stores.ACCOUNTS, partition, stale);
            for (Bytes prefix : List.of(StoreKeys.creditLegsOf(accountId, transactionId),
                    StoreKeys.refundLegsOf(accountId, transactionId))) {
                try (KeyValueIterator<Bytes, byte[]> entries = store.prefixScan(prefix, Serdes.Bytes().serializer())) {
                    while (entries.hasNext()) {
                        result.add(Codecs.decodeEvent(entries.next().value));
                    }
                }
            }
            return result;
        });
    }

    /** True when the partition's active task runs on this node (a read of it is not a standby's). */
    public boolean activeHere(int partition) {
        return activeStores.get(partition) != null;
    }

    /** How many changelog records this node's copy of the partition is behind, or -1 when unknown. */
    public long lag(int partition) {
        try {
            Map<Integer, LagInfo> lags = streams.allLocalStorePartitionLags().get(Stores.ACCOUNTS);
            LagInfo lag = lags == null ? null : lags.get(partition);
            return lag == null ? -1 : lag.offsetLag();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** A store can close under a read when its partition moves away: that is a 503, not a 500. */
    private static <T> T read(int partition, Supplier<T> query) {
        try {
            return query.get();
        } catch (InvalidStateStoreException e) {
            throw ApiException.notReady("the store of partition " + partition + " moved while it was read");
        }
    }

    private ReadOnlyKeyValueStore<Bytes, byte[]> store(String name, int partition, boolean stale) {
        if (!stale) {
            // The active task's own store when it runs here: no walk over every task per read.
            ReadOnlyKeyValueStore<Bytes, byte[]> active = activeStores.get(partition);
            if (active != null) {
                return active;
            }
        }
        StoreQueryParameters<ReadOnlyKeyValueStore<Bytes, byte[]>> parameters = StoreQueryParameters
                .fromNameAndType(name, QueryableStoreTypes.<Bytes, byte[]>keyValueStore())
                .withPartition(partition);
        if (stale) {
            parameters = parameters.enableStaleStores();
        }
        try {
            return streams.store(parameters);
        } catch (InvalidStateStoreException e) {
            throw ApiException.notReady("the store of partition " + partition + " is not queryable right now");
        }
    }
}
