package dev.balance.sink.mysql;

import static dev.balance.sink.mysql.SinkTestSupport.awaitCommittedToEnd;
import static dev.balance.sink.mysql.SinkTestSupport.config;
import static dev.balance.sink.mysql.SinkTestSupport.produce;
import static dev.balance.sink.mysql.SinkTestSupport.produceAborted;
import static dev.balance.sink.mysql.SinkTestSupport.produceRaw;
import static dev.balance.sink.mysql.SinkTestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.sink.mysql.SinkTestSupport.Names;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Result;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sink against a real broker and the real database: what ends up in the tables. */
class MysqlSinkIT {

    private static KafkaBroker broker;

    private TestDatabase database;
    private Names names;

    @BeforeAll
    static void startBroker() {
        broker = KafkaBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @BeforeEach
    void freshNames() {
        database = TestDatabase.random();
        names = Names.random();
        broker.createTopics(3, names.events(), names.dlq());
    }

    @AfterEach
    void dropDatabase() {
        database.close();
    }

    @Test
    void shouldWriteExactlyTheAppliedEventsOfAKnownStream() {
        // Given a stream of applied, rejected, replayed and conflicting events, plus applied
        // events inside an aborted transaction that read_committed must never show
        EventStream stream = EventStream.random(42, 25, 1500);
        assertThat(stream.notAppliedCount()).isGreaterThan(100);
        EventStream ghosts = EventStream.empty();
        BalanceEvent ghost = ghosts.change(7, "BTC", ChangeType.DEPOSIT, new BigDecimal("1000.00000000"), "ghost-1");
        List<BalanceEvent> events = stream.events();
        produce(broker, names.events(), events.subList(0, 700));
        produceAborted(broker, names.events(), List.of(ghost));
        produce(broker, names.events(), events.subList(700, events.size()));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        // When the sink reads the whole topic
        try (MysqlSink sink = new MysqlSink(config(broker, database.url(), names, Map.of()), registry)) {
            sink.start();
            awaitCommittedToEnd(broker, names.group(), names.events());
        }

        // Then the tables hold exactly the applied, non-replayed events and the final balances
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal());
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
        assertThat(database.journal()).noneMatch(row -> row.contains("ghost-1"));
        assertThat(registry.get("balance_sink_mysql_rows").counter().count()).isEqualTo(stream.appliedCount());
        assertThat(registry.get("balance_sink_mysql_skipped").counter().count()).isEqualTo(stream.notAppliedCount());
        assertThat(registry.get("balance_sink_mysql_batches").counter().count()).isPositive();
        assertThat(registry.get("balance_sink_mysql_batch_latency").timer().count()).isPositive();
        assertThat(registry.get("balance_sink_mysql_dlq").counter().count()).isZero();
    }

    @Test
    void shouldLeaveIdenticalTablesWhenTheSameEventsAreDeliveredTwice() {
        // Given a stream written once by a sink
        EventStream stream = EventStream.random(7, 10, 800);
        produce(broker, names.events(), stream.events());
        try (MysqlSink sink = new MysqlSink(config(broker, database.url(), names, Map.of()), new SimpleMeterRegistry())) {
            sink.start();
            awaitCommittedToEnd(broker, names.group(), names.events());
        }
        List<String> journalOnce = database.journal();
        List<String> balancesOnce = database.balances();

        // When a second sink with a new group reads the same topic from the start, in other batch sizes
        Names again = new Names(names.events(), names.dlq(), names.group() + "-again");
        MysqlSinkConfig againConfig = config(broker, database.url(), again, Map.of("SINK_MYSQL_BATCH_SIZE_MAX", "37"));
        try (MysqlSink sink = new MysqlSink(againConfig, new SimpleMeterRegistry())) {
            sink.start();
            awaitCommittedToEnd(broker, again.group(), again.events());
        }

        // Then both tables are exactly as after the first delivery, and as the model says
        assertThat(database.journal()).containsExactlyElementsOf(journalOnce);
        assertThat(database.balances()).containsExactlyElementsOf(balancesOnce);
        assertThat(journalOnce).containsExactlyElementsOf(stream.expectedJournal());
        assertThat(balancesOnce).containsExactlyElementsOf(stream.expectedBalances());
    }

