package dev.balance.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientPropertiesTest {

    @TempDir
    Path dir;

    @Test
    void securitySettingsFromTheFileReachStreamsAndEveryOtherClientConfiguration() throws IOException {
        Path file = write("""
                # as for kafka-console-producer --command-config
                security.protocol=SASL_SSL
                sasl.mechanism=PLAIN
                sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\
                    username="balance" password="jaas-secret";
                ssl.truststore.location=/etc/balance/kafka-ca.p12
                ssl.truststore.password=store-secret
                """);

        KafkaClientProperties client = KafkaClientProperties.fromEnv(Map.of("KAFKA_CLIENT_PROPERTIES", file.toString()));
        Properties streams = StreamsSettings.localDefaults("broker:9093", dir.toString())
                .withClientProperties(client).toProperties();
        Map<String, Object> producer = client.addTo(Map.of(ProducerConfig.ACKS_CONFIG, "all"));

        assertThat(streams).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("ssl.truststore.location", "/etc/balance/kafka-ca.p12")
                .containsEntry("ssl.truststore.password", "store-secret")
                .containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        assertThat((String) streams.get("sasl.jaas.config")).contains("username=\"balance\" password=\"jaas-secret\"");
        assertThat(producer).containsEntry("acks", "all").containsEntry("sasl.mechanism", "PLAIN").hasSize(6);
        assertThat(client.securityProtocol()).isEqualTo("SASL_SSL");
    }

    @Test
    void secretsNeverAppearWhenTheSettingsArePrinted() throws IOException {
        Path file = write("""
                security.protocol=SSL
                ssl.truststore.location=/etc/balance/kafka-ca.p12
                ssl.truststore.type=PKCS12
                ssl.truststore.password=store-secret
                ssl.keystore.location=/etc/balance/client.p12
                ssl.keystore.password=keystore-secret
                ssl.key.password=key-secret
                sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required password="jaas-secret";
                """);

        KafkaClientProperties client = KafkaClientProperties.load(file);
        String printed = client + " " + StreamsSettings.localDefaults("b:1", dir.toString()).withClientProperties(client);

        assertThat(printed).doesNotContain("secret")
                .contains("security.protocol=SSL", "ssl.truststore.location=/etc/balance/kafka-ca.p12",
                        "ssl.truststore.type=PKCS12", "ssl.key.password=(hidden)", "sasl.jaas.config=(hidden)");
    }

    @Test
    void aKeyTheProjectSetsItselfIsRefusedAtStart() throws IOException {
        for (String line : new String[] {"acks=1", "enable.idempotence=false", "isolation.level=read_uncommitted",
                "processing.guarantee=at_least_once", "bootstrap.servers=elsewhere:9092", "replication.factor=1",
                "producer.ssl.truststore.location=/x", "client.id=x"}) {
            Path file = write("security.protocol=SSL\n" + line + "\n");
            String key = line.substring(0, line.indexOf('='));

            assertThatThrownBy(() -> KafkaClientProperties.load(file))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("KAFKA_CLIENT_PROPERTIES")
                    .hasMessageContaining("'" + key + "'")
                    .hasMessageContaining("only security.protocol, ssl.* and sasl.*");
        }
    }

    @Test
    void aMissingFileOrAnUnknownProtocolFailsWithAMessageNamingTheProblem() throws IOException {
        Path missing = dir.resolve("nowhere.properties");
        Path wrongProtocol = write("security.protocol=TLS\n");
        Path empty = write("ssl.truststore.password=\n");

        assertThatThrownBy(() -> KafkaClientProperties.fromEnv(Map.of("KAFKA_CLIENT_PROPERTIES", missing.toString())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("KAFKA_CLIENT_PROPERTIES").hasMessageContaining(missing.toString())
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> KafkaClientProperties.fromEnv(Map.of("KAFKA_CLIENT_PROPERTIES", dir.toString())))
                .hasMessageContaining("not a file");
        assertThatThrownBy(() -> KafkaClientProperties.load(wrongProtocol))
                .hasMessageContaining("security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got 'TLS'");
        assertThatThrownBy(() -> KafkaClientProperties.load(empty))
                .hasMessageContaining("'ssl.truststore.password' no value");
    }

    @Test
    void withoutTheVariableNothingIsAdded() {
        KafkaClientProperties client = KafkaClientProperties.fromEnv(Map.of("KAFKA_CLIENT_PROPERTIES", " "));

        assertThat(client).isEqualTo(KafkaClientProperties.none());
        assertThat(client.addTo(Map.of("acks", "all"))).isEqualTo(Map.of("acks", "all"));
        assertThat(client.securityProtocol()).isEqualTo("PLAINTEXT");
        assertThat(StreamsSettings.localDefaults("b:1", dir.toString()).toProperties().stringPropertyNames())
                .noneMatch(KafkaClientProperties::allowed);
    }

    private Path write(String text) throws IOException {
        return Files.writeString(Files.createTempFile(dir, "kafka-client", ".properties"), text);
    }
}
