package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static dev.balance.api.NodeFixture.get;
import static dev.balance.api.NodeFixture.post;
import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.api.NodeFixture.Answer;
import dev.balance.topology.model.Result;
import dev.balance.topology.testkit.KafkaBroker;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cluster configured as in the earlier design, with HMAC_SECRET only: its clients sign
 * {@code timestamp:body}, and the nodes forward to each other under a node key derived from the
 * secret, so such a deployment keeps working after the upgrade without new settings.
 */
class LegacySecretClusterIT {

    private static final String SECRET = "the-cluster-secret-of-earlier-days";

    private static KafkaBroker broker;
    private static BalanceNode a;
    private static BalanceNode b;
    private static int portA;
    private static int portB;

    @BeforeAll
    static void start() {
        broker = KafkaBroker.start();
        String cluster = NodeFixture.newCluster();
        portA = NodeFixture.freePort();
        portB = NodeFixture.freePort();
        Map<String, String> env = Map.of("DEV_MODE", "false", "HMAC_SECRET", SECRET);
        a = NodeFixture.startNode(NodeFixture.env(broker, cluster, portA, env));
        b = NodeFixture.startNode(NodeFixture.env(broker, cluster, portB, env));
        NodeFixture.awaitSettled(a, portA, b, portB, LegacySecretClusterIT::readStatus);
    }

    @AfterAll
    static void stop() {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
        broker.close();
    }

    @Test
    void shouldForwardChangesAndReadsSignedTheEarlierWay() {
        long ownedByB = MultiNodeIT.accountOwnedBy(a, portB);
        String body = change("legacy-1", ownedByB, "ETH", "DEPOSIT", "0.25");
        long appliedByB = b.counters().count(Result.APPLIED);

        Answer write = post(portA, "/api/v1/balance/change", body, Signing.legacy(SECRET, body));
        Answer read = get(portA, "/api/v1/balance/" + ownedByB + "/ETH", Signing.legacy(SECRET, ""));
        Answer unsigned = get(portA, "/api/v1/balance/" + ownedByB + "/ETH");

        assertThat(write.status()).as(write.raw().body()).isEqualTo(200);
        assertThat(b.counters().count(Result.APPLIED)).isEqualTo(appliedByB + 1);
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.body().at("/balance/available").asText()).isEqualTo("0.250000000000000000");
        assertThat(unsigned.status()).isEqualTo(401);
    }

    private static int readStatus(int port, long account) {
        return get(port, "/api/v1/balance/" + account, Signing.legacy(SECRET, "")).status();
    }
}
