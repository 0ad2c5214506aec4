package dev.balance.api.query;

import dev.balance.topology.ActiveStores;
import dev.balance.topology.Stores;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Whether this node can serve the partitions it owns: Kafka Streams is RUNNING and every input
 * partition the assignment gives this node has a running task with its store open (restored).
 * A partition whose store is still being restored from its changelog is not served: reads of it
 * answer 503 and its commands wait. Restores are followed as the restore listener of the Streams
 * instance (active tasks only; standbys have a listener of their own), with their progress.
 *
 * <p>It also counts how often the instance entered REBALANCING, which a rolling restart under
 * static membership should not change on the other nodes.
 */
public final class Readiness implements StateRestoreListener {

    /** An active task's store being restored: records done of the changelog range to restore. */
    public record Restoring(int partition, long restoredRecords, long totalRecords) {
    }

    /**
     * What the node can serve right now.
     *
     * @param ready       true when it can serve every partition it owns
     * @param state       the Kafka Streams state
     * @param owned       input partitions the assignment gives this node (active tasks)
     * @param notServing  owned partitions it cannot serve yet (task not running, store not open or restoring)
     * @param restoring   restores under way, by partition
     * @param transactionalIds  its stream threads' transactional ids (the other nodes fence them should it die)
     * @param groupInstanceIds  its stream threads' static member ids (the other nodes remove them should it die)
     */
    public record Report(boolean ready, String state, List<Integer> owned, List<Integer> notServing,
                         List<Restoring> restoring, List<String> transactionalIds, List<String> groupInstanceIds) {
    }

    private static final class Progress {
        private final long total;
        private final AtomicLong restored = new AtomicLong();

        Progress(long total) {
            this.total = total;
        }
    }

    private final ActiveStores activeStores;
    private final HostInfo self;
    private final String changesTopic;
    private final StateRestoreListener observer;
    private final String groupInstanceId;
    private final ConcurrentMap<Integer, Progress> restoring = new ConcurrentHashMap<>();
    private final AtomicLong rebalances = new AtomicLong();
    private volatile KafkaStreams streams;

    /**
     * @param observer told of every restore callback after this class recorded it (tests pause a
     *                 restore there), or null
     * @param groupInstanceId the node's static membership id (NODE_ID), or null for a dynamic member
     */
    public Readiness(ActiveStores activeStores, HostInfo self, String changesTopic, StateRestoreListener observer,
                     String groupInstanceId) {
        this.groupInstanceId = groupInstanceId;
        this.activeStores = activeStores;
        this.self = self;
        this.changesTopic = changesTopic;
        this.observer = observer;
    }

    /** The instance whose state and assignment this reports on. */
    public void watch(KafkaStreams instance) {
        this.streams = instance;
    }

    /** Called on every Streams state change. */
    public void stateChanged(KafkaStreams.State newState) {
        if (newState == KafkaStreams.State.REBALANCING) {
            rebalances.incrementAndGet();
        }
    }

    /** How often this instance entered REBALANCING since it started. */
    public long rebalances() {
        return rebalances.get();
    }

    public boolean ready() {
        return report().ready();
    }

    public Report report() {
        KafkaStreams instance = streams;
        if (instance == null) {
            return new Report(false, "NOT_STARTED", List.of(), List.of(), List.of(), List.of(), List.of());
        }
        KafkaStreams.State state = instance.state();
        TreeSet<Integer> owned = new TreeSet<>();
        if (state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING) {
            try {
                for (StreamsMetadata client : instance.metadataForAllStreamsClients()) {
                    if (client.hostInfo().equals(self)) {
                        for (TopicPartition partition : client.topicPartitions()) {
                            if (partition.topic().equals(changesTopic)) {
                                owned.add(partition.partition());
                            }
                        }
                    }
                }
            } catch (IllegalStateException e) {
                // Not running (any more): nothing to add, and not ready by its state.
            }
        }
        List<Restoring> restores = new ArrayList<>();
        for (Map.Entry<Integer, Progress> entry : new java.util.TreeMap<>(restoring).entrySet()) {
            restores.add(new Restoring(entry.getKey(), entry.getValue().restored.get(), entry.getValue().total));
        }
        TreeSet<Integer> notServing = new TreeSet<>();
        for (int partition : owned) {
            if (activeStores.get(partition) == null || restoring.containsKey(partition)) {
                notServing.add(partition);
            }
        }
        restores.forEach(restore -> notServing.add(restore.partition()));
        boolean ready = state == KafkaStreams.State.RUNNING && notServing.isEmpty();
        ThreadIds ids = threadIds(instance, groupInstanceId);
        return new Report(ready, state.name(), List.copyOf(owned), List.copyOf(notServing), List.copyOf(restores),
                ids.transactional(), ids.members());
    }

