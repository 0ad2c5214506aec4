package dev.balance.api.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.balance.api.auth.NodeSigner;
import dev.balance.api.auth.Credentials;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A dead node's open transaction holds back every partition it wrote to; a node that finds the
 * dead one refusing connections aborts it. A real broker, a real transactional producer left with
 * its transaction open (as a node killed mid-commit leaves it), real sockets.
 */
class PeerFencerIT {

    private static final String TOPIC = "fence-input";
    private KafkaBroker broker;
    private Forwarder forwarder;
    private PeerFencer fencer;

    @BeforeEach
    void start() {
        broker = KafkaBroker.start();
        broker.createTopics(1, Map.of("retention.ms", "-1"), TOPIC);
        forwarder = new Forwarder(Duration.ofSeconds(2), new NodeSigner(Credentials.none()), "127.0.0.1:1", null);
    }

    @AfterEach
    void stop() {
        if (fencer != null) {
            fencer.close();
        }
        forwarder.close();
        broker.close();
    }

    @Test
    void shouldAbortTheOpenTransactionOfANodeThatRefusesConnections() throws Exception {
        // Given a "node" whose producer left a transaction open on a partition, and which is gone (its port closed)
        String deadNode = "127.0.0.1:" + closedPort();
        try (KafkaProducer<byte[], byte[]> dead = transactional("node-x-1")) {
            dead.initTransactions();
            dead.beginTransaction();
            dead.send(new ProducerRecord<>(TOPIC, "open".getBytes(StandardCharsets.UTF_8))).get();
            dead.flush();
            assertThat(committedEnd()).as("the open transaction holds the partition's stable end").isZero();
            fencer = new PeerFencer(base(), () -> Set.of(deadNode), forwarder, new SimpleMeterRegistry(), null);
            fencer.learn(deadNode, 200, "{\"transactional_ids\":[\"node-x-1\"]}".getBytes(StandardCharsets.UTF_8));

            // When a forward to it is refused
            forwarder.forward(deadNode, "GET", "/ready", new byte[0]).handle((r, e) -> null).get();

            // Then its transaction is aborted (a read_committed reader moves past it) and its producer fenced
            await().atMost(Duration.ofSeconds(30)).until(() -> committedEnd() == 2);
            // The broker refuses the old epoch's commit; which error it names depends on whether the
            // abort marker was written yet (seen both ways on this machine).
            assertThatThrownBy(dead::commitTransaction)
                    .isInstanceOfAny(ProducerFencedException.class, InvalidTxnStateException.class);
        }
    }

    @Test
    void shouldNotFenceANodeThatAcceptsConnections() throws Exception {
        // Given a node whose transaction is open and whose port is open (alive: a slow answer is not a death)
        try (ServerSocket alive = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             KafkaProducer<byte[], byte[]> producer = transactional("node-y-1")) {
            String aliveNode = "127.0.0.1:" + alive.getLocalPort();
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(TOPIC, "open".getBytes(StandardCharsets.UTF_8))).get();
            fencer = new PeerFencer(base(), () -> Set.of(aliveNode), forwarder, new SimpleMeterRegistry(), null);
            fencer.learn(aliveNode, 200, "{\"transactional_ids\":[\"node-y-1\"]}".getBytes(StandardCharsets.UTF_8));

            // When it is suspected (as after a refusal a moment ago) and the fencing thread has run
            fencer.suspect(aliveNode);
            fencer.fence(aliveNode, List.of("node-y-1"));

            // Then its transaction is still its own: it commits
            producer.commitTransaction();
            assertThat(committedEnd()).isEqualTo(2);
        }
    }

    private KafkaProducer<byte[], byte[]> transactional(String id) {
        Properties props = base();
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private Properties base() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return props;
    }

    /** The partition's end as a read_committed reader sees it (the last stable offset). */
    private long committedEnd() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(TOPIC, 0);
            return consumer.endOffsets(List.of(partition)).get(partition);
        }
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
