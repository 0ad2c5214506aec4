package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class GroupLagTest {

    private static final TopicPartition P0 = new TopicPartition("b1-balance-events", 0);
    private static final TopicPartition P1 = new TopicPartition("b1-balance-events", 1);
    private static final TopicPartition P2 = new TopicPartition("b1-balance-events", 2);

    @Test
    void lagIsTheEndMinusTheCommittedOffsetSummedOverPartitions() {
        GroupLag lag = GroupLag.of(Map.of(P0, 100L, P1, 50L, P2, 10L), Map.of(P0, 60L, P1, 50L, P2, 4L));

        assertThat(lag.lag()).isEqualTo(40 + 0 + 6);
        assertThat(lag.committed()).isEqualTo(60 + 50 + 4);
        assertThat(lag.total()).isEqualTo(160);
    }

    @Test
    void aPartitionWithoutACommittedOffsetCountsFromZero() {
        GroupLag lag = GroupLag.of(Map.of(P0, 100L, P1, 30L), Map.of(P0, 100L));

        assertThat(lag.lag()).isEqualTo(30);
        assertThat(lag.committed()).isEqualTo(100);
    }

    @Test
    void anOffsetReadAfterTheEndCountsAsTheEndSoLagIsNeverNegative() {
        GroupLag lag = GroupLag.of(Map.of(P0, 100L), Map.of(P0, 120L));

        assertThat(lag.lag()).isZero();
        assertThat(lag.committed()).isEqualTo(100);
    }

    @Test
    void offsetsOfOtherTopicsAreNotCounted() {
        TopicPartition other = new TopicPartition("b1-balance-changes", 0);

        GroupLag lag = GroupLag.of(Map.of(P0, 10L), Map.of(P0, 5L, other, 1_000L));

        assertThat(lag.committed()).isEqualTo(5);
        assertThat(lag.lag()).isEqualTo(5);
    }

    @Test
    void aNegativeFigureIsRefused() {
        assertThatThrownBy(() -> new GroupLag(-1, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
