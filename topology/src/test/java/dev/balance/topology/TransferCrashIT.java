package dev.balance.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Leg;
import dev.balance.topology.model.Result;
import dev.balance.topology.testkit.KafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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
 * Transfers exactly once across partitions and crashes, against a real broker: a ring of accounts
 * spread over six partitions sends money round and round (TRANSFER, and SETTLE of frozen funds to
 * the next account), two Streams instances share the work, and one of them dies mid-transaction
 * again and again (its thread throws inside a Kafka transaction and the whole client shuts down;
 * it is closed without waiting and a new instance starts on the same state directory, which under
 * exactly-once finds no checkpoint and restores its stores from the changelogs).
 *
 * <p>Which transfers are refused depends on how credits and debits interleave, which depends on
 * timing, so there is no up-front model of the verdicts. The model is built from the committed
 * verdicts instead, and checked against everything else: every command has exactly one committed
 * verdict; every applied debit exactly one applied credit of the same amount at its destination;
 * each balance's committed events form one chain of versions 1..N whose amounts follow; the stores
 * hold the end of every chain; and the total of each currency is what was deposited.
 */
class TransferCrashIT {

    private static final Logger LOG = LoggerFactory.getLogger(TransferCrashIT.class);

    private static final long SEED = 0x7A45_FE25L;
    private static final int PARTITIONS = 6;
    private static final int RING = 24;
    private static final long FIRST_ACCOUNT = 1_001;
    private static final int COMMANDS = 20_000;
    private static final String CURRENCY = "USDT";
    private static final BigDecimal FUNDING = new BigDecimal("1000");
    private static final int CRASHES = 3;
    /** Verdicts (legs included) a restarted instance decides before it dies again. */
    private static final long CRASH_AFTER_VERDICTS = 1_500;
    private static final int SESSION_TIMEOUT_MS = 10_000;
    private static final int HEARTBEAT_INTERVAL_MS = 2_000;
    private static final int TRANSACTION_TIMEOUT_MS = 10_000;
    private static final Duration WAIT_MAX = Duration.ofMinutes(4);
    private static final Duration CLOSE_MAX = Duration.ofSeconds(60);

