package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static dev.balance.api.NodeFixture.get;
import static dev.balance.api.NodeFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.balance.api.NodeFixture.Answer;
import dev.balance.api.query.ReadBatcher;
import dev.balance.topology.Stores;
import dev.balance.topology.testkit.KafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two nodes of one cluster: any node answers any request by forwarding to the owner once. */
class MultiNodeIT {

    private KafkaBroker broker;
    private final List<BalanceNode> nodes = new ArrayList<>();

    @BeforeEach
    void startBroker() {
        broker = KafkaBroker.start();
    }

    @AfterEach
    void stopAll() {
        nodes.forEach(BalanceNode::close);
        broker.close();
    }

    @Test
    void shouldForwardWritesReadsAndBatchesSentToTheNonOwner() {
        // Given two nodes sharing the partitions of one cluster
        String cluster = NodeFixture.newCluster();
        int portA = NodeFixture.freePort();
        int portB = NodeFixture.freePort();
        BalanceNode a = start(NodeFixture.env(broker, cluster, portA, Map.of("STANDBY_REPLICAS", "1")));
        BalanceNode b = start(NodeFixture.env(broker, cluster, portB, Map.of("STANDBY_REPLICAS", "1")));
        awaitBothOwnPartitions(a, portA, portB);
        NodeFixture.awaitStableAssignment(nodes);
        long ownedByB = accountOwnedBy(a, portB);
        long ownedByA = accountOwnedBy(a, portA);

        // When a change for B's account is sent to A, and read back through A
        Answer write = post(portA, "/api/v1/balance/change", change("fwd-1", ownedByB, "BTC", "DEPOSIT", "2.5"));
        Answer read = get(portA, "/api/v1/balance/" + ownedByB + "/BTC");
        Answer all = get(portA, "/api/v1/balance/" + ownedByB);
        Answer verdict = get(portA, "/api/v1/transactions/" + ownedByB + "/fwd-1");

        // Then the owner decided it and A relayed its answers
        assertThat(write.status()).isEqualTo(200);
        assertThat(write.body().at("/balance/available").asText()).isEqualTo("2.50000000");
        assertThat(read.body().at("/balance/version").asLong()).isEqualTo(1);
        assertThat(all.body().get("balances")).hasSize(1);
        assertThat(verdict.body().at("/transaction/result").asText()).isEqualTo("APPLIED");
        assertThat(b.counters().count(dev.balance.topology.model.Result.APPLIED)).isEqualTo(1);
        assertThat(a.counters().count(dev.balance.topology.model.Result.APPLIED)).isZero();

        // And A's plain reads reached B as groups: B answers a group with its own accounts from its
        // store, byte for byte as the single GET, and marks what it cannot answer to be asked singly
        assertThat(NodeFixture.groupedReads(portB)).isGreaterThanOrEqualTo(3);
        String unknown = "/api/v1/transactions/" + ownedByB + "/never-sent";
        Answer group = post(portB, ReadBatcher.PATH, "/api/v1/balance/" + ownedByB + "/BTC\n/api/v1/balance/"
                + ownedByA + "/BTC\n" + unknown + "\n/api/v1/balance/" + ownedByB + "\n");
        assertThat(group.status()).isEqualTo(200);
        List<ReadBatcher.Answer> answers = ReadBatcher.decode(
                group.raw().body().getBytes(java.nio.charset.StandardCharsets.UTF_8), 4);
        assertThat(answers).isNotNull();
        assertThat(answers).extracting(ReadBatcher.Answer::status)
                .containsExactly(200, ReadBatcher.ASK_SINGLY, ReadBatcher.ASK_SINGLY, 200);
        assertThat(new String(answers.get(0).body(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(read.raw().body());
        assertThat(new String(answers.get(3).body(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(all.raw().body());
        // and a read B marks is asked of it singly, whose answer A relays
        Answer notFound = get(portA, unknown);
        assertThat(notFound.status()).isEqualTo(404);
        assertThat(notFound.body().get("error").asText()).isEqualTo("NOT_FOUND");

        // And a batch sent to B mixing both owners gets every verdict in order
        String batch = "[" + change("m1", ownedByA, "USDT", "DEPOSIT", "5") + ","
                + change("m2", ownedByB, "USDT", "DEPOSIT", "7") + ","
                + change("m3", ownedByA, "USDT", "WITHDRAW", "6") + ","
                + change("m4", ownedByB, "USDT", "WITHDRAW", "7") + "]";
        Answer batchAnswer = post(portB, "/api/v1/balance/changes", batch);
        JsonNode results = batchAnswer.body().get("results");
        assertThat(batchAnswer.status()).isEqualTo(200);
        assertThat(results).hasSize(4);
        assertThat(results.get(0).get("code").asInt()).isEqualTo(200);
        assertThat(results.get(1).get("code").asInt()).isEqualTo(200);
        assertThat(results.get(2).get("code").asInt()).isEqualTo(422);
        assertThat(results.get(3).get("code").asInt()).isEqualTo(200);
        assertThat(results.get(3).at("/balance/available").asText()).isEqualTo("0.000000");
        assertThat(get(portB, "/api/v1/balance/" + ownedByA + "/USDT").body().at("/balance/available").asText())
                .isEqualTo("5.000000");

        // And a client allowing stale reads is served by A's standby copy of B's partition, with its lag
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
            Answer stale = get(portA, "/api/v1/balance/" + ownedByB + "/BTC?allow_stale=true");
            assertThat(stale.status()).isEqualTo(200);
            assertThat(stale.body().get("stale_allowed").asBoolean()).isTrue();
            assertThat(stale.body().get("served_by").asText()).isEqualTo("standby");
            assertThat(stale.body().get("lag_records").asLong()).isGreaterThanOrEqualTo(0);
            assertThat(stale.body().at("/balance/available").asText()).isEqualTo("2.50000000");
        });
    }

    @Test
    void shouldServeAStaleReadFromAStandbyWhenTheOwnerIsGone() {
        // Given three nodes, one standby per partition, and a funded account owned by A whose standby is on B
        String cluster = NodeFixture.newCluster();
        int portA = NodeFixture.freePort();
        int portB = NodeFixture.freePort();
        int portC = NodeFixture.freePort();
        Map<String, String> standby = Map.of("STANDBY_REPLICAS", "1", "TOPIC_PARTITIONS", "6");
        BalanceNode a = start(NodeFixture.env(broker, cluster, portA, standby));
        start(NodeFixture.env(broker, cluster, portB, standby));
        BalanceNode c = start(NodeFixture.env(broker, cluster, portC, standby));
        NodeFixture.awaitStableAssignment(nodes);
        long account = -1;
        for (long candidate = 1; candidate < 10_000 && account < 0; candidate++) {
            KeyQueryMetadata metadata = c.streams().queryMetadataForKey(Stores.ACCOUNTS, candidate, new LongSerializer());
            if (metadata.activeHost().port() == portA && metadata.standbyHosts().stream().allMatch(h -> h.port() == portB)
                    && !metadata.standbyHosts().isEmpty()) {
                account = candidate;
            }
        }
        assertThat(account).as("an account owned by A with its standby on B").isPositive();
        assertThat(post(portC, "/api/v1/balance/change", change("gone-1", account, "BTC", "DEPOSIT", "4")).status())
                .isEqualTo(200);
        long owned = account;
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(
                get(portB, "/api/v1/balance/" + owned + "/BTC?allow_stale=true").body().at("/balance/version").asLong())
                .isEqualTo(1));

        // When A stops without leaving the group (as a killed node: the group still names it the owner)
        a.close(false);
        nodes.remove(a);

        // Then C, which holds no copy, cannot serve a fresh read, but serves a stale one from B's standby
        Answer fresh = get(portC, "/api/v1/balance/" + owned + "/BTC");
        Answer stale = get(portC, "/api/v1/balance/" + owned + "/BTC?allow_stale=true");
        assertThat(fresh.status()).isEqualTo(503);
        assertThat(fresh.body().get("error").asText()).isEqualTo("OWNER_UNREACHABLE");
        assertThat(stale.status()).as(stale.body().toString()).isEqualTo(200);
        assertThat(stale.body().get("served_by").asText()).isEqualTo("standby");
        assertThat(stale.body().at("/balance/available").asText()).isEqualTo("4.00000000");
    }

    @Test
    void shouldMoveAKilledNodesPartitionsToTheOthersLongBeforeItsSessionTimesOut() {
        // Given three nodes (static members, one standby each) with a session far longer than this test waits,
        // and a funded account owned by A
        String cluster = NodeFixture.newCluster();
        int portA = NodeFixture.freePort();
        int portB = NodeFixture.freePort();
        int portC = NodeFixture.freePort();
        Map<String, String> settings = Map.of("STANDBY_REPLICAS", "1", "TOPIC_PARTITIONS", "6",
                "SESSION_TIMEOUT_MS", "120000");
        BalanceNode a = start(NodeFixture.env(broker, cluster, portA, settings));
        start(NodeFixture.env(broker, cluster, portB, settings));
        BalanceNode c = start(NodeFixture.env(broker, cluster, portC, settings));
        NodeFixture.awaitStableAssignment(nodes);
        long account = accountOwnedBy(c, portA);
        assertThat(post(portC, "/api/v1/balance/change", change("kill-1", account, "BTC", "DEPOSIT", "4")).status())
                .isEqualTo(200);
        // The member ids each node publishes in /ready are exactly the group's static members as the broker knows
        // them (the others remove a dead node by these ids, so a naming mismatch would silently disable it)
        java.util.Set<String> published = new java.util.TreeSet<>();
        for (int port : new int[] {portA, portB, portC}) {
            get(port, "/ready").body().path("group_instance_ids").forEach(id -> published.add(id.asText()));
        }
        assertThat(published).hasSize(3);
        assertThat(groupInstanceIds(cluster)).isEqualTo(published);

        // When A dies without a word (no 503 STOPPING first, still a member of the group, its port closed)
        long killed = System.nanoTime();
        a.closeUnannounced();
        nodes.remove(a);

        // Then the others remove it from the group and decide its account's changes within seconds, from the
        // standby's copy (nothing lost), while its session (120 s) would have kept them waiting
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() ->
                post(portC, "/api/v1/balance/change", change("kill-2", account, "BTC", "DEPOSIT", "1")).status() == 200);
        long movedMs = (System.nanoTime() - killed) / 1_000_000;
        System.out.printf("killed node's partitions decided again %d ms after the kill%n", movedMs);
        Answer read = get(portB, "/api/v1/balance/" + account + "/BTC");
        assertThat(read.status()).as(read.body().toString()).isEqualTo(200);
        assertThat(read.body().at("/balance/available").asText()).isEqualTo("5.00000000");
        assertThat(evictions(portB) + evictions(portC)).as("removals of A from the group").isPositive();
    }

    private java.util.Set<String> groupInstanceIds(String group) {
        try (org.apache.kafka.clients.admin.Admin admin = broker.admin()) {
            java.util.Set<String> ids = new java.util.TreeSet<>();
            admin.describeConsumerGroups(List.of(group)).all().get(30, java.util.concurrent.TimeUnit.SECONDS).get(group)
                    .members().forEach(member -> member.groupInstanceId().ifPresent(ids::add));
            return ids;
        } catch (Exception e) {
            throw new AssertionError("could not describe group " + group, e);
        }
    }

    private static long evictions(int port) {
        java.util.regex.Matcher count = java.util.regex.Pattern.compile("balance_peer_evictions_total(?:\\{[^}]*})? ([0-9.E]+)")
                .matcher(get(port, "/metrics").raw().body());
        return count.find() ? (long) Double.parseDouble(count.group(1)) : 0;
    }

    @Test
    void shouldApplyATransferPostedToANodeThatOwnsNeitherAccount() {
        // Given two nodes, and a source and a destination both owned by B (and a second destination owned by A)
        String cluster = NodeFixture.newCluster();
        int portA = NodeFixture.freePort();
        int portB = NodeFixture.freePort();
        BalanceNode a = start(NodeFixture.env(broker, cluster, portA, Map.of()));
        start(NodeFixture.env(broker, cluster, portB, Map.of()));
        awaitBothOwnPartitions(a, portA, portB);
        NodeFixture.awaitStableAssignment(nodes);
        long source = accountOwnedBy(a, portB);
        long destination = accountOwnedBy(a, portB, source + 1);
        long destinationOnA = accountOwnedBy(a, portA);
        assertThat(post(portA, "/api/v1/balance/change", change("fund", source, "USDT", "DEPOSIT", "10")).status())
                .isEqualTo(200);

        // When A is asked to move money between B's accounts, and from B's account to its own
        Answer transfer = post(portA, "/api/v1/balance/change",
                TransferIT.transfer("x1", source, destination, "TRANSFER", "3"));
        Answer toA = post(portA, "/api/v1/balance/change",
                TransferIT.transfer("x2", source, destinationOnA, "TRANSFER", "2"));

        // Then B decided the debits, A relayed them, and each destination is credited once, readable from either node
        assertThat(transfer.status()).as(transfer.body().toString()).isEqualTo(200);
        assertThat(transfer.body().get("to_account_id").asLong()).isEqualTo(destination);
        assertThat(toA.status()).as(toA.body().toString()).isEqualTo(200);
        assertThat(toA.body().at("/balance/available").asText()).isEqualTo("5.000000");
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
            assertThat(get(portA, "/api/v1/balance/" + destination + "/USDT").body().at("/balance/available").asText())
                    .isEqualTo("3.000000");
            assertThat(get(portB, "/api/v1/balance/" + destinationOnA + "/USDT").body().at("/balance/available")
                    .asText()).isEqualTo("2.000000");
        });
        Answer credit = get(portA, "/api/v1/transactions/" + destinationOnA + "/x2");
        assertThat(credit.body().at("/transaction/leg").asText()).isEqualTo("CREDIT");
        assertThat(credit.body().at("/transaction/from_account_id").asLong()).isEqualTo(source);
    }

