package dev.balance.api.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aborts the open Kafka transaction of a node that died, so the partitions it wrote to move on.
 *
 * <p>A node's stream thread writes, in one transaction per commit interval, to its own partitions
 * and to the input partitions of the accounts its transfers credit, which other nodes own. Readers
 * read committed data only, so when a node is killed with a transaction open, every partition that
 * transaction touched stops at it until the transaction is aborted: by the node itself when it
 * starts again (its producer takes the same transactional id), or by the broker once the
 * transaction times out. Either takes seconds, during which the other nodes' partitions stall too.
 *
 * <p>Every node publishes its transactional ids in {@code /ready}; this class polls the other
 * nodes for them and, when a node refuses connections (nothing listens on its port: the process
 * is gone), initialises a producer under each of its ids once, which makes the broker abort the
 * open transaction and fence the dead producer. Fencing a live node would only cost it a restart
 * of its tasks (exactly-once keeps everything correct); to keep it from happening, a node's HTTP
 * port is open before its stream threads produce and stays open until they are closed, and the
 * refusal is confirmed by a fresh connection attempt just before fencing.
 *
 * <p>A dead node also keeps its partitions: as a static member of the consumer group it stays in
 * the group until its session times out, and its partitions wait for it that long. So, once its
 * transactions are fenced, the node is removed from the group (its group instance ids, also from
 * {@code /ready}), which starts a rebalance at once: the nodes with warm standby copies of its
 * partitions take them over within seconds, and the dead node, when it starts again, joins as a
 * new member. A node seen stopping cleanly (its {@code /ready} answered 503 {@code STOPPING}) is
 * fenced but not removed: that is a restart, whose partitions wait for it without a rebalance.
 * Removing a live member by mistake costs a rebalance, never correctness.
 */