    private KafkaBroker broker;
    private String unique;
    private TopicNames topics;
    private final List<KafkaStreams> instances = new ArrayList<>();
    private final ConcurrentLinkedQueue<Throwable> unexpectedErrors = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void startBroker() {
        broker = KafkaBroker.start();
        unique = "xfer-" + UUID.randomUUID().toString().substring(0, 8);
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
    void shouldCreditEveryAppliedDebitExactlyOnceThoughOneOfTwoInstancesDiesMidTransactionAgainAndAgain()
            throws Exception {
        // Given a funded ring of accounts and a stream of transfers and settlements round it
        StreamsSettings base = StreamsSettings.localDefaults(broker.bootstrapServers(), stateDir("unused"))
                .withApplicationId(unique).withTopics(topics).withStreamThreads(1);
        List<ChangeCommand> commands = commands();
        AtomicLong verdicts = new AtomicLong();
        try (KafkaProducer<Long, byte[]> producer = producer()) {
            produce(producer, commands);
        }

        // When two instances process them and one of them dies mid-transaction, CRASHES times
        start(base.withStateDir(stateDir("steady")), event -> verdicts.incrementAndGet());
        String crashingDir = stateDir("crashing");
        AtomicInteger crashes = new AtomicInteger();
        for (int round = 0; round < CRASHES; round++) {
            KafkaStreams crashing = start(base.withStateDir(crashingDir), new CrashAfter(verdicts, crashes));
            await("instance " + round + " dies mid-transaction").atMost(WAIT_MAX)
                    .until(() -> crashing.state() == KafkaStreams.State.ERROR || allDecided(commands.size()));
            crashing.close(Duration.ZERO);
        }
        start(base.withStateDir(crashingDir), event -> verdicts.incrementAndGet());
        Committed committed = awaitEverythingCommitted(commands.size());

        // Then every verdict, leg, chain, store and total is as exactly-once demands
        LOG.info("seed {}: {} commands, {} crashes, {} verdicts heard, {} committed events ({} applied debits,"
                        + " {} refused)", SEED, commands.size(), crashes.get(), verdicts.get(), committed.events.size(),
                committed.appliedDebits().size(), committed.refusedDebits());
        assertThat(unexpectedErrors).as("only the simulated crashes happened").isEmpty();
        assertThat(crashes.get()).as("the crashing instance died every round").isEqualTo(CRASHES);
        assertOneVerdictPerCommand(committed, commands);
        assertOneCreditPerAppliedDebit(committed);
        Map<String, Balance> chainEnds = assertChainsOfVersions(committed);
        assertStoresHoldTheEndOfEveryChain(chainEnds);
        BigDecimal total = chainEnds.values().stream().map(b -> b.available().add(b.frozen()))
                .reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(total).as("seed %d: the ring holds what was deposited", SEED)
                .isEqualByComparingTo(FUNDING.multiply(BigDecimal.valueOf(RING)));
        assertThat(committed.appliedDebits().size()).as("seed %d: most transfers applied", SEED)
                .isGreaterThan(COMMANDS / 4);
        assertThat(committed.refusedDebits()).as("seed %d: some refused for lack of funds", SEED).isPositive();
    }

    // ---- the commands ----

    /** Funding of every account, then transfers, freezes and settlements to the next account of the ring. */
    private static List<ChangeCommand> commands() {
        Random random = new Random(SEED);
        List<ChangeCommand> commands = new ArrayList<>();
        for (int i = 0; i < RING; i++) {
            commands.add(ChangeCommand.of("fund", account(i), CURRENCY, ChangeType.DEPOSIT, FUNDING));
        }
        for (int n = 0; commands.size() < COMMANDS; n++) {
            int from = random.nextInt(RING);
            long source = account(from);
            long destination = account((from + 1 + random.nextInt(3)) % RING);
            // All commands are in the log before processing starts, so every credit lands behind them in
            // its destination's partition: amounts are small enough that the funding lasts.
            BigDecimal amount = BigDecimal.valueOf(1 + random.nextInt(1_500_000), 6);
            int roll = random.nextInt(100);
            String id = "x-" + n;
            if (roll < 70) {
                commands.add(new ChangeCommand(id, source, null, CURRENCY, ChangeType.TRANSFER, amount, destination,
                        null, null));
            } else if (roll < 85) {
                commands.add(ChangeCommand.of(id, source, CURRENCY, ChangeType.FREEZE, amount));
            } else {
                commands.add(new ChangeCommand(id, source, null, CURRENCY, ChangeType.SETTLE, amount, destination,
                        null, null));
            }
        }
        return commands;
    }

    private static long account(int index) {
        return FIRST_ACCOUNT + index;
    }

    // ---- the crash ----

    private static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash(long verdict) {
            super("simulated crash after verdict " + verdict);
        }
    }

    /** Counts verdicts; the instance's thread throws, mid-transaction, at its CRASH_AFTER_VERDICTS-th. */
    private static final class CrashAfter implements VerdictListener {
        private final AtomicLong all;
        private final AtomicInteger crashes;
        private final AtomicLong mine = new AtomicLong();

        CrashAfter(AtomicLong all, AtomicInteger crashes) {
            this.all = all;
            this.crashes = crashes;
        }

        @Override
        public void onVerdict(BalanceEvent event) {
            all.incrementAndGet();
            if (mine.incrementAndGet() == CRASH_AFTER_VERDICTS) {
                crashes.incrementAndGet();
                throw new SimulatedCrash(CRASH_AFTER_VERDICTS);
            }
        }
    }