    @Test
    void shouldKeepBalancesAcrossARestartOfTheNode() {
        // Given a node with some balances
        String cluster = NodeFixture.newCluster();
        int port = NodeFixture.freePort();
        Map<String, String> env = NodeFixture.env(broker, cluster, port, Map.of());
        BalanceNode node = start(env);
        for (int i = 0; i < 20; i++) {
            assertThat(post(port, "/api/v1/balance/change", change("r" + i, 500 + i, "ETH", "DEPOSIT", i + 1 + ".25")).status())
                    .isEqualTo(200);
        }
        assertThat(post(port, "/api/v1/balance/change", change("f", 500, "ETH", "FREEZE", "1")).status()).isEqualTo(200);

        // When the node stops and starts again on the same state directory
        node.close();
        nodes.remove(node);
        start(env);

        // Then every balance, version and remembered verdict is intact
        for (int i = 0; i < 20; i++) {
            JsonNode balance = get(port, "/api/v1/balance/" + (500 + i) + "/ETH").body().get("balance");
            String expected = i == 0 ? "0.250000000000000000" : new java.math.BigDecimal(i + 1 + ".25").setScale(18).toPlainString();
            assertThat(balance.get("available").asText()).isEqualTo(expected);
            assertThat(balance.get("version").asLong()).isEqualTo(i == 0 ? 2 : 1);
        }
        Answer replay = post(port, "/api/v1/balance/change", change("r3", 503, "ETH", "DEPOSIT", "4.25"));
        assertThat(replay.body().get("replay").asBoolean()).isTrue();
    }

