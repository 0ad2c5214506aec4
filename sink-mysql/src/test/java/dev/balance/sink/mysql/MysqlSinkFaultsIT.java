package dev.balance.sink.mysql;

import static dev.balance.sink.mysql.SinkTestSupport.WRITE_WAIT;
import static dev.balance.sink.mysql.SinkTestSupport.awaitCommittedToEnd;
import static dev.balance.sink.mysql.SinkTestSupport.committed;
import static dev.balance.sink.mysql.SinkTestSupport.config;
import static dev.balance.sink.mysql.SinkTestSupport.produce;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.balance.sink.mysql.SinkTestSupport.Names;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sink when things break: the database unreachable (through a proxy that cuts every
 * connection), a sink stopped in the middle of a batch, partitions moving between sinks.
 */
class MysqlSinkFaultsIT {

    private static KafkaBroker broker;

    private TestDatabase database;
    private Names names;
    private TcpProxy proxy;

    @BeforeAll
    static void startBroker() {
        broker = KafkaBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @BeforeEach
    void freshNames() throws IOException {
        database = TestDatabase.random();
        names = Names.random();
        broker.createTopics(3, names.events(), names.dlq());
        proxy = new TcpProxy(TestDatabase.HOST, TestDatabase.PORT);
    }

    @AfterEach
    void cleanUp() throws IOException {
        proxy.close();
        database.close();
    }

    @Test
    void shouldLoseNothingWhenTheDatabaseIsUnreachableMidStream() {
        // Given a sink writing through a proxy, with the first half of a stream written
        EventStream stream = EventStream.random(11, 20, 3000);
        List<BalanceEvent> events = stream.events();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (MysqlSink sink = new MysqlSink(config(broker, database.urlThrough(proxy.port()), names, Map.of()),
                registry)) {
            sink.start();
            produce(broker, names.events(), events.subList(0, 1500));
            awaitCommittedToEnd(broker, names.group(), names.events());
            long journalBefore = database.count("balance_journal");

            // When the database becomes unreachable while the second half arrives
            proxy.cut();
            produce(broker, names.events(), events.subList(1500, events.size()));
            await().atMost(WRITE_WAIT)
                    .until(() -> registry.get("balance_sink_mysql_retries").counter().count() >= 3);
            Map<TopicPartition, Long> committedWhileDown = committed(broker, names.group());
            await().atMost(WRITE_WAIT)
                    .until(() -> registry.get("balance_sink_mysql_retries").counter().count() >= 6);

            // Then the sink makes no progress past the unwritten batch while it retries
            assertThat(committed(broker, names.group())).isEqualTo(committedWhileDown);
            assertThat(SinkTestSupport.committedToEnd(broker, names.group(), names.events())).isFalse();
            assertThat(database.count("balance_journal")).isEqualTo(journalBefore);
            assertThat(registry.get("balance_sink_mysql_consumer_lag").gauge().value()).isPositive();

            // And when the database is back, everything is written exactly once
            proxy.restore();
            awaitCommittedToEnd(broker, names.group(), names.events());
        }
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal());
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
        assertThat(registry.get("balance_sink_mysql_dlq").counter().count()).isZero();
    }

    @Test
    void shouldEndWithTheExactTablesWhenASinkIsKilledMidBatchAndRestarted() {
        // Given a stream and a sink whose database connection breaks in the middle of a transaction
        EventStream stream = EventStream.random(23, 30, 6000);
        produce(broker, names.events(), stream.events());
        MysqlSinkConfig config = config(broker, database.urlThrough(proxy.port()), names,
                Map.of("SINK_MYSQL_BATCH_SIZE_MAX", "500"));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        proxy.cutAfterBytes(400_000);
        try (MysqlSink sink = new MysqlSink(config, registry)) {
            sink.start();
            await().atMost(WRITE_WAIT).until(proxy::isCut);
            await().atMost(WRITE_WAIT)
                    .until(() -> registry.get("balance_sink_mysql_retries").counter().count() >= 1);
            // When the sink is stopped while its batch is unwritten
        }
        long journalAtKill = database.count("balance_journal");
        assertThat(journalAtKill).isPositive().isLessThan(stream.appliedCount());

        // And a new sink of the same group starts once the database is reachable again
        proxy.restore();
        try (MysqlSink sink = new MysqlSink(config, new SimpleMeterRegistry())) {
            sink.start();
            awaitCommittedToEnd(broker, names.group(), names.events());
        }

        // Then the tables are exactly those of one delivery of every event
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal());
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
    }

    @Test
    void shouldCreateTheDatabaseAndWriteOnceItComesUpAfterTheSink() {
        // Given a sink started while the database is unreachable
        EventStream stream = EventStream.random(5, 10, 500);
        proxy.cut();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (MysqlSink sink = new MysqlSink(config(broker, database.urlThrough(proxy.port()), names, Map.of()),
                registry)) {
            sink.start();
            produce(broker, names.events(), stream.events());
            await().atMost(WRITE_WAIT)
                    .until(() -> registry.get("balance_sink_mysql_retries").counter().count() >= 2);
            assertThat(database.exists()).isFalse();
            assertThat(committed(broker, names.group())).isEmpty();

            // When the database becomes reachable
            proxy.restore();
            awaitCommittedToEnd(broker, names.group(), names.events());
        }

        // Then the sink created the database and wrote every applied event
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal());
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
    }

    @Test
    void shouldWriteEveryEventOnceWhenPartitionsMoveBetweenSinks() {
        // Given two sinks of one group sharing the partitions
        EventStream stream = EventStream.random(31, 40, 4000);
        List<BalanceEvent> events = stream.events();
        MysqlSinkConfig config = config(broker, database.url(), names, Map.of());
        try (MysqlSink stays = new MysqlSink(config, new SimpleMeterRegistry())) {
            stays.start();
            try (MysqlSink leaves = new MysqlSink(config, new SimpleMeterRegistry())) {
                leaves.start();
                produce(broker, names.events(), events.subList(0, 2000));
                awaitCommittedToEnd(broker, names.group(), names.events());

                // When one of them leaves while more events arrive
                produce(broker, names.events(), events.subList(2000, 3000));
            }
            produce(broker, names.events(), events.subList(3000, events.size()));

            // Then the one that stays takes its partitions over and finishes the stream
            awaitCommittedToEnd(broker, names.group(), names.events());
            assertThat(stays.isRunning()).isTrue();
        }
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal());
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
    }

    @Test
    void shouldStopPromptlyWhileWaitingForTheDatabase() {
        // Given a sink retrying against an unreachable database
        proxy.cut();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MysqlSink sink = new MysqlSink(config(broker, database.urlThrough(proxy.port()), names,
                Map.of("SINK_MYSQL_RETRY_BACKOFF_MAX_MS", "60000")), registry);
        sink.start();
        await().atMost(WRITE_WAIT).until(() -> registry.get("balance_sink_mysql_retries").counter().count() >= 3);

        // When it is closed
        long startedNs = System.nanoTime();
        sink.close();

        // Then it stops within the connect timeout, without waiting out its backoff
        assertThat(sink.isRunning()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - startedNs)).isLessThan(Duration.ofSeconds(10));
        assertThat(sink.failure()).isEmpty();
    }
}
