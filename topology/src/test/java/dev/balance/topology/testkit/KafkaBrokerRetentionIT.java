package dev.balance.topology.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Tests stamp records years in the past (1,700,000,000,000 ms); the test kit's topics must keep
 * them while a test reads them. A topic with the usual 7-day retention, beside it, shows that the
 * broker's retention check did run and would have deleted them.
 */
class KafkaBrokerRetentionIT {

    private static final long THREE_YEARS_AGO_MS = 1_700_000_000_000L;

    @Test
    void shouldKeepRecordsStampedYearsAgoInTheKitsTopics() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start()) {
            // Given the kit's topic and a topic with a 7-day retention, both holding old records
            broker.createTopics(1, "kept");
            broker.createTopics(1, Map.of("retention.ms", Long.toString(TimeUnit.DAYS.toMillis(7))), "weekly");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                    ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 3; i++) {
                    // Each old-stamped record rolls a new segment, so the earlier ones are closed segments.
                    for (String topic : List.of("kept", "weekly")) {
                        producer.send(new ProducerRecord<>(topic, null, THREE_YEARS_AGO_MS + i, "k", "v" + i)).get();
                    }
                }
            }

            try (Admin admin = broker.admin()) {
                // When the broker's retention check has run (the weekly topic lost its old segments)
                await("retention deletes the weekly topic's old segments").atMost(Duration.ofSeconds(60))
                        .until(() -> earliestOffset(admin, "weekly") > 0);

                // Then the kit's topic still holds every record
                assertThat(earliestOffset(admin, "kept")).isZero();
                assertThat(latestOffset(admin, "kept")).isEqualTo(3);
            }
        }
    }

    private static long earliestOffset(Admin admin, String topic) throws Exception {
        return offset(admin, topic, OffsetSpec.earliest());
    }

    private static long latestOffset(Admin admin, String topic) throws Exception {
        return offset(admin, topic, OffsetSpec.latest());
    }

    private static long offset(Admin admin, String topic, OffsetSpec spec) throws Exception {
        TopicPartition partition = new TopicPartition(topic, 0);
        return admin.listOffsets(Map.of(partition, spec)).partitionResult(partition).get(30, TimeUnit.SECONDS).offset();
    }
}
