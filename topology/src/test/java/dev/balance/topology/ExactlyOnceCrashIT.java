package dev.balance.topology;

import static dev.balance.topology.EventAssertions.assertBalanceMatches;
import static dev.balance.topology.EventAssertions.assertEventMatches;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.testkit.KafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.LogAndFailProcessingExceptionHandler;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly-once under crashes, against a real broker: the committed events read with
 * read_committed must be exactly the model's, one per command, whatever was aborted and redone.
 *
 * <p>How the crashes are made, and why they are unclean enough. {@code KafkaStreams.close()},
 * even with a zero timeout, lets the stream threads finish and commit in the background, so it
 * proves nothing. Instead a verdict listener throws in the middle of a Kafka transaction, after
 * the event of the current command was sent but before anything commits:
 * <ol>
 *   <li>the first crash kills one stream thread and the handler answers REPLACE_THREAD: that
 *       thread's tasks are closed dirty, their open transaction is aborted, their local stores
 *       keep only what was committed (transactional stores; before Kafka 4.4 they were wiped) and the replacement thread
 *       restores them from the changelogs and reprocesses from the last committed offsets;</li>
 *   <li>the second crash answers SHUTDOWN_CLIENT, so the whole first instance dies with a
 *       transaction open; it is then closed with a zero timeout while a second instance with the
 *       same application id and an empty state directory starts, which must rebuild every store
 *       from the changelogs (skipping the aborted records) and reprocess what was not committed.</li>
 * </ol>
 * The crashed commands are decided twice (the listener hears more verdicts than there are
 * commands); events of the aborted transactions reach the log (visible to read_uncommitted) only
 * if the producer sent them before the crash.
 */
