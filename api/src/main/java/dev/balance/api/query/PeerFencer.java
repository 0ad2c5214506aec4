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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
 */
public final class PeerFencer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PeerFencer.class);
    static final long POLL_MS = 1_000;
    private static final int PROBE_TIMEOUT_MS = 300;

    private final Properties producerBase;
    private final Supplier<Set<String>> peers;
    private final Forwarder forwarder;
    private final ObjectMapper mapper = new ObjectMapper();
    private final Map<String, List<String>> idsByPeer = new ConcurrentHashMap<>();
    /** Nodes fenced since they were last seen answering: a dead process opens no new transaction. */
    private final Set<String> fenced = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService poller;
    private final ExecutorService fencing;
    private final Counter fences;

    /**
     * @param producerBase bootstrap servers and security settings of the cluster's Kafka clients
     * @param peers        the host:port of every other node of the group, as the metadata knows them
     */
    public PeerFencer(Properties producerBase, Supplier<Set<String>> peers, Forwarder forwarder, MeterRegistry registry) {
        this.producerBase = producerBase;
        this.peers = peers;
        this.forwarder = forwarder;
        this.poller = Executors.newSingleThreadScheduledExecutor(daemon("peer-poll"));
        this.fencing = Executors.newSingleThreadExecutor(daemon("peer-fence"));
        this.fences = Counter.builder("balance_peer_fences")
                .description("Transactions of a dead node aborted by this node (its producer ids fenced)")
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
                    learn(peer, response.body());
                }
                // A refusal was already reported through the forwarder's listener.
            });
        }
    }

    void learn(String peer, byte[] readyBody) {
        try {
            JsonNode ids = mapper.readTree(readyBody).get("transactional_ids");
            if (ids != null && ids.isArray() && !ids.isEmpty()) {
                List<String> list = new ArrayList<>();
                ids.forEach(id -> list.add(id.asText()));
                idsByPeer.put(peer, List.copyOf(list));
            }
            // It answers: should it die again, its transactions are to be fenced again.
            fenced.remove(peer);
        } catch (IOException | RuntimeException e) {
            // Not a node of this release (or not answering JSON): nothing learned.
        }
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
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