public final class PeerFencer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PeerFencer.class);
    public static final long POLL_MS = 1_000;
    private static final int PROBE_TIMEOUT_MS = 300;
    private static final long EVICT_TIMEOUT_MS = 10_000;
    private static final long FENCE_RETRY_BACKOFF_MS = 5;
    private static final long FENCE_RETRY_BACKOFF_MAX_MS = 50;

    private final Properties producerBase;
    private final Supplier<Set<String>> peers;
    private final Forwarder forwarder;
    private final ObjectMapper mapper = new ObjectMapper();
    private final Map<String, List<String>> idsByPeer = new ConcurrentHashMap<>();
    private final Map<String, List<String>> memberIdsByPeer = new ConcurrentHashMap<>();
    /** Nodes fenced since they were last seen answering: a dead process opens no new transaction. */
    private final Set<String> fenced = ConcurrentHashMap.newKeySet();
    /** Nodes last seen stopping cleanly: a restart, not a death. */
    private final Set<String> stopping = ConcurrentHashMap.newKeySet();
    /** The consumer group the nodes are members of, or null when dead nodes are left to their session timeout. */
    private final String groupId;
    private Admin admin;
    private final ScheduledExecutorService poller;
    private final ExecutorService fencing;
    private final Counter fences;
    private final Counter evictions;

    /**
     * @param producerBase bootstrap servers and security settings of the cluster's Kafka clients
     * @param peers        the host:port of every other node of the group, as the metadata knows them
     * @param groupId      the nodes' consumer group (application id) to remove a dead node from, or null
     *                     to leave it there until its session times out
     */
    public PeerFencer(Properties producerBase, Supplier<Set<String>> peers, Forwarder forwarder, MeterRegistry registry,
                      String groupId) {
        this.producerBase = producerBase;
        this.groupId = groupId;
        this.peers = peers;
        this.forwarder = forwarder;
        this.poller = Executors.newSingleThreadScheduledExecutor(daemon("peer-poll"));
        this.fencing = Executors.newSingleThreadExecutor(daemon("peer-fence"));
        this.fences = Counter.builder("balance_peer_fences")
                .description("Transactions of a dead node aborted by this node (its producer ids fenced)")
                .register(registry);
        this.evictions = Counter.builder("balance_peer_evictions")
                .description("Dead nodes this node removed from the consumer group, so their partitions moved at once")
                .register(registry);
        forwarder.onRefused(this::suspect);
    }

    public PeerFencer start() {
        poller.scheduleWithFixedDelay(this::poll, POLL_MS, POLL_MS, TimeUnit.MILLISECONDS);
        return this;
    }

    /** The transactional ids last learned from the node at host:port (for tests and the log). */
    List<String> knownIds(String hostPort) {
        return idsByPeer.getOrDefault(hostPort, List.of());
    }

    private void poll() {
        Set<String> current;
        try {
            current = peers.get();
        } catch (RuntimeException e) {
            return;
        }
        for (String peer : current) {
            forwarder.forward(peer, "GET", "/ready", new byte[0]).whenComplete((response, error) -> {
                if (response != null) {
                    learn(peer, response.status(), response.body());
                }
                // A refusal was already reported through the forwarder's listener.
            });
        }
    }

    /** What the node at {@code peer} answered to {@code GET /ready}. */
    void learn(String peer, int status, byte[] readyBody) {
        try {
            JsonNode body = mapper.readTree(readyBody);
            if (status == 503 && "STOPPING".equals(body.path("error").asText())) {
                // A clean stop: when its port closes, fence it (harmless) but leave it in the group.
                stopping.add(peer);
                return;
            }
            List<String> ids = texts(body.get("transactional_ids"));
            if (!ids.isEmpty()) {
                idsByPeer.put(peer, ids);
            }
            List<String> members = texts(body.get("group_instance_ids"));
            if (!members.isEmpty()) {
                memberIdsByPeer.put(peer, members);
            }
            // It answers: should it die again, its transactions are to be fenced again, its membership ended.
            fenced.remove(peer);
            stopping.remove(peer);
        } catch (IOException | RuntimeException e) {
            // Not a node of this release (or not answering JSON): nothing learned.
        }
    }

    private static List<String> texts(JsonNode array) {
        if (array == null || !array.isArray()) {
            return List.of();
        }
        List<String> list = new ArrayList<>();
        array.forEach(id -> list.add(id.asText()));
        return List.copyOf(list);
    }

    /** A node refused a connection: fence its transactions, once per death, if it still refuses. */
    public void suspect(String peer) {
        List<String> ids = idsByPeer.get(peer);
        if (ids == null || ids.isEmpty()) {
            return;
        }
        if (!fenced.add(peer)) {
            return;
        }
        try {
            fencing.execute(() -> fence(peer, ids));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Closing.
        }
    }

    void fence(String peer, List<String> ids) {
        if (accepts(peer)) {
            fenced.remove(peer);
            return;
        }
        long started = System.nanoTime();
        for (String id : ids) {
            Properties props = new Properties();
            props.putAll(producerBase);
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
            props.put(ProducerConfig.CLIENT_ID_CONFIG, "fence-" + id);
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
            // The broker answers the first InitProducerId with CONCURRENT_TRANSACTIONS while it writes the
            // abort markers; at the default backoff (100 ms, growing) the retry came a tenth of a second
            // after the markers, and every partition the dead transaction touched waited that long too.
            props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, FENCE_RETRY_BACKOFF_MS);
            props.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, FENCE_RETRY_BACKOFF_MAX_MS);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                // Bumps the id's epoch: the broker aborts its open transaction and refuses the old producer.
                producer.initTransactions();
                fences.increment();
            } catch (RuntimeException e) {
                LOG.warn("could not fence transactional id {} of node {}, which refuses connections: {}", id, peer,
                        e.toString());
                return;
            }
        }
        LOG.warn("node {} refuses connections: aborted its open transactions (transactional ids {}) in {} ms so the "
                + "partitions it wrote to go on", peer, ids, (System.nanoTime() - started) / 1_000_000);
        List<String> members = memberIdsByPeer.getOrDefault(peer, List.of());
        if (groupId != null && !members.isEmpty() && !stopping.contains(peer) && !accepts(peer)) {
            evict(peer, members);
        }
    }

    /**
     * Removes a dead node's static members from the group, which rebalances it now rather than when
     * their sessions time out. Another node may have removed them first (unknown member): fine.
     */
    void evict(String peer, List<String> members) {
        long started = System.nanoTime();
        try {
            if (admin == null) {
                Properties props = new Properties();
                props.putAll(producerBase);
                props.put(AdminClientConfig.CLIENT_ID_CONFIG, "peer-evict");
                admin = Admin.create(props);
            }
            List<MemberToRemove> remove = members.stream().map(MemberToRemove::new).toList();
            admin.removeMembersFromConsumerGroup(groupId, new RemoveMembersFromConsumerGroupOptions(remove))
                    .all().get(EVICT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            evictions.increment();
            LOG.warn("node {} refuses connections: removed its members {} from group {} in {} ms, so its partitions "
                    + "move to the nodes with standby copies now", peer, members, groupId,
                    (System.nanoTime() - started) / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.info("node {} refuses connections; its members {} were not removed from group {} (removed already, "
                    + "or left to their session timeout): {}", peer, members, groupId, e.toString());
        }
    }

    /** True when something listens on host:port (a refused or failed attempt is false). */
    static boolean accepts(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(hostPort.substring(0, colon),
                    Integer.parseInt(hostPort.substring(colon + 1))), PROBE_TIMEOUT_MS);
            return true;
        } catch (java.net.ConnectException e) {
            return false;
        } catch (IOException | RuntimeException e) {
            // A timeout is not a refusal: the node may be alive behind a slow network; do not fence.
            return true;
        }
    }

    @Override
    public void close() {
        poller.shutdownNow();
        fencing.shutdownNow();
        try {
            if (fencing.awaitTermination(EVICT_TIMEOUT_MS, TimeUnit.MILLISECONDS) && admin != null) {
                admin.close(java.time.Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
