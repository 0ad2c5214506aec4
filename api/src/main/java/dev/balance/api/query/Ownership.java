package dev.balance.api.query;

import dev.balance.api.http.ApiException;
import dev.balance.topology.Stores;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Finds the node that owns an account. The account id is the key of {@code balance-changes},
 * serialized as the producer serializes it, so this is the partition the command lands in.
 */
public final class Ownership {

    private static final LongSerializer KEY_SERIALIZER = new LongSerializer();

    private final KafkaStreams streams;
    private final HostInfo self;

    public Ownership(KafkaStreams streams, HostInfo self) {
        this.streams = streams;
        this.self = self;
    }

    /** The active owner; a 503 when no owner is known (during a rebalance), never a bogus host. */
    public Owner activeOwner(long accountId) {
        KeyQueryMetadata metadata = metadata(accountId);
        HostInfo active = metadata.activeHost();
        if (active.equals(self)) {
            return new Owner.Local(metadata.partition());
        }
        return new Owner.Remote(metadata.partition(), active.host() + ":" + active.port());
    }

    /** True when this node holds a standby copy of the account's partition. */
    public boolean hostsStandby(long accountId) {
        return metadata(accountId).standbyHosts().contains(self);
    }

    public int partition(long accountId) {
        return metadata(accountId).partition();
    }

    private KeyQueryMetadata metadata(long accountId) {
        KeyQueryMetadata metadata;
        try {
            metadata = streams.queryMetadataForKey(Stores.ACCOUNTS, accountId, KEY_SERIALIZER);
        } catch (IllegalStateException e) {
            throw ApiException.notReady("the node is not running yet");
        }
        // NOT_AVAILABLE "can occur during rebalance": answer 503 rather than forward to unavailable:-1.
        if (metadata == null || KeyQueryMetadata.NOT_AVAILABLE.equals(metadata)
                || metadata.activeHost() == null || metadata.activeHost().port() < 0) {
            throw ApiException.notReady("the owner of account " + accountId + " is not known right now (rebalance)");
        }
        return metadata;
    }
}
