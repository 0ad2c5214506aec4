package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static dev.balance.api.NodeFixture.get;
import static dev.balance.api.NodeFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.balance.api.NodeFixture.Answer;
import dev.balance.topology.Stores;
import dev.balance.topology.testkit.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /api/v1/balances/lookup} and read-your-verdict against two real nodes: items in
 * order, grouped per owner and fetched from each once, per-item errors, bad input; and a read
 * right after an APPLIED verdict, from either node, shows that change.
 */
class LookupIT {

    private KafkaBroker broker;
    private final List<BalanceNode> nodes = new ArrayList<>();
    private int portA;
    private int portB;
    private BalanceNode a;
    private BalanceNode b;

    @BeforeEach
    void startTwoNodes() {
        broker = KafkaBroker.start();
        String cluster = NodeFixture.newCluster();
        portA = NodeFixture.freePort();
        portB = NodeFixture.freePort();
        a = start(NodeFixture.env(broker, cluster, portA, Map.of("LOOKUP_SIZE_MAX", "20")));
        b = start(NodeFixture.env(broker, cluster, portB, Map.of("LOOKUP_SIZE_MAX", "20")));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                .until(() -> a.ready() && b.ready() && owned(portA).size() >= 3 && owned(portB).size() >= 3);
        NodeFixture.awaitStableAssignment(nodes);
    }

    @AfterEach
    void stopAll() {
        nodes.forEach(BalanceNode::close);
        broker.close();
    }

