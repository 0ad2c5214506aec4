package dev.balance.api.query;

import dev.balance.api.http.ApiException;
import dev.balance.topology.Stores;
import java.util.Arrays;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Finds the node that owns an account. The account id is the key of {@code balance-changes},
 * serialized as the producer serializes it, so this is the partition the command lands in.
 *
 * <p>While Streams runs, owners come from a snapshot of the whole assignment (partition → active
 * host, and which partitions this node holds a standby of), taken once and dropped at every state
 * change but the start of a rebalance (see {@link #stateChanged}). Asking Streams per request
 * ({@code queryMetadataForKey}) walked every client's metadata for every read. A snapshot a moment
 * out of date is safe: a local read of a partition this node no longer owns fails as a 503 (the
 * store is gone), and a forwarded one is answered by the node it reaches. Outside RUNNING the
 * per-key question is asked as before.
 */
public final class Ownership {

    private static final LongSerializer KEY_SERIALIZER = new LongSerializer();

    private final KafkaStreams streams;
    private final HostInfo self;
    private final String changesTopic;
    private volatile Snapshot snapshot;
    /** The partition count of the last complete snapshot (it does not change), 0 before the first. */
    private volatile int knownPartitions;
    /** Grows at every invalidation; a snapshot built across one is not kept. */
    private final java.util.concurrent.atomic.AtomicLong generation = new java.util.concurrent.atomic.AtomicLong();
    private static final int PARTITION_COUNT_PROBES = 8;
    /**
     * Per partition, the other nodes that held a copy of it (the active one first, then the standbys, then
     * the remaining nodes) in the last complete assignment. Unlike the snapshot it outlives a rebalance: a stale read that this
     * node cannot serve during one is asked of them.
     */
    private volatile java.util.List<java.util.List<String>> lastCopies = java.util.List.of();

    /** Active owner per partition of the input topic, and this node's standby partitions. */
    private record Snapshot(HostInfo[] active, boolean[] standbyHere) {
        int partitions() {
            return active.length;
        }
    }

    private volatile java.util.function.Consumer<java.util.Map<Integer, String>> onAssignment;

    /** Told the active owner (host:port) of every partition each time a complete assignment is first seen. */
    public void onAssignment(java.util.function.Consumer<java.util.Map<Integer, String>> listener) {
        this.onAssignment = listener;
    }

    /** A node as the API names it: host:port. */
    private static String hostPort(HostInfo host) {
        return host.host() + ":" + host.port();
    }

    public Ownership(KafkaStreams streams, HostInfo self, String changesTopic) {
        this.streams = streams;
        this.self = self;
        this.changesTopic = changesTopic;
    }

    /**
     * Called on every Streams state change. Entering REBALANCING keeps the last complete snapshot: the
     * partitions a rebalance does not move (most of them, see {@code StayingTaskAssignor}) keep being
     * routed to their owners instead of every request answering 503 until the rebalance ends, and a
     * partition that does move is answered 503 by the node it reaches ({@code refuseWhen}, a store that
     * is gone), as before. Any other state (RUNNING again with the new assignment, stopping) drops it.
     */
    public void stateChanged(KafkaStreams.State newState) {
        if (newState == KafkaStreams.State.REBALANCING) {
            synchronized (this) {
                generation.incrementAndGet();
            }
        } else {
            invalidate();
        }
    }

    /** Drops the snapshot; the next question builds a new one. */
    public void invalidate() {
        synchronized (this) {
            generation.incrementAndGet();
            snapshot = null;
        }
    }

    /** The active owner; a 503 when no owner is known (during a rebalance), never a bogus host. */
    public Owner activeOwner(long accountId) {
        Snapshot current = snapshot();
        if (current != null) {
            int partition = partitionOf(accountId, current.partitions());
            HostInfo active = current.active()[partition];
            return active.equals(self) ? new Owner.Local(partition)
                    : new Owner.Remote(partition, hostPort(active));
        }
        KeyQueryMetadata metadata = metadata(accountId);
        HostInfo active = metadata.activeHost();
        if (active.equals(self)) {
            return new Owner.Local(metadata.partition());
        }
        return new Owner.Remote(metadata.partition(), hostPort(active));
    }

    /** True when this node holds a standby copy of the account's partition. */
    public boolean hostsStandby(long accountId) {
        Snapshot current = snapshot();
        if (current != null) {
            return current.standbyHere()[partitionOf(accountId, current.partitions())];
        }
        return metadata(accountId).standbyHosts().contains(self);
    }

    /**
     * The other nodes holding a standby copy of the account's partition, as host:port; empty when
     * none is known. Stale reads turn to them when the active owner cannot answer.
     */
    public java.util.List<String> standbyHosts(long accountId) {
        KeyQueryMetadata metadata;
        try {
            metadata = metadata(accountId);
        } catch (dev.balance.api.http.ApiException e) {
            return java.util.List.of();
        }
        java.util.List<String> hosts = new java.util.ArrayList<>();
        for (HostInfo host : metadata.standbyHosts()) {
            if (!host.equals(self) && host.port() > 0) {
                hosts.add(hostPort(host));
            }
        }
        return hosts;
    }

    /**
     * The account's partition from the last known partition count, without asking Streams: still
     * known during a rebalance, when the owners are not. -1 before the first complete picture.
     */
    public int partitionIfKnown(long accountId) {
        int partitions = knownPartitions;
        return partitions > 0 ? partitionOf(accountId, partitions) : -1;
    }

    public int partition(long accountId) {
        Snapshot current = snapshot();
        return current != null ? partitionOf(accountId, current.partitions()) : metadata(accountId).partition();
    }

    /** The producer's default partitioner for an 8-byte big-endian key: murmur2, positive, modulo. */
    public static int partitionOf(long accountId, int partitions) {
        return Utils.toPositive(murmur2(accountId)) % partitions;
    }

    /**
     * Kafka's murmur2 of the key's 8 big-endian bytes, read as two little-endian ints, without
     * serializing the key into a new array on every read.
     */
    static int murmur2(long key) {
        int h = 0x9747b28c ^ Long.BYTES;
        h = mix(h, Integer.reverseBytes((int) (key >>> 32)));
        h = mix(h, Integer.reverseBytes((int) key));
        h ^= h >>> 13;
        h *= MURMUR_M;
        h ^= h >>> 15;
        return h;
    }

    private static final int MURMUR_M = 0x5bd1e995;

    private static int mix(int h, int k) {
        k *= MURMUR_M;
        k ^= k >>> 24;
        k *= MURMUR_M;
        return h * MURMUR_M ^ k;
    }

    private Snapshot snapshot() {
        Snapshot current = snapshot;
        if (current != null || streams.state() != KafkaStreams.State.RUNNING) {
            return current;
        }
        long before = generation.get();
        Snapshot built = build();
        // Only a complete picture is kept, and only if no state change happened while it was built:
        // otherwise an old assignment could stay cached until the next state change.
        synchronized (this) {
            if (built != null && generation.get() == before && streams.state() == KafkaStreams.State.RUNNING) {
                snapshot = built;
            } else {
                return built;
            }
        }
        java.util.function.Consumer<java.util.Map<Integer, String>> listener = onAssignment;
        if (listener != null) {
            java.util.Map<Integer, String> owners = new java.util.HashMap<>();
            for (int partition = 0; partition < built.partitions(); partition++) {
                HostInfo owner = built.active()[partition];
                if (owner != null) {
                    owners.put(partition, hostPort(owner));
                }
            }
            listener.accept(owners);
        }
        return built;
    }

    private Snapshot build() {
        int partitions = 0;
        java.util.Collection<StreamsMetadata> clients;
        try {
            clients = streams.metadataForAllStreamsClients();
        } catch (IllegalStateException e) {
            return null;
        }
        for (StreamsMetadata client : clients) {
            for (TopicPartition partition : client.topicPartitions()) {
                if (partition.topic().equals(changesTopic)) {
                    partitions = Math.max(partitions, partition.partition() + 1);
                }
            }
        }
        if (partitions == 0) {
            return null;
        }
        HostInfo[] active = new HostInfo[partitions];
        boolean[] standbyHere = new boolean[partitions];
        for (StreamsMetadata client : clients) {
            for (TopicPartition partition : client.topicPartitions()) {
                if (partition.topic().equals(changesTopic)) {
                    active[partition.partition()] = client.hostInfo();
                }
            }
            if (client.hostInfo().equals(self)) {
                for (TopicPartition partition : client.standbyTopicPartitions()) {
                    if (partition.topic().equals(changesTopic) && partition.partition() < partitions) {
                        standbyHere[partition.partition()] = true;
                    }
                }
            }
        }
        // Every partition must have a reachable owner, else the per-key path answers (with its 503s).
        boolean complete = Arrays.stream(active).allMatch(host -> host != null && host.port() > 0);
        if (complete && partitionCountConfirmed(partitions)) {
            knownPartitions = partitions;
            lastCopies = copiesElsewhere(clients, partitions);
            return new Snapshot(active, standbyHere);
        }
        return null;
    }

    private java.util.List<java.util.List<String>> copiesElsewhere(java.util.Collection<StreamsMetadata> clients,
                                                                  int partitions) {
        java.util.List<java.util.Set<String>> copies = new java.util.ArrayList<>();
        for (int partition = 0; partition < partitions; partition++) {
            copies.add(new java.util.LinkedHashSet<>());
        }
        for (boolean actives : new boolean[] {true, false}) {
            for (StreamsMetadata client : clients) {
                HostInfo host = client.hostInfo();
                if (host.equals(self) || host.port() <= 0) {
                    continue;
                }
                for (TopicPartition partition : actives ? client.topicPartitions() : client.standbyTopicPartitions()) {
                    if (partition.topic().equals(changesTopic) && partition.partition() < partitions) {
                        copies.get(partition.partition()).add(hostPort(host));
                    }
                }
            }
        }
        // Then every other node: in a rebalance one of them may hold a copy the last assignment did not show
        // (a warm-up replica, a task just moved), and it answers 503 if not.
        java.util.Set<String> everyone = new java.util.LinkedHashSet<>();
        copies.forEach(everyone::addAll);
        copies.forEach(hosts -> hosts.addAll(everyone));
        return copies.stream().map(java.util.List::copyOf).toList();
    }

    /**
     * The other nodes that held a copy of the account's partition in the last complete assignment
     * this node saw, the active one first; empty before the first. For stale reads only: during a
     * rebalance it may be out of date, and the node asked answers from whatever copy it still has.
     */
    public java.util.List<String> lastKnownCopiesElsewhere(long accountId) {
        java.util.List<java.util.List<String>> copies = lastCopies;
        return copies.isEmpty() ? java.util.List.copyOf(otherNodes()) : copies.get(partitionOf(accountId, copies.size()));
    }

    /**
     * Every other node of the group Streams knows of now, as host:port in sorted order; empty when
     * Streams is not running. The peers a node watches, and the nodes a stale read asks on a node
     * that has seen no complete assignment yet (just started, its first rebalance under way): any
     * of them may hold a copy, and one that does not answers 503.
     */
    public java.util.Set<String> otherNodes() {
        java.util.Set<String> others = new java.util.TreeSet<>();
        try {
            for (StreamsMetadata client : streams.metadataForAllStreamsClients()) {
                HostInfo host = client.hostInfo();
                if (!host.equals(self) && host.port() > 0) {
                    others.add(hostPort(host));
                }
            }
        } catch (RuntimeException e) {
            // Not running (yet, or any more): nothing is known.
            return java.util.Set.of();
        }
        return others;
    }

    /**
     * The count is read off the assignment (highest partition + 1); a wrong one would send reads to
     * another partition's store. Streams' own per-key answer, which knows the topic, must agree for
     * a few probe keys, else no snapshot is kept.
     */
    private boolean partitionCountConfirmed(int partitions) {
        for (long probe = 1; probe <= PARTITION_COUNT_PROBES; probe++) {
            KeyQueryMetadata metadata;
            try {
                metadata = streams.queryMetadataForKey(Stores.ACCOUNTS, probe, KEY_SERIALIZER);
            } catch (IllegalStateException e) {
                return false;
            }
            if (metadata == null || KeyQueryMetadata.NOT_AVAILABLE.equals(metadata)
                    || metadata.partition() != partitionOf(probe, partitions)) {
                return false;
            }
        }
        return true;
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
