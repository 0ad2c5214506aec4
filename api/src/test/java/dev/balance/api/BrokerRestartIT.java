package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static dev.balance.api.NodeFixture.get;
import static dev.balance.api.NodeFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.balance.api.NodeFixture.Answer;
import dev.balance.topology.testkit.KafkaBroker;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A broker restart loses no acknowledged change and applies none twice. */
class BrokerRestartIT {

    private static final int CHANGES = 40;
    private static final long ACCOUNT = 77;

    private KafkaBroker broker;
    private BalanceNode node;

    @BeforeEach
    void start() {
        broker = KafkaBroker.start();
    }

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
        broker.close();
    }

    @Test
    void shouldKeepEveryAcknowledgedChangeAndApplyNoneTwiceAcrossABrokerRestart() {
        // Given a node that acknowledged deposits of 1..40 USDT
        int port = NodeFixture.freePort();
        node = NodeFixture.startNode(NodeFixture.env(broker, NodeFixture.newCluster(), port, Map.of()));
        for (int i = 1; i <= CHANGES; i++) {
            assertThat(post(port, "/api/v1/balance/change", change("before-" + i, ACCOUNT, "USDT", "DEPOSIT", Integer.toString(i)))
                    .status()).isEqualTo(200);
        }

        // When the broker restarts
        broker.restart();

        // Then retries of the acknowledged changes are replays, never applied again
        for (int i = 1; i <= CHANGES; i++) {
            String body = change("before-" + i, ACCOUNT, "USDT", "DEPOSIT", Integer.toString(i));
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                Answer retry = post(port, "/api/v1/balance/change", body);
                assertThat(retry.status()).as(retry.body().toString()).isEqualTo(200);
                assertThat(retry.body().get("replay").asBoolean()).isTrue();
            });
        }
        // And new changes apply on top of every acknowledged one
        for (int i = 1; i <= CHANGES; i++) {
            assertThat(post(port, "/api/v1/balance/change", change("after-" + i, ACCOUNT, "USDT", "WITHDRAW", "1"))
                    .status()).isEqualTo(200);
        }
        Answer balance = get(port, "/api/v1/balance/" + ACCOUNT + "/USDT");
        int deposited = CHANGES * (CHANGES + 1) / 2;
        assertThat(balance.body().at("/balance/available").asText()).isEqualTo((deposited - CHANGES) + ".000000");
        assertThat(balance.body().at("/balance/version").asLong()).isEqualTo(2L * CHANGES);
    }
}
