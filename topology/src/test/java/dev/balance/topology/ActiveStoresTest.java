package dev.balance.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;

class ActiveStoresTest {

    @Test
    void shouldHandOutTheStoreOfARunningTaskAndForgetItWhenTheTaskCloses() {
        StreamsSettings settings = DriverFixture.settings();
        ActiveStores activeStores = new ActiveStores();
        java.util.List<Integer> closed = new java.util.ArrayList<>();
        activeStores.onClosed(closed::add);
        TopologyTestDriver driver = new TopologyTestDriver(BalanceTopology.build(settings, VerdictListener.NONE,
                new OutcomeCounters(), activeStores), settings.toProperties(), DriverFixture.WALL_CLOCK_START);
        var changes = driver.createInputTopic(settings.topics().changes(), new LongSerializer(),
                new ByteArraySerializer(), Instant.EPOCH, Duration.ZERO);

        changes.pipeInput(42L, Codecs.encodeCommand(ChangeCommand.of("d1", 42L, "BTC", ChangeType.DEPOSIT,
                new BigDecimal("1.5"))), 1_000L);

        assertThat(activeStores.get(0)).as("the one task's store").isNotNull();
        byte[] stored = activeStores.get(0).get(StoreKeys.balanceKey(42L, "BTC"));
        assertThat(Codecs.decodeBalance(stored).available()).isEqualByComparingTo("1.5");
        assertThat(activeStores.get(1)).as("no task of partition 1 here").isNull();
        assertThat(closed).isEmpty();

        driver.close();

        assertThat(activeStores.get(0)).as("forgotten when the task closed").isNull();
        assertThat(closed).as("the close listeners heard of it once").containsExactly(0);
    }
}
