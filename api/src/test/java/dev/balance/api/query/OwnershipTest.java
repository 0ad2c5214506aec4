package dev.balance.api.query;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.serialization.LongSerializer;
import org.junit.jupiter.api.Test;

class OwnershipTest {

    /** The cached owners are only right if the partition is computed exactly as the producer computes it. */
    @Test
    void shouldPlaceAnAccountInThePartitionTheProducerSendsItsCommandsTo() {
        LongSerializer serializer = new LongSerializer();
        for (int partitions : new int[] {1, 4, 12, 64}) {
            for (long account = 1; account < 5_000; account += 7) {
                assertThat(Ownership.partitionOf(account, partitions)).as("account %d of %d partitions", account, partitions)
                        .isEqualTo(BuiltInPartitioner.partitionForKey(serializer.serialize("t", account), partitions));
            }
        }
        assertThat(Ownership.partitionOf(Long.MAX_VALUE, 12)).isBetween(0, 11);
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        for (int i = 0; i < 100_000; i++) {
            long account = i < 10 ? new long[] {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 255, 256, 65_535, 1L << 32,
                    (1L << 32) - 1}[i] : random.nextLong();
            assertThat(Ownership.murmur2(account)).as("account %d", account)
                    .isEqualTo(org.apache.kafka.common.utils.Utils.murmur2(serializer.serialize("t", account)));
        }
    }
}