    private static final java.util.regex.Pattern STREAM_THREAD = java.util.regex.Pattern.compile("-StreamThread-(\\d+)$");
    private static final java.util.regex.Pattern THREAD_PRODUCER =
            java.util.regex.Pattern.compile("^(.+)-StreamThread-(\\d+)-producer$");

    /** What the other nodes need of this node's stream threads should it die, each list sorted. */
    private record ThreadIds(List<String> transactional, List<String> members) {
    }

    /**
     * The ids of this node's stream threads, from one look at their metadata.
     *
     * <p>Transactional ids let the other nodes abort an open transaction of this node should it die
     * ({@link PeerFencer}). Under exactly_once_v2 a thread's producer is {@code <client
     * id>-StreamThread-<n>-producer} and its transactional id {@code <application id>-<process
     * id>-<n>}; the client id is left at its default, {@code <application id>-<process id>}, so the
     * one gives the other.
     *
     * <p>Static member ids let them remove it from the group: Kafka Streams gives thread n's consumer
     * the group instance id {@code <group.instance.id>-<n>}. None for a dynamic member.
     */
    static ThreadIds threadIds(KafkaStreams instance, String groupInstanceId) {
        List<String> transactional = new ArrayList<>();
        List<String> members = new ArrayList<>();
        try {
            for (org.apache.kafka.streams.ThreadMetadata thread : instance.metadataForLocalThreads()) {
                for (String producer : thread.producerClientIds()) {
                    java.util.regex.Matcher matcher = THREAD_PRODUCER.matcher(producer);
                    if (matcher.matches()) {
                        transactional.add(matcher.group(1) + "-" + matcher.group(2));
                    }
                }
                java.util.regex.Matcher matcher = STREAM_THREAD.matcher(thread.threadName());
                if (groupInstanceId != null && matcher.find()) {
                    members.add(groupInstanceId + "-" + matcher.group(1));
                }
            }
        } catch (RuntimeException e) {
            // Not started or closing: no ids to give.
        }
        java.util.Collections.sort(transactional);
        java.util.Collections.sort(members);
        return new ThreadIds(transactional, members);
    }

    @Override
    public void onRestoreStart(TopicPartition changelog, String storeName, long startingOffset, long endingOffset) {
        if (Stores.ACCOUNTS.equals(storeName)) {
            // One store per task: the changelog's partition is the task's input partition.
            restoring.put(changelog.partition(), new Progress(Math.max(0, endingOffset - startingOffset)));
        }
        if (observer != null) {
            observer.onRestoreStart(changelog, storeName, startingOffset, endingOffset);
        }
    }

    @Override
    public void onBatchRestored(TopicPartition changelog, String storeName, long batchEndOffset, long numRestored) {
        if (Stores.ACCOUNTS.equals(storeName)) {
            Progress progress = restoring.get(changelog.partition());
            if (progress != null) {
                progress.restored.addAndGet(numRestored);
            }
        }
        if (observer != null) {
            observer.onBatchRestored(changelog, storeName, batchEndOffset, numRestored);
        }
    }

    @Override
    public void onRestoreEnd(TopicPartition changelog, String storeName, long totalRestored) {
        if (Stores.ACCOUNTS.equals(storeName)) {
            restoring.remove(changelog.partition());
        }
        if (observer != null) {
            observer.onRestoreEnd(changelog, storeName, totalRestored);
        }
    }

    @Override
    public void onRestoreSuspended(TopicPartition changelog, String storeName, long totalRestored) {
        // The task moved away (or closed) before its restore finished.
        if (Stores.ACCOUNTS.equals(storeName)) {
            restoring.remove(changelog.partition());
        }
        if (observer != null) {
            observer.onRestoreSuspended(changelog, storeName, totalRestored);
        }
    }
}
