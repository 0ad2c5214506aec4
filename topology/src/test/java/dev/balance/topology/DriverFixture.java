package dev.balance.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The real topology in a {@link TopologyTestDriver}: one partition, a commit after every record.
 * It checks logic only; exactly-once and crashes need a real broker (see ExactlyOnceCrashIT).
 */
final class DriverFixture implements AutoCloseable {

    /** The wall clock the driver starts at; verdicts must never depend on it. */
    static final Instant WALL_CLOCK_START = Instant.parse("2030-01-01T00:00:00Z");

    final StreamsSettings settings;
    final TopologyTestDriver driver;
    final OutcomeCounters counters = new OutcomeCounters();
    final TestInputTopic<Long, byte[]> changes;
    final TestInputTopic<byte[], byte[]> rawChanges;
    final TestOutputTopic<Long, byte[]> events;
    final TestOutputTopic<byte[], byte[]> dlq;

    private DriverFixture(StreamsSettings settings, VerdictListener listener) {
        this.settings = settings;
        Properties props = settings.toProperties();
        this.driver = new TopologyTestDriver(BalanceTopology.build(settings, listener, counters), props,
                WALL_CLOCK_START);
        this.changes = driver.createInputTopic(settings.topics().changes(), new LongSerializer(),
                new ByteArraySerializer(), Instant.EPOCH, Duration.ZERO);
        this.rawChanges = driver.createInputTopic(settings.topics().changes(), new ByteArraySerializer(),
                new ByteArraySerializer(), Instant.EPOCH, Duration.ZERO);
        this.events = driver.createOutputTopic(settings.topics().events(), new LongDeserializer(),
                new ByteArrayDeserializer());
        this.dlq = driver.createOutputTopic(settings.topics().dlq(), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
    }

    static StreamsSettings settings() {
        try {
            Path base = Paths.get("target", "driver-state");
            Files.createDirectories(base);
            Path dir = Files.createTempDirectory(base.toAbsolutePath(), "state-");
            return StreamsSettings.localDefaults("unused:9092", dir.toString())
                    .withApplicationId("balance-driver-" + dir.getFileName());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static DriverFixture start(StreamsSettings settings, VerdictListener listener) {
        return new DriverFixture(settings, listener);
    }

    /** Sends one command keyed by its own account and returns the one event it produced. */
    BalanceEvent send(ChangeCommand command, long timestampMs) {
        changes.pipeInput(command.accountId(), Codecs.encodeCommand(command), timestampMs);
        return onlyEvent(command.accountId());
    }

    /**
     * Sends one command keyed by its own account and returns every event it led to, in order: its
     * verdict, then the legs the driver processed right after it (a credit, a refund).
     */
    List<BalanceEvent> sendAll(ChangeCommand command, long timestampMs) {
        changes.pipeInput(command.accountId(), Codecs.encodeCommand(command), timestampMs);
        assertThat(dlq.isEmpty()).as("no dead letter expected").isTrue();
        List<BalanceEvent> all = new ArrayList<>();
        for (var record : events.readRecordsToList()) {
            BalanceEvent event = Codecs.decodeEvent(record.value());
            assertThat(record.key()).as("event key is the account id").isEqualTo(event.accountId());
            all.add(event);
        }
        assertThat(all).as("at least the command's own event").isNotEmpty();
        return all;
    }

    /** The single event the last input produced; fails when there is none, several, or a dead letter. */
    BalanceEvent onlyEvent(long expectedKey) {
        assertThat(dlq.isEmpty()).as("no dead letter expected").isTrue();
        assertThat(events.getQueueSize()).as("exactly one event per command").isEqualTo(1);
        var record = events.readRecord();
        assertThat(record.key()).as("event key is the account id").isEqualTo(expectedKey);
        return Codecs.decodeEvent(record.value());
    }

    /** The stored balance, or null when the account never had an applied change in this currency. */
    Balance storedBalance(long accountId, String currency) {
        KeyValueStore<Bytes, byte[]> store = driver.getKeyValueStore(Stores.ACCOUNTS);
        byte[] raw = store.get(StoreKeys.balanceKey(accountId, currency));
        return raw == null ? null : Codecs.decodeBalance(raw);
    }

    /** Every key in the accounts store, in store order: balances first, then remembered verdicts. */
    List<Bytes> storedKeys() {
        List<Bytes> keys = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> all = accountsStore().all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        return keys;
    }

    /** The one store of balances and remembered verdicts; {@link StoreKeys} tells them apart. */
    KeyValueStore<Bytes, byte[]> accountsStore() {
        return driver.getKeyValueStore(Stores.ACCOUNTS);
    }

    @Override
    public void close() {
        driver.close();
    }
}
