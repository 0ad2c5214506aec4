package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static dev.balance.api.NodeFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.balance.api.http.RequestSigner;
import dev.balance.topology.testkit.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** With a secret configured, mutating requests must carry a valid, fresh HMAC signature. */
class SigningIT {

    private static final String SECRET = "test-secret-of-this-cluster";
    private static KafkaBroker broker;
    private static BalanceNode node;
    private static int port;

    @BeforeAll
    static void start() {
        broker = KafkaBroker.start();
        port = NodeFixture.freePort();
        node = NodeFixture.startNode(NodeFixture.env(broker, NodeFixture.newCluster(), port,
                Map.of("HMAC_SECRET", SECRET, "DEV_MODE", "false")));
    }

    @AfterAll
    static void stop() {
        node.close();
        broker.close();
    }

    @Test
    void shouldRefuseAnUnsignedChangeWith401() {
        var answer = post(port, "/api/v1/balance/change", change("s1", 1, "BTC", "DEPOSIT", "1"));

        assertThat(answer.status()).isEqualTo(401);
        assertThat(answer.body().get("error").asText()).isEqualTo("UNAUTHORIZED");
    }

    @Test
    void shouldApplyAChangeWithAValidSignature() {
        String body = change("s2", 2, "BTC", "DEPOSIT", "1");
        String timestamp = Long.toString(System.currentTimeMillis());

        var answer = post(port, "/api/v1/balance/change", body, signed(timestamp, body));

        assertThat(answer.status()).isEqualTo(200);
    }

    @Test
    void shouldRefuseASignatureOfAnotherBodyOrAnExpiredTimestamp() {
        String body = change("s3", 3, "BTC", "DEPOSIT", "1");
        String now = Long.toString(System.currentTimeMillis());
        String old = Long.toString(System.currentTimeMillis() - 3_600_000);
        String tampered = change("s3", 3, "BTC", "DEPOSIT", "1000");

        assertThat(post(port, "/api/v1/balance/change", tampered, signed(now, body)).status()).isEqualTo(401);
        assertThat(post(port, "/api/v1/balance/change", body, signed(old, body)).status()).isEqualTo(401);
        assertThat(NodeFixture.get(port, "/api/v1/balance/3/BTC").body().at("/balance/version").asLong()).isZero();
    }

    @Test
    void shouldRefuseToStartOutsideDevelopmentModeWithoutASecret() {
        assertThatThrownBy(() -> NodeConfig.fromEnv(Map.of("DEV_MODE", "false")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("HMAC_SECRET");
    }

    private static Map<String, String> signed(String timestamp, String body) {
        RequestSigner signer = new RequestSigner(SECRET, 300_000);
        return Map.of(RequestSigner.TIMESTAMP_HEADER, timestamp,
                RequestSigner.SIGNATURE_HEADER, signer.sign(timestamp, body.getBytes(StandardCharsets.UTF_8)));
    }
}
