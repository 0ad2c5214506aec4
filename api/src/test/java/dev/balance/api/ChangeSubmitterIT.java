package dev.balance.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.api.verdict.VerdictWaiters;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The submitter against a real broker, where the producer cannot take records. */
class ChangeSubmitterIT {

    private static final long BLOCK_MS = 500;
    private static final int BATCH = 20;

    private KafkaBroker broker;
    private ScheduledExecutorService timer;

    @BeforeEach
    void start() {
        broker = KafkaBroker.start();
        timer = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterEach
    void stop() {
        timer.shutdownNow();
        broker.close();
    }

    @Test
    void aBatchForATopicThatCannotBeReachedFailsAtOnceInsteadOfWaitingOnEverySend() throws Exception {
        Properties props = producerProperties();
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, BLOCK_MS);
        List<ChangeCommand> commands = new ArrayList<>();
        for (int i = 0; i < BATCH; i++) {
            commands.add(ChangeCommand.of("t" + i, 42, "BTC", ChangeType.DEPOSIT, BigDecimal.ONE));
        }
        VerdictWaiters waiters = new VerdictWaiters(1_000);
        try (KafkaProducer<Long, byte[]> producer = new KafkaProducer<>(props, new LongSerializer(),
                new ByteArraySerializer())) {
            // Topics are never created on demand here: the producer waits for metadata that never comes.
            ChangeSubmitter submitter = new ChangeSubmitter(producer, "no-such-topic", waiters, 10_000, timer,
                    new SimpleMeterRegistry().timer("verdict_latency"));

            long start = System.nanoTime();
            List<ChangeSubmitter.Outcome> outcomes = submitter.submitAll(commands).get(30, TimeUnit.SECONDS);
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(outcomes).hasSize(BATCH).allSatisfy(outcome -> {
                assertThat(outcome.verdict()).isNull();
                assertThat(outcome.error()).isNotNull();
                assertThat(outcome.error().getMessage()).contains("could not be recorded");
            });
            assertThat(elapsedMs).as("one send waited for metadata, the others failed with it")
                    .isLessThan(BATCH * BLOCK_MS / 2);
            assertThat(waiters.waitingCount()).isZero();
        }
    }

    @Test
    void changesWhosePartitionMovedAwayAreAnsweredPendingAtOnceAndTheOthersKeepWaiting() throws Exception {
        broker.createTopics(1, java.util.Map.of("retention.ms", "-1"), "changes");
        VerdictWaiters waiters = new VerdictWaiters(1_000);
        try (KafkaProducer<Long, byte[]> producer = new KafkaProducer<>(producerProperties(), new LongSerializer(),
                new ByteArraySerializer())) {
            // No processor decides here, and the wait limit is far away: only the move can end the wait.
            ChangeSubmitter submitter = new ChangeSubmitter(producer, "changes", waiters, 600_000, timer,
                    new SimpleMeterRegistry().timer("verdict_latency"));
            java.util.concurrent.CompletableFuture<List<ChangeSubmitter.Outcome>> moving = submitter.submitAll(List.of(
                    ChangeCommand.of("m1", 42, "BTC", ChangeType.DEPOSIT, BigDecimal.ONE),
                    ChangeCommand.of("m2", 42, "BTC", ChangeType.DEPOSIT, BigDecimal.TEN)));
            java.util.concurrent.CompletableFuture<List<ChangeSubmitter.Outcome>> staying = submitter.submitAll(List.of(
                    ChangeCommand.of("s1", 7, "BTC", ChangeType.DEPOSIT, BigDecimal.ONE)));
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> waiters.waitingCount() == 3);

            assertThat(waiters.movedAway(account -> account == 42)).isEqualTo(2);

            List<ChangeSubmitter.Outcome> outcomes = moving.get(30, TimeUnit.SECONDS);
            assertThat(outcomes).hasSize(2).allSatisfy(outcome -> assertThat(outcome.pending()).isTrue());
            assertThat(staying).isNotDone();
            assertThat(waiters.waitingCount()).isEqualTo(1);
            waiters.movedAway(account -> true);
            assertThat(staying.get(30, TimeUnit.SECONDS)).singleElement()
                    .satisfies(outcome -> assertThat(outcome.pending()).isTrue());
            assertThat(waiters.waitingCount()).isZero();
        }
    }

    /** The node's producer as far as these tests need it: idempotent, acks=all. */
    private Properties producerProperties() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return props;
    }
}
