package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static dev.balance.api.NodeFixture.get;
import static dev.balance.api.NodeFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.balance.api.NodeFixture.Answer;
import dev.balance.topology.testkit.KafkaBroker;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The HTTP contract of DESIGN §5 against one real node, a real broker and real HTTP. */
class ApiContractIT {

    private static final AtomicLong ACCOUNTS = new AtomicLong(1_000);
    private static KafkaBroker broker;
    private static BalanceNode node;
    private static int port;

    @BeforeAll
    static void startNode() {
        broker = KafkaBroker.start();
        port = NodeFixture.freePort();
        node = NodeFixture.startNode(NodeFixture.env(broker, NodeFixture.newCluster(), port, Map.of("BODY_BYTES_MAX", "65536",
                "BATCH_SIZE_MAX", "50")));
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

    private static long newAccount() {
        return ACCOUNTS.incrementAndGet();
    }

    @Test
    void shouldApplyADepositAndAnswerWithTheBalanceAfter() {
        long account = newAccount();

        Answer answer = post(port, "/api/v1/balance/change", change("dep-1", account, "BTC", "DEPOSIT", "1.5"));

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body().get("success").asBoolean()).isTrue();
        assertThat(answer.body().get("status").asText()).isEqualTo("APPLIED");
        assertThat(answer.body().get("replay").asBoolean()).isFalse();
        JsonNode balance = answer.body().get("balance");
        assertThat(balance.get("available").asText()).isEqualTo("1.50000000");
        assertThat(balance.get("frozen").asText()).isEqualTo("0.00000000");
        assertThat(balance.get("version").asLong()).isEqualTo(1);
        assertThat(balance.get("account_id").asLong()).isEqualTo(account);
    }

