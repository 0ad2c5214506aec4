package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static dev.balance.api.NodeFixture.get;
import static dev.balance.api.NodeFixture.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.balance.api.NodeFixture.Answer;
import dev.balance.topology.model.Result;
import dev.balance.topology.testkit.KafkaBroker;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two nodes with API_KEYS: requests for the other node's accounts are forwarded with a node
 * signature of their own, checked by the owner. The nodes are in the middle of a rotation (A
 * holds the writer's old and new secret, B only the new one), and their node keys are derived
 * from those secrets, so forwarding must work both ways while the configurations differ.
 */
class SecureClusterIT {

    private static final String OLD = "writer-old-secret-0123";
    private static final String NEW = "writer-new-secret-0123";
    private static final String READER = "reader-secret-0123456";
    private static final String CHANGE = "/api/v1/balance/change";
    private static final String BATCH = "/api/v1/balance/changes";

    private static KafkaBroker broker;
    private static BalanceNode a;
    private static BalanceNode b;
    private static int portA;
    private static int portB;
    private static long ownedByA;
    private static long ownedByB;
    private static AuditCapture audit;

    @BeforeAll
    static void start() {
        audit = AuditCapture.start();
        broker = KafkaBroker.start();
        String cluster = NodeFixture.newCluster();
        portA = NodeFixture.freePort();
        portB = NodeFixture.freePort();
        a = NodeFixture.startNode(NodeFixture.env(broker, cluster, portA, Map.of("DEV_MODE", "false",
                "API_KEYS", "writer:" + OLD + ":write,writer:" + NEW + ":write,reader:" + READER + ":read")));
        b = NodeFixture.startNode(NodeFixture.env(broker, cluster, portB, Map.of("DEV_MODE", "false",
                "API_KEYS", "writer:" + NEW + ":write,reader:" + READER + ":read")));
        NodeFixture.awaitSettled(a, portA, b, portB, SecureClusterIT::readStatus);
        ownedByA = MultiNodeIT.accountOwnedBy(a, portA);
        ownedByB = MultiNodeIT.accountOwnedBy(a, portB);
    }

    private static int readStatus(int port, long account) {
        String path = "/api/v1/balance/" + account;
        return get(port, path, Signing.v2("reader", READER, "GET", path, "")).status();
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
    void shouldForwardSignedWritesReadsAndBatchesBetweenNodesWithKeys() {
        // When a change, a read and a verdict lookup for B's account go to A, and A's account to B
        String toA = change("sc-1", ownedByB, "BTC", "DEPOSIT", "2");
        Answer write = post(portA, CHANGE, toA, Signing.v2("writer", NEW, "POST", CHANGE, toA));
        String balancePath = "/api/v1/balance/" + ownedByB + "/BTC";
        Answer read = get(portA, balancePath, Signing.v2("reader", READER, "GET", balancePath, ""));
        String verdictPath = "/api/v1/transactions/" + ownedByB + "/sc-1";
        Answer verdict = get(portA, verdictPath, Signing.v2("reader", READER, "GET", verdictPath, ""));
        String toB = change("sc-2", ownedByA, "BTC", "DEPOSIT", "3");
        Answer writeViaB = post(portB, CHANGE, toB, Signing.v2("writer", NEW, "POST", CHANGE, toB));

        // Then each owner decided its own account and the other node relayed the answer
        assertThat(write.status()).as(write.raw().body()).isEqualTo(200);
        assertThat(read.status()).as(read.raw().body()).isEqualTo(200);
        assertThat(read.body().at("/balance/available").asText()).isEqualTo("2.00000000");
        assertThat(verdict.body().at("/transaction/result").asText()).isEqualTo("APPLIED");
        // (the reads reached B as groups under the node key: a refused group would have been asked singly)
        assertThat(NodeFixture.groupedReads(portB)).isGreaterThanOrEqualTo(2);
        assertThat(writeViaB.status()).isEqualTo(200);
        assertThat(audit.text())
                .contains("key_id=writer transaction_id=sc-1 account_id=" + ownedByB)
                .containsPattern("key_id=writer transaction_id=sc-1 .* route=forwarded:127.0.0.1:" + portB)
                .containsPattern("key_id=@node transaction_id=sc-1 .* route=local forwarded_by=127.0.0.1:" + portA)
                .doesNotContain(NEW, OLD);
        assertThat(b.counters().count(Result.APPLIED)).isGreaterThanOrEqualTo(1);
        assertThat(a.counters().count(Result.APPLIED)).isGreaterThanOrEqualTo(1);

        // And a batch to B mixing both owners gets every verdict in order
        String batch = "[" + change("sc-3", ownedByA, "USDT", "DEPOSIT", "5") + ","
                + change("sc-4", ownedByB, "USDT", "DEPOSIT", "7") + "]";
        Answer batchAnswer = post(portB, BATCH, batch, Signing.v2("writer", NEW, "POST", BATCH, batch));
        JsonNode results = batchAnswer.body().get("results");
        assertThat(batchAnswer.status()).isEqualTo(200);
        assertThat(results.get(0).get("code").asInt()).isEqualTo(200);
        assertThat(results.get(1).get("code").asInt()).isEqualTo(200);

        // And a read key's lookup through A gets B's item from B under the node key
        String lookup = "[{\"account_id\":" + ownedByA + ",\"currency_code\":\"USDT\"},{\"account_id\":" + ownedByB
                + ",\"currency_code\":\"USDT\"}]";
        Answer looked = post(portA, "/api/v1/balances/lookup", lookup,
                Signing.v2("reader", READER, "POST", "/api/v1/balances/lookup", lookup));
        assertThat(looked.status()).as(looked.raw().body()).isEqualTo(200);
        assertThat(looked.body().at("/results/0/balance/available").asText()).isEqualTo("5.000000");
        assertThat(looked.body().at("/results/1/balance/available").asText()).isEqualTo("7.000000");
    }

    @Test
    void shouldRefuseAReadKeyOnAChangeForAnotherNodesAccountBeforeForwarding() {
        String body = change("sc-5", ownedByB, "BTC", "DEPOSIT", "1");

        Answer answer = post(portA, CHANGE, body, Signing.v2("reader", READER, "POST", CHANGE, body));

        assertThat(answer.status()).isEqualTo(403);
        String path = "/api/v1/transactions/" + ownedByB + "/sc-5";
        assertThat(get(portA, path, Signing.v2("reader", READER, "GET", path, "")).status()).isEqualTo(404);
    }

    @Test
    void shouldForwardAClientRequestThatClaimsToBeForwarded() {
        // A client's forwarding mark does not make the non-owner answer from a store it does not own
        String body = change("sc-6", ownedByA, "ETH", "DEPOSIT", "1");
        Map<String, String> headers = new HashMap<>(Signing.v2("writer", NEW, "POST", CHANGE, body));
        headers.put("X-Balance-Forwarded", "127.0.0.1:1");
        long appliedByA = a.counters().count(Result.APPLIED);

        Answer answer = post(portB, CHANGE, body, headers);

        assertThat(answer.status()).isEqualTo(200);
        assertThat(a.counters().count(Result.APPLIED)).isEqualTo(appliedByA + 1);
    }
}