    @Test
    void shouldNeverMoveABalanceBackNorWriteAJournalRowAgainWhenAnOlderVersionIsDeliveredAgain() {
        // Given versions 3 and 5 of a balance written
        EventStream stream = EventStream.empty();
        BalanceEvent version3 = applied("tx-3", 3, "30.000000");
        BalanceEvent version5 = applied("tx-5", 5, "50.000000");
        stream.add(version3);
        stream.add(version5);
        produce(broker, names.events(), List.of(version3, version5));
        try (MysqlSink sink = new MysqlSink(config(broker, database.url(), names, Map.of()), new SimpleMeterRegistry())) {
            sink.start();
            awaitCommittedToEnd(broker, names.group(), names.events());
            assertThat(database.balances()).containsExactly("9|USDT|" + TestDatabase.text(new BigDecimal("50")) + "|"
                    + TestDatabase.text(BigDecimal.ZERO) + "|5|" + JournalWriter.utc(version5.timestampMs()));

            // When version 3 of the same balance is delivered again afterwards (as a producer
            // retry or a replayed range would)
            produce(broker, names.events(), List.of(version3));
            awaitCommittedToEnd(broker, names.group(), names.events());
        }

        // Then the balance still shows version 5, and the journal holds each change once
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
        assertThat(database.balances()).singleElement().asString().contains("|5|");
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal()).hasSize(2);
    }

    @Test
    void shouldSendPoisonedEventsToTheDeadLetterTopicAndWriteTheRest() {
        // Given good events around an undecodable record and an event whose currency code is
        // longer than its column, all on one partition so they share batches
        EventStream stream = EventStream.empty();
        BalanceEvent before = applied("tx-before", 1, "10.000000");
        BalanceEvent tooLong = new BalanceEvent("tx-long", 9, "USDTXXXXXXXXXXXXXXXXXX", ChangeType.DEPOSIT,
                new BigDecimal("1"), 0L, Result.APPLIED, false, BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.ONE,
                BigDecimal.ZERO, 1, 1_700_000_000_000L, "user-9", null, null);
        BalanceEvent after = applied("tx-after", 2, "20.000000");
        stream.add(before);
        stream.add(after);
        produce(broker, names.events(), List.of(before));
        produceRaw(broker, names.events(), 9L, "not an event".getBytes(StandardCharsets.UTF_8));
        produce(broker, names.events(), List.of(tooLong, after));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        // When the sink reads them
        try (MysqlSink sink = new MysqlSink(config(broker, database.url(), names, Map.of()), registry)) {
            sink.start();
            awaitCommittedToEnd(broker, names.group(), names.events());
        }

        // Then the good events are written, and both poisoned records are in the DLQ with headers
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal());
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
        List<ConsumerRecord<byte[], byte[]>> letters = readAll(broker, names.dlq(), 2);
        assertThat(letters).hasSize(2);
        assertThat(letters).extracting(letter -> header(letter, "dlq.source.offset")).containsExactlyInAnyOrder("1", "2");
        assertThat(letters).extracting(letter -> header(letter, "dlq.source.topic")).containsOnly(names.events());
        assertThat(letters).extracting(letter -> header(letter, "dlq.error.class"))
                .anyMatch(name -> name.contains("Malformed"))
                .anyMatch(MysqlSinkIT::isSqlException);
        assertThat(letters).extracting(letter -> new String(letter.value(), StandardCharsets.UTF_8))
                .contains("not an event");
        assertThat(registry.get("balance_sink_mysql_dlq").counter().count()).isEqualTo(2.0);
    }

    /** An applied deposit on account 9 in USDT reaching the given version and available amount. */
    private static BalanceEvent applied(String transactionId, long version, String availableAfter) {
        BigDecimal after = new BigDecimal(availableAfter);
        BigDecimal amount = new BigDecimal("10.000000");
        return new BalanceEvent(transactionId, 9, "USDT", ChangeType.DEPOSIT, amount, 0L, Result.APPLIED, false,
                after.subtract(amount), BigDecimal.ZERO.setScale(6), after, BigDecimal.ZERO.setScale(6), version,
                1_700_000_000_000L + version * 1000, "user-9", "deposit " + transactionId, null);
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static boolean isSqlException(String className) {
        try {
            return java.sql.SQLException.class.isAssignableFrom(Class.forName(className));
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