    private BalanceNode start(Map<String, String> env) {
        BalanceNode node = NodeFixture.startNode(env);
        nodes.add(node);
        return node;
    }

    static void awaitBothOwnPartitions(BalanceNode node, int portA, int portB) {
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!node.ready()) {
                return false;
            }
            boolean seenA = false;
            boolean seenB = false;
            for (long account = 1; account < 200; account++) {
                int owner = ownerPort(node, account);
                seenA |= owner == portA;
                seenB |= owner == portB;
            }
            return seenA && seenB;
        });
    }

    static long accountOwnedBy(BalanceNode node, int port) {
        return accountOwnedBy(node, port, 1);
    }

    private static long accountOwnedBy(BalanceNode node, int port, long from) {
        for (long account = from; account < from + 10_000; account++) {
            if (ownerPort(node, account) == port) {
                return account;
            }
        }
        throw new AssertionError("no account owned by port " + port);
    }

    private static int ownerPort(BalanceNode node, long account) {
        KeyQueryMetadata metadata = node.streams().queryMetadataForKey(Stores.ACCOUNTS, account, new LongSerializer());
        HostInfo host = metadata == null || KeyQueryMetadata.NOT_AVAILABLE.equals(metadata) ? null : metadata.activeHost();
        return host == null ? -1 : host.port();
    }
}
