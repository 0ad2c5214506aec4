package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static dev.balance.api.NodeFixture.get;
import static dev.balance.api.NodeFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.balance.api.NodeFixture.Answer;
import dev.balance.topology.testkit.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** TRANSFER and SETTLE to another account over real HTTP against one node, a real broker. */
class TransferIT {

    private static final Logger LOG = LoggerFactory.getLogger(TransferIT.class);
    private static final AtomicLong ACCOUNTS = new AtomicLong(7_000);
    private static final Duration CREDIT_WAIT_MAX = Duration.ofSeconds(30);
    private static KafkaBroker broker;
    private static BalanceNode node;
    private static int port;

    @BeforeAll
    static void startNode() {
        broker = KafkaBroker.start();
        port = NodeFixture.freePort();
        node = NodeFixture.startNode(NodeFixture.env(broker, NodeFixture.newCluster(), port, Map.of()));
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void shouldAnswerATransferWithTheDebitsVerdictNamingTheDestinationAndCreditItThere() {
        long alice = ACCOUNTS.incrementAndGet();
        long bob = ACCOUNTS.incrementAndGet();
        deposit(alice, "d1", "10");

        Answer answer = post(port, "/api/v1/balance/change", transfer("t1", alice, bob, "TRANSFER", "4"));

        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        assertThat(answer.body().get("status").asText()).isEqualTo("APPLIED");
        assertThat(answer.body().get("to_account_id").asLong()).isEqualTo(bob);
        assertThat(answer.body().get("leg").asText()).isEqualTo("DEBIT");
        assertThat(answer.body().at("/balance/available").asText()).isEqualTo("6.000000");
        JsonNode credit = awaitAvailable(bob, "4.000000");
        assertThat(credit.get("version").asLong()).isEqualTo(1);
        Answer creditLeg = get(port, "/api/v1/transactions/" + bob + "/t1");
        assertThat(creditLeg.status()).isEqualTo(200);
        assertThat(creditLeg.body().at("/transaction/leg").asText()).isEqualTo("CREDIT");
        assertThat(creditLeg.body().at("/transaction/from_account_id").asLong()).isEqualTo(alice);
        assertThat(creditLeg.body().at("/transaction/amount").asText()).isEqualTo("4.000000");
        assertThat(creditLeg.body().at("/transaction/status").asText()).isEqualTo("APPLIED");
        Answer debitLeg = get(port, "/api/v1/transactions/" + alice + "/t1");
        assertThat(debitLeg.body().at("/transaction/leg").asText()).isEqualTo("DEBIT");
        assertThat(debitLeg.body().at("/transaction/to_account_id").asLong()).isEqualTo(bob);
    }

    @Test
    void shouldReplayARetriedTransferAndCreditTheDestinationOnce() {
        long alice = ACCOUNTS.incrementAndGet();
        long bob = ACCOUNTS.incrementAndGet();
        deposit(alice, "d1", "10");
        post(port, "/api/v1/balance/change", transfer("t1", alice, bob, "TRANSFER", "4"));

        Answer retry = post(port, "/api/v1/balance/change", transfer("t1", alice, bob, "TRANSFER", "4.0"));
        Answer otherDestination = post(port, "/api/v1/balance/change", transfer("t1", alice, bob + 1000, "TRANSFER", "4"));

        assertThat(retry.status()).isEqualTo(200);
        assertThat(retry.body().get("replay").asBoolean()).isTrue();
        assertThat(otherDestination.status()).isEqualTo(409);
        // Bob's balance reaches the credit and a deposit of his own, two applied changes: the credit once.
        // (The deposit may be decided before the credit arrives: the credit is sent when Alice's
        // transaction commits.)
        deposit(bob, "after", "1");
        JsonNode balance = awaitAvailable(bob, "5.000000");
        assertThat(balance.get("version").asLong()).isEqualTo(2);
    }

    @Test
    void shouldRejectATransferBeyondAvailableWith422AndCreditNothing() {
        long alice = ACCOUNTS.incrementAndGet();
        long bob = ACCOUNTS.incrementAndGet();
        deposit(alice, "d1", "1");

        Answer answer = post(port, "/api/v1/balance/change", transfer("t1", alice, bob, "TRANSFER", "2"));

        assertThat(answer.status()).isEqualTo(422);
        assertThat(answer.body().get("reason").asText()).isEqualTo("INSUFFICIENT_FUNDS");
        assertThat(answer.body().get("to_account_id").asLong()).isEqualTo(bob);
        deposit(bob, "after", "1");
        assertThat(get(port, "/api/v1/balance/" + bob + "/USDT").body().at("/balance/available").asText())
                .isEqualTo("1.000000");
        assertThat(get(port, "/api/v1/transactions/" + bob + "/t1").status()).isEqualTo(404);
    }

    @Test
    void shouldSettleHeldFundsToTheSellerInOneStep() {
        long buyer = ACCOUNTS.incrementAndGet();
        long seller = ACCOUNTS.incrementAndGet();
        deposit(buyer, "d1", "100");
        assertThat(post(port, "/api/v1/balance/change", change("order-1", buyer, "USDT", "FREEZE", "60")).status())
                .isEqualTo(200);

        Answer fill = post(port, "/api/v1/balance/change", transfer("fill-1", buyer, seller, "5", "45"));

        assertThat(fill.status()).as(fill.body().toString()).isEqualTo(200);
        assertThat(fill.body().at("/balance/available").asText()).isEqualTo("40.000000");
        assertThat(fill.body().at("/balance/frozen").asText()).isEqualTo("15.000000");
        awaitAvailable(seller, "45.000000");
    }

    @Test
    void shouldKeepADestinationsOwnChangeWithTheSameIdApartFromTheCredit() {
        long alice = ACCOUNTS.incrementAndGet();
        long bob = ACCOUNTS.incrementAndGet();
        deposit(alice, "d1", "10");
        deposit(bob, "t1", "1");

        post(port, "/api/v1/balance/change", transfer("t1", alice, bob, "TRANSFER", "4"));
        awaitAvailable(bob, "5.000000");
        Answer bobsOwnRetry = post(port, "/api/v1/balance/change", change("t1", bob, "USDT", "DEPOSIT", "1"));
        Answer resource = get(port, "/api/v1/transactions/" + bob + "/t1");

        assertThat(bobsOwnRetry.status()).isEqualTo(200);
        assertThat(bobsOwnRetry.body().get("replay").asBoolean()).isTrue();
        assertThat(resource.body().at("/transaction/type").asText()).isEqualTo("DEPOSIT");
        assertThat(resource.body().get("legs")).singleElement()
                .satisfies(leg -> assertThat(leg.get("from_account_id").asLong()).isEqualTo(alice));
    }

    @Test
    void shouldDecideABatchMixingTransfersWithOtherChangesInOrder() {
        long alice = ACCOUNTS.incrementAndGet();
        long bob = ACCOUNTS.incrementAndGet();
        String batch = "[" + change("b1", alice, "USDT", "DEPOSIT", "5") + ","
                + transfer("b2", alice, bob, "TRANSFER", "3") + ","
                + transfer("b3", alice, bob, "TRANSFER", "3") + ","
                + change("b4", alice, "USDT", "WITHDRAW", "2") + "]";

        Answer answer = post(port, "/api/v1/balance/changes", batch);

        JsonNode results = answer.body().get("results");
        assertThat(results).hasSize(4);
        assertThat(results.get(0).get("code").asInt()).isEqualTo(200);
        assertThat(results.get(1).get("code").asInt()).isEqualTo(200);
        assertThat(results.get(2).get("code").asInt()).isEqualTo(422);
        assertThat(results.get(3).get("code").asInt()).isEqualTo(200);
        awaitAvailable(bob, "3.000000");
    }

    /**
     * Not a timing assertion: it logs how long after a transfer's 200 the destination's balance
     * shows the credit, for the README; it asserts only that every credit arrives, once.
     */
    @Test
    void shouldShowEveryCreditOnTheDestinationSoonAfterTheAnswer() {
        long alice = ACCOUNTS.incrementAndGet();
        deposit(alice, "d1", "1000");
        List<Long> visibleAfterUs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            long bob = ACCOUNTS.incrementAndGet();
            assertThat(post(port, "/api/v1/balance/change", transfer("m" + i, alice, bob, "TRANSFER", "1")).status())
                    .isEqualTo(200);
            long answeredNs = System.nanoTime();
            awaitAvailable(bob, "1.000000");
            visibleAfterUs.add((System.nanoTime() - answeredNs) / 1_000);
        }
        Collections.sort(visibleAfterUs);
        LOG.info("credit visible on the destination after the debit's answer: p50 {} us, p90 {} us, max {} us (n={})",
                visibleAfterUs.get(24), visibleAfterUs.get(44), visibleAfterUs.get(49), visibleAfterUs.size());
        assertThat(get(port, "/api/v1/balance/" + alice + "/USDT").body().at("/balance/available").asText())
                .isEqualTo("950.000000");
    }

    private static void deposit(long account, String transactionId, String amount) {
        Answer answer = post(port, "/api/v1/balance/change", change(transactionId, account, "USDT", "DEPOSIT", amount));
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
    }

    private static JsonNode awaitAvailable(long account, String available) {
        return await().atMost(CREDIT_WAIT_MAX).pollInterval(Duration.ofMillis(1)).until(
                () -> get(port, "/api/v1/balance/" + account + "/USDT").body().get("balance"),
                balance -> balance != null && balance.get("available").asText().equals(available));
    }

    static String transfer(String transactionId, long from, long to, String type, String amount) {
        String typeJson = type.chars().allMatch(Character::isDigit) ? type : "\"" + type + "\"";
        return "{\"transaction_id\":\"" + transactionId + "\",\"account_id\":" + from + ",\"to_account_id\":" + to
                + ",\"currency_code\":\"USDT\",\"type\":" + typeJson + ",\"amount\":\"" + amount + "\"}";
    }
}
