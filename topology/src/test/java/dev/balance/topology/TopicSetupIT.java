package dev.balance.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.topology.testkit.KafkaBroker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;

class TopicSetupIT {

    @Test
    void shouldLetNodesStartingTogetherCreateTheTopicsOnceWithoutFailing() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start()) {
            // Given a fresh broker and the topic names of one deployment
            TopicNames names = TopicNames.withPrefix("race-");

            // When two nodes set the topics up at the same time
            CompletableFuture<List<String>> first = CompletableFuture.supplyAsync(
                    () -> TopicSetup.ensureTopics(broker.bootstrapServers(), KafkaClientProperties.none(), names, 3,
                            (short) 1, 1));
            CompletableFuture<List<String>> second = CompletableFuture.supplyAsync(
                    () -> TopicSetup.ensureTopics(broker.bootstrapServers(), KafkaClientProperties.none(), names, 3,
                            (short) 1, 1));
            List<String> created = new ArrayList<>(first.get(2, TimeUnit.MINUTES));
            created.addAll(second.get(2, TimeUnit.MINUTES));

            // Then both succeed, each topic was created exactly once, and commands carry the broker's clock
            assertThat(created).containsExactlyInAnyOrderElementsOf(names.all());
            try (Admin admin = broker.admin()) {
                assertThat(admin.listTopics().names().get(1, TimeUnit.MINUTES)).containsAll(names.all());
                ConfigResource changes = new ConfigResource(ConfigResource.Type.TOPIC, names.changes());
                String timestampType = admin.describeConfigs(List.of(changes)).all().get(1, TimeUnit.MINUTES)
                        .get(changes).get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG).value();
                assertThat(timestampType).isEqualTo("LogAppendTime");
            }
        }
    }
}