    private KafkaStreams start(StreamsSettings settings, VerdictListener listener) {
        Properties props = settings.toProperties();
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), SESSION_TIMEOUT_MS);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), HEARTBEAT_INTERVAL_MS);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), TRANSACTION_TIMEOUT_MS);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndFailProcessingExceptionHandler.class);
        // A restarted instance that must restore is given tasks at once, not after a probing rebalance
        // minutes later: the test is about exactly-once across moves, so the moves must happen.
        props.put(StreamsConfig.ACCEPTABLE_RECOVERY_LAG_CONFIG, Long.MAX_VALUE);
        KafkaStreams streams = new KafkaStreams(BalanceTopology.build(settings, listener, new OutcomeCounters()), props);
        streams.setUncaughtExceptionHandler(this::onThreadDeath);
        instances.add(streams);
        streams.start();
        return streams;
    }

    private StreamThreadExceptionResponse onThreadDeath(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof SimulatedCrash) {
                return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
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
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(config, new LongSerializer(), new ByteArraySerializer());
    }

    private void produce(KafkaProducer<Long, byte[]> producer, List<ChangeCommand> commands) throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>(commands.size());
        for (ChangeCommand command : commands) {
            // Stamped now: the records live as long as the test reads them, whatever the topic's retention.
            sent.add(producer.send(new ProducerRecord<>(topics.changes(), null, System.currentTimeMillis(),
                    command.accountId(), Codecs.encodeCommand(command))));
        }
        producer.flush();
        for (Future<RecordMetadata> result : sent) {
            result.get();
        }
    }

    // ---- output ----

    /** Every committed event so far, read with read_committed, in log order per account. */
    private record Committed(List<BalanceEvent> events) {
        List<BalanceEvent> verdicts() {
            return events.stream().filter(event -> !event.leg().internal()).toList();
        }

        List<BalanceEvent> appliedDebits() {
            return events.stream().filter(event -> event.leg() == Leg.DEBIT && event.movedBalance()).toList();
        }

        long refusedDebits() {
            return events.stream().filter(event -> event.leg() == Leg.DEBIT
                    && event.result().status() == Result.Status.REJECTED).count();
        }

        long credits() {
            return events.stream().filter(event -> event.leg() == Leg.CREDIT).count();
        }
    }

    private final Map<TopicPartition, List<BalanceEvent>> readSoFar = new LinkedHashMap<>();
    private KafkaConsumer<Long, byte[]> eventsConsumer;

    private boolean allDecided(int commandCount) {
        Committed committed = readCommitted();
        return committed.verdicts().size() >= commandCount && committed.credits() >= committed.appliedDebits().size();
    }

    private Committed awaitEverythingCommitted(int commandCount) {
        await("every command and every credit committed").atMost(WAIT_MAX).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    assertThat(unexpectedErrors).isEmpty();
                    return allDecided(commandCount);
                });
        Committed committed = readCommitted();
        eventsConsumer.close();
        return committed;
    }

    /** Reads on from where the last call stopped; returns everything read so far. */
    private Committed readCommitted() {
        if (eventsConsumer == null) {
            Map<String, Object> config = new HashMap<>();
            config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            eventsConsumer = new KafkaConsumer<>(config, new LongDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> partitions = IntStream.range(0, PARTITIONS)
                    .mapToObj(p -> new TopicPartition(topics.events(), p)).toList();
            eventsConsumer.assign(partitions);
            eventsConsumer.seekToBeginning(partitions);
            partitions.forEach(partition -> readSoFar.put(partition, new ArrayList<>()));
        }
        for (int polls = 0; polls < 20; polls++) {
            var records = eventsConsumer.poll(Duration.ofMillis(100));
            if (records.isEmpty()) {
                break;
            }
            for (ConsumerRecord<Long, byte[]> record : records) {
                BalanceEvent event = Codecs.decodeEvent(record.value());
                assertThat(record.key()).as("event key is its account").isEqualTo(event.accountId());
                readSoFar.get(new TopicPartition(record.topic(), record.partition())).add(event);
            }
        }
        List<BalanceEvent> all = new ArrayList<>();
        readSoFar.values().forEach(all::addAll);
        return new Committed(all);
    }

    // ---- the checks ----

    private static void assertOneVerdictPerCommand(Committed committed, List<ChangeCommand> commands) {
        Map<String, Long> verdictsById = new HashMap<>();
        for (BalanceEvent verdict : committed.verdicts()) {
            assertThat(verdict.replay()).as("seed %d: no command was sent twice, so no replay: %s", SEED, verdict)
                    .isFalse();
            verdictsById.merge(verdict.accountId() + "/" + verdict.transactionId(), 1L, Long::sum);
        }
        assertThat(verdictsById).as("seed %d: one committed verdict per command", SEED).hasSize(commands.size());
        assertThat(verdictsById.values()).as("seed %d: never two verdicts for one command", SEED).containsOnly(1L);
    }

    private static void assertOneCreditPerAppliedDebit(Committed committed) {
        Map<String, BalanceEvent> debits = new HashMap<>();
        for (BalanceEvent debit : committed.appliedDebits()) {
            debits.put(debit.accountId() + "/" + debit.transactionId(), debit);
        }
        Map<String, Integer> creditsPerDebit = new HashMap<>();
        for (BalanceEvent credit : committed.events()) {
            if (credit.leg() != Leg.CREDIT) {
                continue;
            }
            String debitKey = credit.toAccountId() + "/" + credit.transactionId();
            BalanceEvent debit = debits.get(debitKey);
            assertThat(debit).as("seed %d: a credit without an applied debit: %s", SEED, credit).isNotNull();
            assertThat(credit.accountId()).as("credited where the debit sent it").isEqualTo(debit.toAccountId());
            assertThat(credit.amount()).as("the debit's amount").isEqualByComparingTo(debit.amount());
            assertThat(credit.result()).as("seed %d: no credit here can pass the limit", SEED).isEqualTo(Result.APPLIED);
            creditsPerDebit.merge(debitKey, 1, Integer::sum);
        }
        assertThat(creditsPerDebit.keySet()).as("seed %d: every applied debit was credited", SEED)
                .isEqualTo(debits.keySet());
        assertThat(creditsPerDebit.values()).as("seed %d: exactly once", SEED).containsOnly(1);
    }

    /**
     * Per balance, in log order, the applied events have versions 1..N, each starting from where the
     * previous left off and moving by its amount as its rule says; returns the end of every chain.
     */
    private static Map<String, Balance> assertChainsOfVersions(Committed committed) {
        Map<String, Balance> ends = new HashMap<>();
        for (BalanceEvent event : committed.events()) {
            if (!event.movedBalance()) {
                continue;
            }
            String key = event.accountId() + "/" + event.currency();
            Balance previous = ends.getOrDefault(key, Balance.zero(6));
            String where = "seed " + SEED + " " + key + " " + event;
            assertThat(event.version()).as(where + ": next version").isEqualTo(previous.version() + 1);
            assertThat(event.availableBefore()).as(where + ": available before").isEqualByComparingTo(previous.available());
            assertThat(event.frozenBefore()).as(where + ": frozen before").isEqualByComparingTo(previous.frozen());
            BigDecimal[] delta = delta(event);
            assertThat(event.availableAfter()).as(where + ": available after")
                    .isEqualByComparingTo(previous.available().add(delta[0]));
            assertThat(event.frozenAfter()).as(where + ": frozen after")
                    .isEqualByComparingTo(previous.frozen().add(delta[1]));
            assertThat(event.availableAfter().signum()).as(where + ": never negative").isNotNegative();
            assertThat(event.frozenAfter().signum()).as(where + ": never negative").isNotNegative();
            ends.put(key, event.balanceAfter());
        }
        return ends;
    }

    /** What an applied event does to (available, frozen) by its rule and leg. */
    private static BigDecimal[] delta(BalanceEvent event) {
        BigDecimal amount = event.amount();
        BigDecimal none = BigDecimal.ZERO;
        if (event.leg() == Leg.CREDIT) {
            return new BigDecimal[] {amount, none};
        }
        return switch (event.type()) {
            case DEPOSIT -> new BigDecimal[] {amount, none};
            case TRANSFER, WITHDRAW -> new BigDecimal[] {amount.negate(), none};
            case FREEZE -> new BigDecimal[] {amount.negate(), amount};
            case UNFREEZE -> new BigDecimal[] {amount, amount.negate()};
            case SETTLE -> new BigDecimal[] {none, amount.negate()};
        };
    }

    private void assertStoresHoldTheEndOfEveryChain(Map<String, Balance> chainEnds) {
        List<KafkaStreams> running = instances.stream()
                .filter(streams -> streams.state() == KafkaStreams.State.RUNNING).toList();
        await("the stores of the running instances hold every chain's end").atMost(WAIT_MAX)
                .ignoreExceptionsInstanceOf(InvalidStateStoreException.class)
                .untilAsserted(() -> {
                    Map<String, Balance> stored = new HashMap<>();
                    for (KafkaStreams streams : running) {
                        stored.putAll(storedBalances(streams));
                    }
                    assertThat(stored.keySet()).isEqualTo(chainEnds.keySet());
                    chainEnds.forEach((key, end) -> {
                        assertThat(stored.get(key).available()).as(key).isEqualByComparingTo(end.available());
                        assertThat(stored.get(key).frozen()).as(key).isEqualByComparingTo(end.frozen());
                        assertThat(stored.get(key).version()).as(key).isEqualTo(end.version());
                    });
                });
    }

    private static Map<String, Balance> storedBalances(KafkaStreams streams) {
        ReadOnlyKeyValueStore<Bytes, byte[]> store = streams.store(StoreQueryParameters.fromNameAndType(
                Stores.ACCOUNTS, QueryableStoreTypes.<Bytes, byte[]>keyValueStore()));
        Map<String, Balance> balances = new HashMap<>();
        try (KeyValueIterator<Bytes, byte[]> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<Bytes, byte[]> entry = all.next();
                if (StoreKeys.isBalanceKey(entry.key)) {
                    balances.put(StoreKeys.accountOf(entry.key) + "/" + StoreKeys.suffixOf(entry.key),
                            Codecs.decodeBalance(entry.value));
                }
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