    @Test
    void shouldAnswerEveryItemInOrderFetchingFromEachOwnerOnce() {
        // Given three accounts on each node with a deposit each, one with two currencies
        List<Long> onA = owned(portA).subList(0, 3);
        List<Long> onB = owned(portB).subList(0, 3);
        for (long account : concat(onA, onB)) {
            assertThat(post(portA, "/api/v1/balance/change", change("d", account, "USDT", "DEPOSIT", account + ".5"))
                    .status()).isEqualTo(200);
        }
        assertThat(post(portA, "/api/v1/balance/change", change("e", onB.get(0), "BTC", "DEPOSIT", "2")).status())
                .isEqualTo(200);
        long lookupsOnBBefore = lookupsServed(portB);

        // When A is asked for them interleaved, with a bad item, an unknown currency and a whole account
        String body = "[" + item(onA.get(0), "USDT") + "," + item(onB.get(0), "USDT") + ",{\"account_id\":-1},"
                + item(onA.get(1), "USDT") + "," + item(onB.get(1), "USDT") + "," + item(onA.get(2), "DOGE") + ","
                + "{\"account_id\":" + onB.get(0) + "}," + item(onB.get(2), "ETH") + "]";
        Answer answer = post(portA, "/api/v1/balances/lookup", body);

        // Then each item has its answer in order, and B was asked once for all of its items
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body().get("success").asBoolean()).isFalse();
        JsonNode results = answer.body().get("results");
        assertThat(results).hasSize(8);
        assertBalance(results.get(0), onA.get(0), onA.get(0) + ".500000");
        assertBalance(results.get(1), onB.get(0), onB.get(0) + ".500000");
        assertThat(results.get(2).get("code").asInt()).isEqualTo(400);
        assertThat(results.get(2).at("/details/account_id").isMissingNode()).isFalse();
        assertBalance(results.get(3), onA.get(1), onA.get(1) + ".500000");
        assertBalance(results.get(4), onB.get(1), onB.get(1) + ".500000");
        assertThat(results.get(5).get("code").asInt()).isEqualTo(400);
        assertThat(results.get(6).get("code").asInt()).isEqualTo(200);
        assertThat(results.get(6).get("balances")).extracting(node -> node.get("currency_code").asText())
                .containsExactly("BTC", "USDT");
        assertThat(results.get(7).get("code").asInt()).isEqualTo(200);
        assertThat(results.get(7).at("/balance/version").asLong()).as("never touched: zero, version 0").isZero();
        assertThat(lookupsServed(portB) - lookupsOnBBefore).as("B's items fetched in one request").isEqualTo(1);
    }

    @Test
    void shouldJudgeEachItemByItsLastValueIgnoringOtherFieldsAndRefusingWhatIsNotAnItem() {
        // Given an account of A's with one deposit
        long onA = owned(portA).get(0);
        assertThat(post(portA, "/api/v1/balance/change", change("d", onA, "USDT", "DEPOSIT", "1")).status())
                .isEqualTo(200);

        // When A is asked for items of every shape: an id as text with nested fields beside it, an id
        // given twice, a null currency, an id that is not an integer or too large, a currency that is
        // not text, and items that are not objects
        String body = "[{\"account_id\":\"" + onA + "\",\"currency_code\":\"USDT\",\"x\":{\"account_id\":-5,\"y\":[1,{}]}},"
                + "{\"account_id\":-1,\"currency_code\":\"USDT\",\"account_id\":" + onA + "},"
                + "{\"account_id\":" + onA + ",\"currency_code\":null},"
                + "{\"account_id\":1.5,\"currency_code\":\"USDT\"},"
                + "{\"account_id\":99999999999999999999999,\"currency_code\":\"USDT\"},"
                + "{\"account_id\":" + onA + ",\"currency_code\":7},"
                + "[" + onA + ",\"USDT\"],\"" + onA + "\",null]";
        Answer answer = post(portA, "/api/v1/balances/lookup", body);

        // Then each is judged alone, in order
        assertThat(answer.status()).as(answer.raw().body()).isEqualTo(200);
        assertThat(answer.body().get("success").asBoolean()).isFalse();
        JsonNode results = answer.body().get("results");
        assertThat(results).extracting(result -> result.get("code").asInt())
                .containsExactly(200, 200, 200, 400, 400, 400, 400, 400, 400);
        assertBalance(results.get(0), onA, "1.000000");
        assertBalance(results.get(1), onA, "1.000000");
        assertThat(results.get(2).get("balances")).hasSize(1);
        assertThat(results.get(3).at("/details/account_id").isMissingNode()).isFalse();
        assertThat(results.get(4).at("/details/account_id").isMissingNode()).isFalse();
        assertThat(results.get(5).at("/details/currency_code").isMissingNode()).isFalse();
        assertThat(results.get(6).at("/details/item").isMissingNode()).isFalse();
        assertThat(results.get(8).at("/details/item").isMissingNode()).isFalse();
    }

    @Test
    void shouldRefuseALookupThatIsNotAnArrayIsEmptyOrTooLarge() {
        StringBuilder tooMany = new StringBuilder("[");
        for (int i = 1; i <= 21; i++) {
            tooMany.append(i > 1 ? "," : "").append(item(i, "BTC"));
        }

        Answer notArray = post(portA, "/api/v1/balances/lookup", "{\"account_id\":1}");
        Answer empty = post(portA, "/api/v1/balances/lookup", "[]");
        Answer large = post(portA, "/api/v1/balances/lookup", tooMany.append("]").toString());
        Answer notJson = post(portA, "/api/v1/balances/lookup", "[{");

        assertThat(notArray.status()).isEqualTo(400);
        assertThat(empty.status()).isEqualTo(400);
        assertThat(large.status()).isEqualTo(413);
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.body().get("error").asText()).isEqualTo("VALIDATION_FAILED");
    }

    @Test
    void shouldAnswerTheItemsOfAnOwnerThatCannotBeReachedWith503AndTheOthersWithTheirBalance() {
        // Given an account on each node, and B gone (its partitions not yet moved: the group waits for its session)
        long onA = owned(portA).get(0);
        long onB = owned(portB).get(0);
        assertThat(post(portA, "/api/v1/balance/change", change("d", onA, "USDT", "DEPOSIT", "1")).status())
                .isEqualTo(200);
        b.close();
        nodes.remove(b);

        // When A is asked for both
        Answer answer = post(portA, "/api/v1/balances/lookup", "[" + item(onA, "USDT") + "," + item(onB, "USDT") + "]");

        // Then A's item is answered and B's fails alone, with a hint to retry
        assertThat(answer.status()).isEqualTo(200);
        JsonNode results = answer.body().get("results");
        assertBalance(results.get(0), onA, "1.000000");
        assertThat(results.get(1).get("code").asInt()).isEqualTo(503);
        assertThat(results.get(1).get("retry_after_s").asInt()).isPositive();
    }

    @Test
    void shouldShowAnAppliedChangeInAReadFromEitherNodeRightAfterTheVerdict() throws Exception {
        // Given writers posting deposits to random accounts through random nodes, each reading back at once
        List<Long> accounts = concat(owned(portA).subList(0, 3), owned(portB).subList(0, 3));
        ExecutorService writers = Executors.newFixedThreadPool(6);
        List<Future<List<String>>> outcomes = new ArrayList<>();
        for (int w = 0; w < 6; w++) {
            int writer = w;
            outcomes.add(writers.submit(() -> {
                List<String> stale = new ArrayList<>();
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < 40; i++) {
                    long account = accounts.get(random.nextInt(accounts.size()));
                    int writePort = random.nextBoolean() ? portA : portB;
                    int readPort = random.nextBoolean() ? portA : portB;
                    Answer verdict = post(writePort, "/api/v1/balance/change",
                            change("w" + writer + "-" + i, account, "USDT", "DEPOSIT", "1"));
                    assertThat(verdict.status()).isEqualTo(200);
                    long version = verdict.body().at("/balance/version").asLong();
                    // When the same client reads the balance right after the verdict
                    long read = get(readPort, "/api/v1/balance/" + account + "/USDT").body().at("/balance/version")
                            .asLong();
                    if (read < version) {
                        stale.add(account + ": verdict version " + version + ", read " + read);
                    }
                }
                return stale;
            }));
        }
        writers.shutdown();

        // Then no read showed an older version than the verdict it followed
        List<String> stale = new ArrayList<>();
        for (Future<List<String>> outcome : outcomes) {
            stale.addAll(outcome.get());
        }
        assertThat(stale).isEmpty();
    }

    // ---- helpers ----

    private BalanceNode start(Map<String, String> env) {
        BalanceNode node = NodeFixture.startNode(env);
        nodes.add(node);
        return node;
    }

    private static String item(long account, String currency) {
        return "{\"account_id\":" + account + ",\"currency_code\":\"" + currency + "\"}";
    }

    private static void assertBalance(JsonNode result, long account, String available) {
        assertThat(result.get("code").asInt()).as(result.toString()).isEqualTo(200);
        assertThat(result.at("/balance/account_id").asLong()).isEqualTo(account);
        assertThat(result.at("/balance/available").asText()).isEqualTo(available);
    }

    private List<Long> owned(int port) {
        List<Long> accounts = new ArrayList<>();
        for (long account = 1; account < 500 && accounts.size() < 3; account++) {
            KeyQueryMetadata metadata = a.streams().queryMetadataForKey(Stores.ACCOUNTS, account, new LongSerializer());
            HostInfo host = metadata == null || KeyQueryMetadata.NOT_AVAILABLE.equals(metadata) ? null
                    : metadata.activeHost();
            if (host != null && host.port() == port) {
                accounts.add(account);
            }
        }
        return accounts;
    }

    /** Lookups the node has answered, from its own metrics. */
    private static long lookupsServed(int port) {
        String metrics = get(port, "/metrics").raw().body();
        return metrics.lines()
                .filter(line -> line.contains("route=\"/api/v1/balances/lookup\"") && line.contains("_count"))
                .mapToLong(line -> (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static List<Long> concat(List<Long> first, List<Long> second) {
        List<Long> all = new ArrayList<>(first);
        all.addAll(second);
        return all;
    }
}