class ExactlyOnceCrashIT {

    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceCrashIT.class);

    private static final long SEED = 0xC0FFEE_E05L;
    private static final int COMMANDS = 50_000;
    private static final int PARTITIONS = 6;
    private static final CommandGenerator.Mix MIX = new CommandGenerator.Mix(300, List.of("BTC", "ETH", "USDT"),
            0.10, 0.03, 0.0, 0.0);
    private static final long FIRST_CRASH_AT_VERDICT = 12_000;
    private static final long SECOND_CRASH_AT_VERDICT = 30_000;
    private static final int STREAM_THREADS = 2;
    /**
     * Short, so a crashed member is evicted after this rather than after 45 s, but not the broker's
     * minimum of 6 s: on a saturated machine a late heartbeat would evict live members in a loop.
     */
    private static final int SESSION_TIMEOUT_MS = 10_000;
    private static final int HEARTBEAT_INTERVAL_MS = 2_000;
    private static final int TRANSACTION_TIMEOUT_MS = 10_000;
    /** Generous: the machine has two cores shared with other builds. */
    private static final Duration WAIT_MAX = Duration.ofMinutes(3);
    private static final Duration CLOSE_MAX = Duration.ofSeconds(60);
    private static final int POLL_RECORDS_MAX = 5_000;

    private KafkaBroker broker;
    private String unique;
    private TopicNames topics;
    private final List<KafkaStreams> instances = new ArrayList<>();
    private final ConcurrentLinkedQueue<Throwable> unexpectedErrors = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void startBroker() {
        broker = KafkaBroker.start();
        unique = "eos-" + UUID.randomUUID().toString().substring(0, 8);
        topics = TopicNames.withPrefix(unique + "-");
        broker.createTopics(PARTITIONS, topics.all().toArray(String[]::new));
    }

    @AfterEach
    void stopEverything() {
        for (KafkaStreams streams : instances) {
            streams.close(CLOSE_MAX);
            streams.cleanUp();
        }
        broker.close();
    }

    @Test
    void shouldCommitExactlyTheModelsEventsThoughStreamThreadsAndInstancesCrashMidTransaction() throws Exception {
        // Given: a seeded stream of commands with duplicates and conflicting reuses, half produced up front.
        StreamsSettings base = StreamsSettings.localDefaults(broker.bootstrapServers(), stateDir("unused"))
                .withApplicationId(unique).withTopics(topics).withStreamThreads(STREAM_THREADS);
        List<CommandGenerator.Step> steps = new CommandGenerator(SEED, base.currencies(), MIX).generate(COMMANDS);
        AtomicLong verdicts = new AtomicLong();

        try (KafkaProducer<Long, byte[]> producer = producer()) {
            produce(producer, steps.subList(0, COMMANDS / 2));

            // When: the first instance crashes a thread, then crashes as a whole, mid-run.
            AtomicReference<KafkaStreams> firstRef = new AtomicReference<>();
            KafkaStreams first = start(base.withStateDir(stateDir("first")),
                    new CrashingListener(verdicts, List.of(FIRST_CRASH_AT_VERDICT, SECOND_CRASH_AT_VERDICT),
                            () -> runningThreads(firstRef.get()) == STREAM_THREADS));
            firstRef.set(first);
            produce(producer, steps.subList(COMMANDS / 2, COMMANDS));
            await("the first instance dies at its second crash").atMost(WAIT_MAX)
                    .until(() -> first.state() == KafkaStreams.State.ERROR);
            first.close(Duration.ZERO);

            // And: a second instance with the same application id and no local state takes over.
            KafkaStreams second = start(base.withStateDir(stateDir("second")), event -> verdicts.incrementAndGet());
            awaitEveryCommandCommitted(second);

            // Then: the committed events are the model's, one per command, in input order per account.
            BalanceModel model = new BalanceModel(base.currencies(), base.dedupRetentionMs());
            Map<Long, List<BalanceEvent>> expected = expectedEventsByAccount(model, steps);
            Map<Long, List<BalanceEvent>> committed = readEventsByAccount("read_committed");
            long inLog = countEvents(readEventsByAccount("read_uncommitted"));
            LOG.info("seed {}: {} commands, {} verdicts heard, {} events in the log, {} committed", SEED, COMMANDS,
                    verdicts.get(), inLog, countEvents(committed));

            assertThat(unexpectedErrors).as("only the simulated crashes happened").isEmpty();
            assertThat(verdicts.get()).as("crashed commands were decided again").isGreaterThan(COMMANDS);
            // Aborted events may or may not have reached the log: the Streams producer lingers up to the
            // commit interval, and with Kafka 4.4 a crash inside that time left none in the log (50,000 of
            // 50,000). The crash is shown unclean by the commands decided twice above.
            assertThat(inLog).as("the log holds at least every committed event").isGreaterThanOrEqualTo(COMMANDS);
            assertThat(countEvents(committed)).as("one committed event per command").isEqualTo(COMMANDS);
            assertSameEventsInOrder(committed, expected);
            assertStoreEqualsModel(second, model, steps);
        }
    }

    // ---- the crash ----

    /** Thrown by the listener to kill the stream thread in the middle of its transaction. */
    private static final class SimulatedCrash extends RuntimeException {
        private final StreamThreadExceptionResponse response;

        SimulatedCrash(long verdict, StreamThreadExceptionResponse response) {
            super("simulated crash at verdict " + verdict);
            this.response = response;
        }
    }

    /** Counts verdicts of all threads; throws once at each threshold. */
    private static final class CrashingListener implements VerdictListener {
        private final AtomicLong verdicts;
        private final List<Long> crashAt;
        private final BooleanSupplier recovered;
        private final AtomicInteger next = new AtomicInteger();

        /**
         * @param recovered whether the instance is whole again (its replacement thread running);
         *                  a later crash waits for it, so each crash hits a running instance
         */
        CrashingListener(AtomicLong verdicts, List<Long> crashAt, BooleanSupplier recovered) {
            this.verdicts = verdicts;
            this.crashAt = crashAt;
            this.recovered = recovered;
        }

        @Override
        public void onVerdict(BalanceEvent event) {
            long count = verdicts.incrementAndGet();
            int crash = next.get();
            if (crash < crashAt.size() && count >= crashAt.get(crash) && (crash == 0 || recovered.getAsBoolean())
                    && next.compareAndSet(crash, crash + 1)) {
                boolean last = crash == crashAt.size() - 1;
                throw new SimulatedCrash(count, last ? StreamThreadExceptionResponse.SHUTDOWN_CLIENT
                        : StreamThreadExceptionResponse.REPLACE_THREAD);
            }
        }
    }

    /**
     * Stream threads of the instance that are processing. The second crash waits until the first
     * one's replacement thread runs. When the two crashes came within a second, the instance was
     * shut down while its replacement thread was still starting, and in 3 of 6 such runs the
     * second instance then never processed a record: group stable, every partition assigned,
     * every task "restored and ready to run", both threads RUNNING and polling, no open
     * transaction, yet no record processed for three minutes (Kafka Streams 4.3.1). With the
     * crashes 9 s apart, none of 9 runs hung. That is an availability problem of its own, still
     * open; this test is about exactly-once.
     */
    private static long runningThreads(KafkaStreams streams) {
        if (streams == null) {
            return 0;
        }
        return streams.metadataForLocalThreads().stream()
                .filter(thread -> thread.threadState().equals("RUNNING")).count();
    }

    private KafkaStreams start(StreamsSettings settings, VerdictListener listener) {
        Properties props = settings.toProperties();
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), SESSION_TIMEOUT_MS);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), HEARTBEAT_INTERVAL_MS);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), TRANSACTION_TIMEOUT_MS);
        // An exception in process() must kill the thread (and so abort its transaction), never be skipped.
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndFailProcessingExceptionHandler.class);
        KafkaStreams streams = new KafkaStreams(BalanceTopology.build(settings, listener, new OutcomeCounters()), props);
        streams.setUncaughtExceptionHandler(this::onThreadDeath);
        instances.add(streams);
        streams.start();
        return streams;
    }

    private StreamThreadExceptionResponse onThreadDeath(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof SimulatedCrash crash) {
                return crash.response;
            }
        }
        unexpectedErrors.add(error);
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }

    // ---- input ----

    private KafkaProducer<Long, byte[]> producer() {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // One request in flight: per-account input order is fixed, and a retry after NOT_LEADER_OR_FOLLOWER
        // (seen right after topic creation on a loaded machine) cannot be overtaken by a later batch. With 5
        // in flight the producer was seen wedged in OUT_OF_ORDER_SEQUENCE_NUMBER retries until its records
        // expired after two minutes.
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        config.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        return new KafkaProducer<>(config, new LongSerializer(), new ByteArraySerializer());
    }

    private void produce(KafkaProducer<Long, byte[]> producer, List<CommandGenerator.Step> steps) throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>(steps.size());
        for (CommandGenerator.Step step : steps) {
            sent.add(producer.send(new ProducerRecord<>(topics.changes(), null, step.timestampMs(),
                    step.command().accountId(), Codecs.encodeCommand(step.command()))));
        }
        producer.flush();
        for (Future<RecordMetadata> result : sent) {
            result.get();
        }
    }

    // ---- waiting ----

    /** Done when the group's committed input offsets reach the end of every input partition. */
    private void awaitEveryCommandCommitted(KafkaStreams streams) {
        try (Admin admin = broker.admin()) {
            await("every command committed").atMost(WAIT_MAX).pollInterval(Duration.ofMillis(500)).until(() -> {
                assertThat(unexpectedErrors).isEmpty();
                assertThat(streams.state()).isNotIn(KafkaStreams.State.ERROR, KafkaStreams.State.NOT_RUNNING);
                return committedInput(admin) == COMMANDS;
            });
        }
    }

    private long committedInput(Admin admin) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(unique)
                .partitionsToOffsetAndMetadata().get();
        return offsets.entrySet().stream()
                .filter(entry -> entry.getKey().topic().equals(topics.changes()) && entry.getValue() != null)
                .mapToLong(entry -> entry.getValue().offset()).sum();
    }

    // ---- output ----

    /** Reads the whole events topic up to its end (for read_committed: the last stable offset). */
    private Map<Long, List<BalanceEvent>> readEventsByAccount(String isolationLevel) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, POLL_RECORDS_MAX);
        Map<Long, List<BalanceEvent>> byAccount = new HashMap<>();
        try (KafkaConsumer<Long, byte[]> consumer = new KafkaConsumer<>(config, new LongDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = IntStream.range(0, PARTITIONS)
                    .mapToObj(p -> new TopicPartition(topics.events(), p)).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            await("read " + isolationLevel + " to the end").atMost(WAIT_MAX).until(() -> {
                for (ConsumerRecord<Long, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    BalanceEvent event = Codecs.decodeEvent(record.value());
                    assertThat(record.key()).as("event key is its account").isEqualTo(event.accountId());
                    byAccount.computeIfAbsent(record.key(), account -> new ArrayList<>()).add(event);
                }
                return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
            });
        }
        return byAccount;
    }

    private static long countEvents(Map<Long, List<BalanceEvent>> byAccount) {
        return byAccount.values().stream().mapToLong(List::size).sum();
    }

    /**
     * The model decides the commands in input order. Accounts never influence each other, so any
     * interleaving of accounts gives the same per-account results as the partitions' order.
     */
    private static Map<Long, List<BalanceEvent>> expectedEventsByAccount(BalanceModel model,
                                                                         List<CommandGenerator.Step> steps) {
        Map<Long, List<BalanceEvent>> byAccount = new HashMap<>();
        for (CommandGenerator.Step step : steps) {
            byAccount.computeIfAbsent(step.command().accountId(), account -> new ArrayList<>())
                    .add(model.decide(step.command(), step.timestampMs()));
        }
        return byAccount;
    }

    private static void assertSameEventsInOrder(Map<Long, List<BalanceEvent>> committed,
                                                Map<Long, List<BalanceEvent>> expected) {
        assertThat(committed.keySet()).as("accounts with events").isEqualTo(expected.keySet());
        expected.forEach((account, events) -> {
            List<BalanceEvent> actual = committed.get(account);
            assertThat(actual).as("seed %d account %d: event count", SEED, account).hasSameSizeAs(events);
            for (int i = 0; i < events.size(); i++) {
                assertEventMatches(actual.get(i), events.get(i),
                        "seed " + SEED + " account " + account + " event " + i);
            }
        });
    }

    /** The stores the surviving instance rebuilt hold exactly the model's final balances. */
    private static void assertStoreEqualsModel(KafkaStreams streams, BalanceModel model,
                                               List<CommandGenerator.Step> steps) {
        Map<String, Balance> stored = await("the balances store is queryable").atMost(WAIT_MAX)
                .ignoreExceptionsInstanceOf(InvalidStateStoreException.class)
                .until(() -> storedBalances(streams), balances -> !balances.isEmpty());
        Map<String, Balance> expected = steps.stream()
                .map(step -> KeyValue.pair(step.command().accountId(), step.command().currency()))
                .distinct()
                .map(key -> KeyValue.pair(key.key + "/" + key.value, model.balance(key.key, key.value)))
                .filter(pair -> pair.value.version() > 0)
                .collect(Collectors.toMap(pair -> pair.key, pair -> pair.value));
        assertThat(stored.keySet()).as("seed %d: stored balances", SEED).isEqualTo(expected.keySet());
        expected.forEach((key, balance) -> assertBalanceMatches(stored.get(key), balance, "seed " + SEED + " " + key));
    }

    private static Map<String, Balance> storedBalances(KafkaStreams streams) {
        ReadOnlyKeyValueStore<Bytes, byte[]> store = streams.store(StoreQueryParameters.fromNameAndType(
                Stores.ACCOUNTS, QueryableStoreTypes.<Bytes, byte[]>keyValueStore()));
        Map<String, Balance> balances = new HashMap<>();
        try (KeyValueIterator<Bytes, byte[]> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<Bytes, byte[]> entry = all.next();
                if (!StoreKeys.isBalanceKey(entry.key)) {
                    continue;
                }
                balances.put(StoreKeys.accountOf(entry.key) + "/" + StoreKeys.suffixOf(entry.key),
                        Codecs.decodeBalance(entry.value));
            }
        }
        return balances;
    }

    private String stateDir(String name) {
        try {
            Path dir = Paths.get("target", "eos-state", unique, name).toAbsolutePath();
            Files.createDirectories(dir);
            return dir.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