    @Test
    void shouldAcceptTheTypeAsTheNumberOfTheOriginalDesign() {
        long account = newAccount();
        String body = "{\"transaction_id\":\"n-1\",\"account_id\":" + account
                + ",\"currency_code\":\"USDT\",\"type\":0,\"amount\":\"10\"}";

        Answer answer = post(port, "/api/v1/balance/change", body);

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body().at("/balance/available").asText()).isEqualTo("10.000000");
    }

    @Test
    void shouldRejectAWithdrawalBeyondAvailableWith422AndChangeNothing() {
        long account = newAccount();
        post(port, "/api/v1/balance/change", change("d", account, "ETH", "DEPOSIT", "2"));

        Answer answer = post(port, "/api/v1/balance/change", change("w", account, "ETH", "WITHDRAW", "2.000000000000000001"));

        assertThat(answer.status()).isEqualTo(422);
        assertThat(answer.body().get("success").asBoolean()).isFalse();
        assertThat(answer.body().get("status").asText()).isEqualTo("REJECTED");
        assertThat(answer.body().get("reason").asText()).isEqualTo("INSUFFICIENT_FUNDS");
        Answer read = get(port, "/api/v1/balance/" + account + "/ETH");
        assertThat(read.body().at("/balance/available").asText()).isEqualTo("2.000000000000000000");
        assertThat(read.body().at("/balance/version").asLong()).isEqualTo(1);
    }

    @Test
    void shouldRejectAnUnfreezeBeyondFrozenWithInsufficientFrozen() {
        long account = newAccount();
        post(port, "/api/v1/balance/change", change("d", account, "USDC", "DEPOSIT", "5"));
        post(port, "/api/v1/balance/change", change("f", account, "USDC", "FREEZE", "3"));

        Answer answer = post(port, "/api/v1/balance/change", change("u", account, "USDC", "UNFREEZE", "4"));

        assertThat(answer.status()).isEqualTo(422);
        assertThat(answer.body().get("reason").asText()).isEqualTo("INSUFFICIENT_FROZEN");
        assertThat(answer.body().at("/balance/frozen").asText()).isEqualTo("3.000000");
        assertThat(answer.body().at("/balance/available").asText()).isEqualTo("2.000000");
    }

    @Test
    void shouldAnswerAReplayWithTheOriginalVerdictWhetherAppliedOrRejected() {
        long account = newAccount();
        post(port, "/api/v1/balance/change", change("a", account, "BTC", "DEPOSIT", "1"));
        post(port, "/api/v1/balance/change", change("r", account, "BTC", "WITHDRAW", "5"));

        Answer appliedAgain = post(port, "/api/v1/balance/change", change("a", account, "BTC", "DEPOSIT", "1.0"));
        Answer rejectedAgain = post(port, "/api/v1/balance/change", change("r", account, "BTC", "WITHDRAW", "5"));

        assertThat(appliedAgain.status()).isEqualTo(200);
        assertThat(appliedAgain.body().get("replay").asBoolean()).isTrue();
        assertThat(appliedAgain.body().at("/balance/version").asLong()).isEqualTo(1);
        assertThat(rejectedAgain.status()).isEqualTo(422);
        assertThat(rejectedAgain.body().get("replay").asBoolean()).isTrue();
        assertThat(get(port, "/api/v1/balance/" + account + "/BTC").body().at("/balance/available").asText())
                .isEqualTo("1.00000000");
    }

    @Test
    void shouldAnswerAConflictingReuseOfATransactionIdWith409AndChangeNothing() {
        long account = newAccount();
        post(port, "/api/v1/balance/change", change("x", account, "BTC", "DEPOSIT", "1"));

        Answer answer = post(port, "/api/v1/balance/change", change("x", account, "BTC", "DEPOSIT", "2"));

        assertThat(answer.status()).isEqualTo(409);
        assertThat(answer.body().get("error").asText()).isEqualTo("IDEMPOTENCY_CONFLICT");
        JsonNode balance = get(port, "/api/v1/balance/" + account + "/BTC").body().get("balance");
        assertThat(balance.get("available").asText()).isEqualTo("1.00000000");
        assertThat(balance.get("version").asLong()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":1}|amount",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"0\"}|amount",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"-1\"}|amount",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"1e3\"}|amount",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"NaN\"}|amount",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"0.000000001\"}|amount",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"DOGE\",\"type\":\"DEPOSIT\",\"amount\":\"1\"}|currency_code",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"STEAL\",\"amount\":\"1\"}|type",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":9,\"amount\":\"1\"}|type",
            "{\"transaction_id\":\"bad id!\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"1\"}|transaction_id",
            "{\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"1\"}|transaction_id",
            "{\"transaction_id\":\"v\",\"account_id\":-%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"1\"}|account_id",
            "{\"transaction_id\":\"v\",\"account_id\":%d.5,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"1\"}|account_id",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"1\",\"metadata\":[1]}|metadata",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"TRANSFER\",\"amount\":\"1\"}|to_account_id",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"1\",\"to_account_id\":5}|to_account_id",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":4,\"amount\":\"1\",\"to_account_id\":%d}|to_account_id",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"TRANSFER\",\"amount\":\"1\",\"to_account_id\":0}|to_account_id",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"TRANSFER\",\"amount\":\"1\",\"to_account_id\":\"x\"}|to_account_id",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"SETTLE\",\"amount\":\"1\",\"to_account_id\":%d}|to_account_id",
            "{\"transaction_id\":\"v\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"FREEZE\",\"amount\":\"1\",\"to_account_id\":5}|to_account_id",
            "{\"transaction_id\":\"..\",\"account_id\":%d,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"1\"}|transaction_id",
            "[%d]|body",
            "{\"transaction_id\":\"v\",\"account_id\":%d,|body",
    })
    void shouldRefuseMalformedInputWith400NamingTheFieldAndChangeNothing(String testCase) {
        long account = newAccount();
        String[] parts = testCase.split("\\|");
        String body = parts[0].replace("%d", Long.toString(account));

        Answer answer = post(port, "/api/v1/balance/change", body);

        assertThat(answer.status()).as(body).isEqualTo(400);
        assertThat(answer.body().get("error").asText()).isEqualTo("VALIDATION_FAILED");
        assertThat(answer.body().get("success").asBoolean()).isFalse();
        assertThat(answer.body().get("details").has(parts[1])).as(answer.body().toString()).isTrue();
        assertThat(answer.raw().body()).doesNotContain("Exception").doesNotContain("at dev.");
        assertThat(get(port, "/api/v1/balance/" + account).body().get("balances")).isEmpty();
    }

    @Test
    void shouldRefuseAnOversizedBodyWith413() {
        String description = "x".repeat(70_000);
        String body = "{\"transaction_id\":\"big\",\"account_id\":1,\"currency_code\":\"BTC\",\"type\":\"DEPOSIT\",\"amount\":\"1\","
                + "\"description\":\"" + description + "\"}";

        Answer answer = post(port, "/api/v1/balance/change", body);

        assertThat(answer.status()).isEqualTo(413);
        assertThat(answer.body().get("success").asBoolean()).isFalse();
    }

    @Test
    void shouldRefuseABatchAboveTheLimitWith413AndApplyNoneOfIt() {
        long account = newAccount();
        List<String> items = new ArrayList<>();
        for (int i = 0; i < 51; i++) {
            items.add(change("b" + i, account, "BTC", "DEPOSIT", "1"));
        }

        Answer answer = post(port, "/api/v1/balance/changes", "[" + String.join(",", items) + "]");

        assertThat(answer.status()).isEqualTo(413);
        assertThat(answer.body().get("error").asText()).isEqualTo("BATCH_TOO_LARGE");
        assertThat(get(port, "/api/v1/balance/" + account).body().get("balances")).isEmpty();
    }

    @Test
    void shouldRefuseBadPathParametersWith400() {
        assertThat(get(port, "/api/v1/balance/abc/BTC").status()).isEqualTo(400);
        assertThat(get(port, "/api/v1/balance/0").status()).isEqualTo(400);
        assertThat(get(port, "/api/v1/balance/99999999999999999999").status()).isEqualTo(400);
        assertThat(get(port, "/api/v1/balance/5/XYZ").body().at("/details/currency_code").isMissingNode()).isFalse();
        assertThat(get(port, "/api/v1/transactions/5/bad%20id").status()).isEqualTo(400);
    }

    @Test
    void shouldAnswerUnknownRoutesWithJson404() {
        Answer answer = get(port, "/api/v2/nothing");

        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.body().get("success").asBoolean()).isFalse();
    }

    @Test
    void shouldReadABalanceNeverTouchedAsZeroWithVersionZero() {
        Answer answer = get(port, "/api/v1/balance/" + newAccount() + "/ETH");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body().at("/balance/available").asText()).isEqualTo("0.000000000000000000");
        assertThat(answer.body().at("/balance/version").asLong()).isZero();
    }

    @Test
    void shouldListAllBalancesOfAnAccount() {
        long account = newAccount();
        post(port, "/api/v1/balance/change", change("1", account, "BTC", "DEPOSIT", "1"));
        post(port, "/api/v1/balance/change", change("2", account, "USDT", "DEPOSIT", "2"));
        post(port, "/api/v1/balance/change", change("3", account, "USDT", "FREEZE", "0.5"));

        Answer answer = get(port, "/api/v1/balance/" + account);

        assertThat(answer.status()).isEqualTo(200);
        JsonNode balances = answer.body().get("balances");
        assertThat(balances).hasSize(2);
        assertThat(balances.get(0).get("currency_code").asText()).isEqualTo("BTC");
        assertThat(balances.get(1).get("available").asText()).isEqualTo("1.500000");
        assertThat(balances.get(1).get("frozen").asText()).isEqualTo("0.500000");
        assertThat(balances.get(1).get("version").asLong()).isEqualTo(2);
    }

    @Test
    void shouldReportTheVerdictOfAKnownTransactionAnd404ForAnUnknownOne() {
        long account = newAccount();
        post(port, "/api/v1/balance/change", change("known", account, "BTC", "WITHDRAW", "1"));

        Answer known = get(port, "/api/v1/transactions/" + account + "/known");
        Answer unknown = get(port, "/api/v1/transactions/" + account + "/unknown");

        assertThat(known.status()).isEqualTo(200);
        assertThat(known.body().at("/transaction/result").asText()).isEqualTo("INSUFFICIENT_FUNDS");
        assertThat(known.body().at("/transaction/status").asText()).isEqualTo("REJECTED");
        assertThat(unknown.status()).isEqualTo(404);
    }

    @Test
    void shouldApplyExactlyOneHundredOfTwoHundredConcurrentWithdrawalsOfOneFromOneHundred() throws Exception {
        long account = newAccount();
        assertThat(post(port, "/api/v1/balance/change", change("seed", account, "USDT", "DEPOSIT", "100")).status())
                .isEqualTo(200);
        ExecutorService pool = Executors.newFixedThreadPool(50);
        List<Future<Answer>> answers = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                String body = change("w-" + i, account, "USDT", "WITHDRAW", "1");
                answers.add(pool.submit(() -> post(port, "/api/v1/balance/change", body)));
            }
            int applied = 0;
            int rejected = 0;
            for (Future<Answer> answer : answers) {
                int status = answer.get().status();
                if (status == 200) {
                    applied++;
                } else if (status == 422) {
                    rejected++;
                }
            }
            assertThat(applied).isEqualTo(100);
            assertThat(rejected).isEqualTo(100);
        } finally {
            pool.shutdownNow();
        }
        JsonNode balance = get(port, "/api/v1/balance/" + account + "/USDT").body().get("balance");
        assertThat(balance.get("available").asText()).isEqualTo("0.000000");
        assertThat(balance.get("version").asLong()).isEqualTo(101);
    }

    @Test
    void shouldApplyConcurrentRetriesOfOneTransactionOnceAndAnswerConflictingOnesWith409() throws Exception {
        long account = newAccount();
        ExecutorService pool = Executors.newFixedThreadPool(30);
        try {
            List<Future<Answer>> same = new ArrayList<>();
            List<Future<Answer>> conflicting = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                same.add(pool.submit(() -> post(port, "/api/v1/balance/change", change("once", account, "BTC", "DEPOSIT", "3"))));
                String other = change("once", account, "BTC", "DEPOSIT", "4");
                if (i < 10) {
                    conflicting.add(pool.submit(() -> post(port, "/api/v1/balance/change", other)));
                }
            }
            int applied = 0;
            int conflicts = 0;
            for (Future<Answer> answer : same) {
                applied += answer.get().status() == 200 ? 1 : 0;
                conflicts += answer.get().status() == 409 ? 1 : 0;
            }
            for (Future<Answer> answer : conflicting) {
                applied += answer.get().status() == 200 ? 1 : 0;
                conflicts += answer.get().status() == 409 ? 1 : 0;
            }
            // Whichever payload came first wins; every request of the other payload is a conflict.
            assertThat(applied + conflicts).isEqualTo(30);
            assertThat(applied).isIn(10, 20);
        } finally {
            pool.shutdownNow();
        }
        JsonNode balance = get(port, "/api/v1/balance/" + account + "/BTC").body().get("balance");
        assertThat(balance.get("version").asLong()).isEqualTo(1);
        assertThat(balance.get("available").asText()).isIn("3.00000000", "4.00000000");
    }

    @Test
    void shouldAnswerABatchWithOneVerdictPerItemInOrderMatchingAModel() {
        Random random = new Random(42);
        long[] accounts = {newAccount(), newAccount(), newAccount()};
        Map<Long, BigDecimal> model = new HashMap<>();
        List<String> items = new ArrayList<>();
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 49; i++) {
            long account = accounts[random.nextInt(accounts.length)];
            boolean deposit = random.nextInt(3) > 0 || i < 3;
            BigDecimal amount = BigDecimal.valueOf(1 + random.nextInt(20));
            BigDecimal current = model.getOrDefault(account, BigDecimal.ZERO);
            if (deposit) {
                model.put(account, current.add(amount));
                expected.add(200);
            } else if (current.compareTo(amount) >= 0) {
                model.put(account, current.subtract(amount));
                expected.add(200);
            } else {
                expected.add(422);
            }
            items.add(change("batch-" + i, account, "USDT", deposit ? "DEPOSIT" : "WITHDRAW", amount.toPlainString()));
        }
        items.add("{\"transaction_id\":\"broken\"}");
        expected.add(400);

        Answer answer = post(port, "/api/v1/balance/changes", "[" + String.join(",", items) + "]");

        assertThat(answer.status()).isEqualTo(200);
        JsonNode results = answer.body().get("results");
        assertThat(results).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            assertThat(results.get(i).get("code").asInt()).as("item " + i).isEqualTo(expected.get(i));
        }
        assertThat(answer.body().get("success").asBoolean()).isFalse();
        for (long account : accounts) {
            String available = get(port, "/api/v1/balance/" + account + "/USDT").body().at("/balance/available").asText();
            assertThat(new BigDecimal(available)).isEqualByComparingTo(model.getOrDefault(account, BigDecimal.ZERO));
        }
    }

    /**
     * A read with no query is answered by the node's fast lane when the node owns the account; the
     * same read with a query the routes ignore goes through the routes. Both must answer alike, and
     * both must be counted under the route's timer.
     */
    @Test
    void shouldAnswerLocalReadsAlikeOnTheFastLaneAndThroughTheRoutes() {
        long account = newAccount();
        post(port, "/api/v1/balance/change", change("lane-1", account, "USDT", "DEPOSIT", "12.5"));
        post(port, "/api/v1/balance/change", change("lane-2", account, "BTC", "WITHDRAW", "1"));
        List<String> paths = List.of("/api/v1/balance/" + account + "/USDT", "/api/v1/balance/" + account + "/ETH",
                "/api/v1/balance/" + account, "/api/v1/transactions/" + account + "/lane-1",
                "/api/v1/transactions/" + account + "/lane-2");
        for (String path : paths) {
            double countBefore = requestCount(routeOf(path));

            Answer lane = get(port, path, Map.of("X-Request-Id", "lane-check-1"));
            Answer routes = get(port, path + "?via=routes", Map.of("X-Request-Id", "lane-check-1"));
            Answer fresh = get(port, path);

            assertThat(lane.status()).as(path).isEqualTo(200);
            assertThat(lane.raw().body()).as(path).isEqualTo(routes.raw().body());
            assertThat(lane.header("Content-Type")).as(path).isEqualTo(routes.header("Content-Type"));
            assertThat(lane.header("X-Request-Id")).as(path).contains("lane-check-1");
            assertThat(fresh.header("X-Request-Id").orElseThrow()).as(path).matches("[0-9a-f]{16}");
            // The timer is stopped once the answer is written, which can be just after the client read it.
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(requestCount(routeOf(path)) - countBefore).as(path).isEqualTo(3.0));
            // Stale reads are still rendered from a tree: the text written for fresh ones must match it.
            String stale = get(port, path + "?allow_stale=true").raw().body();
            assertThat(stale.replaceFirst(",\"stale_allowed\":true,\"served_by\":\"[a-z]+\",\"lag_records\":-?\\d+}$", "}"))
                    .as(path).isEqualTo(lane.raw().body());
            // The stale read is counted under the same route: wait for it too, so that the next path of
            // this route does not see it land after taking its count.
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(requestCount(routeOf(path)) - countBefore).as(path).isEqualTo(4.0));
        }
        assertThat(get(port, "/api/v1/transactions/" + account + "/never").status()).isEqualTo(404);
    }

    /**
     * A single change this node decides is taken by the node's change lane; the same request with a
     * query the routes ignore goes through the routes. Applied, replayed, rejected and conflicting
     * changes must be answered alike either way, and counted under the route's timer.
     */
    @Test
    void shouldAnswerChangesAlikeOnTheFastLaneAndThroughTheRoutes() {
        long account = newAccount();
        String path = "/api/v1/balance/change";
        String deposit = change("cl-1", account, "USDT", "DEPOSIT", "10");
        String withdrawal = change("cl-2", account, "USDT", "WITHDRAW", "11");
        String conflict = change("cl-1", account, "USDT", "DEPOSIT", "11");
        double appliedBefore = postCount(200);

        Answer applied = post(port, path, deposit, Map.of("X-Request-Id", "lane-change-1"));
        Answer replayRoutes = post(port, path + "?via=routes", deposit);
        Answer replayLane = post(port, path, deposit);
        Answer rejected = post(port, path, withdrawal);
        Answer rejectedRoutes = post(port, path + "?via=routes", withdrawal);
        Answer rejectedLane = post(port, path, withdrawal);
        Answer conflictLane = post(port, path, conflict);
        Answer conflictRoutes = post(port, path + "?via=routes", conflict);

        assertThat(applied.status()).isEqualTo(200);
        assertThat(applied.body().get("replay").asBoolean()).isFalse();
        assertThat(applied.header("X-Request-Id")).contains("lane-change-1");
        assertThat(applied.header("Content-Type")).isEqualTo(replayRoutes.header("Content-Type"));
        assertThat(replayLane.status()).isEqualTo(200);
        assertThat(replayLane.body().get("replay").asBoolean()).isTrue();
        assertThat(replayLane.raw().body()).isEqualTo(replayRoutes.raw().body());
        assertThat(rejected.status()).isEqualTo(422);
        assertThat(rejectedLane.raw().body()).isEqualTo(rejectedRoutes.raw().body());
        assertThat(conflictLane.status()).isEqualTo(409);
        assertThat(conflictLane.raw().body()).isEqualTo(conflictRoutes.raw().body());
        assertThat(get(port, "/api/v1/balance/" + account + "/USDT").body().at("/balance/available").asText())
                .isEqualTo("10.000000");
        // Three 200s here (the deposit and its two replays); other tests may post at the same time.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(postCount(200) - appliedBefore).isGreaterThanOrEqualTo(3.0));
    }

    /**
     * A change whose body arrives after its headers is left to the routes by the lane, which must put
     * back the part it read: the answer is the same verdict as for a body sent at once.
     */
    @Test
    void shouldDecideAChangeWhoseBodyArrivesInPieces() throws Exception {
        long account = newAccount();
        byte[] body = change("split-1", account, "BTC", "DEPOSIT", "2.5").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String head = "POST /api/v1/balance/change HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            socket.setTcpNoDelay(true);
            java.io.OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.write(body, 0, 7);
            out.flush();
            // Not a synchronisation: the pause only makes the rest of the body arrive in a later read.
            Thread.sleep(200);
            out.write(body, 7, body.length - 7);
            out.flush();
            String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);

            assertThat(answer).startsWith("HTTP/1.1 200");
            assertThat(answer).contains("\"status\":\"APPLIED\"").contains("\"available\":\"2.50000000\"");
        }
        Answer replay = post(port, "/api/v1/balance/change", change("split-1", account, "BTC", "DEPOSIT", "2.5"));
        assertThat(replay.body().get("replay").asBoolean()).isTrue();
        assertThat(replay.body().at("/balance/version").asLong()).isEqualTo(1);
    }

    /** balance_http_requests_seconds_count of POST /api/v1/balance/change answered with a status, from /metrics. */
    private static double postCount(int status) {
        String prefix = "balance_http_requests_seconds_count{method=\"POST\",route=\"/api/v1/balance/change\",status=\""
                + status + "\"} ";
        return get(port, "/metrics").raw().body().lines().filter(line -> line.startsWith(prefix))
                .mapToDouble(line -> Double.parseDouble(line.substring(prefix.length()))).findFirst().orElse(0);
    }

    private static String routeOf(String path) {
        return path.startsWith("/api/v1/transactions/") ? "/api/v1/transactions/{account_id}/{transaction_id}"
                : path.chars().filter(c -> c == '/').count() == 5 ? "/api/v1/balance/{account_id}/{currency_code}"
                : "/api/v1/balance/{account_id}";
    }

    /** balance_http_requests_seconds_count of one GET route answered 200, from /metrics. */
    private static double requestCount(String route) {
        String prefix = "balance_http_requests_seconds_count{method=\"GET\",route=\"" + route + "\",status=\"200\"} ";
        return get(port, "/metrics").raw().body().lines().filter(line -> line.startsWith(prefix))
                .mapToDouble(line -> Double.parseDouble(line.substring(prefix.length()))).findFirst().orElse(0);
    }

    @Test
    void shouldServeHealthReadinessAndMetrics() {
        assertThat(get(port, "/health").status()).isEqualTo(200);
        assertThat(get(port, "/ready").status()).isEqualTo(200);
        Answer metrics = get(port, "/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.raw().body()).contains("balance_verdicts_total").contains("balance_http_requests");
    }

    @Test
    void shouldAnswerPendingWithALocationWhenTheVerdictTakesLongerThanTheWaitLimit() {
        // Given a second node of another cluster whose wait limit is shorter than any verdict can take
        int shortPort = NodeFixture.freePort();
        try (BalanceNode impatient = NodeFixture.startNode(NodeFixture.env(broker, NodeFixture.newCluster(), shortPort,
                Map.of("VERDICT_WAIT_MS", "1")))) {
            long account = newAccount();

            // When a change is sent
            Answer answer = post(shortPort, "/api/v1/balance/change", change("slow", account, "BTC", "DEPOSIT", "3"));

            // Then it is durable and pending, and its Location reports the verdict once decided
            assertThat(answer.status()).isEqualTo(202);
            assertThat(answer.body().get("status").asText()).isEqualTo("PENDING");
            String location = answer.header("Location").orElseThrow();
            assertThat(location).isEqualTo("/api/v1/transactions/" + account + "/slow");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(get(shortPort, location).status()).isEqualTo(200));
            assertThat(get(shortPort, location).body().at("/transaction/result").asText()).isEqualTo("APPLIED");
        }
    }
}
