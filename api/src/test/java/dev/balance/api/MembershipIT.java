package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static dev.balance.api.NodeFixture.get;
import static dev.balance.api.NodeFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.balance.api.NodeFixture.Answer;
import dev.balance.topology.testkit.KafkaBroker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Static membership on a real broker: a node restarted under the same NODE_ID within the session
 * timeout gets its partitions back without a rebalance, a node leaving for good hands its
 * partitions over at once, two nodes never share an id, and /ready tells which partitions a node
 * cannot serve while it restores them.
 */
class MembershipIT {

    private KafkaBroker broker;
    private final List<BalanceNode> nodes = new ArrayList<>();
    private final CountDownLatch releaseRestore = new CountDownLatch(1);

    @BeforeEach
    void startBroker() {
        broker = KafkaBroker.start();
    }

    @AfterEach
    void stopAll() {
        releaseRestore.countDown();
        nodes.forEach(BalanceNode::close);
        broker.close();
    }

    @Test
    void shouldGiveARestartedNodeItsPartitionsBackWithoutARebalance() {
        // Given two nodes (static members, one standby each) with a settled assignment, and a balance on B
        String cluster = NodeFixture.newCluster();
        int portA = NodeFixture.freePort();
        int portB = NodeFixture.freePort();
        // A longer session than the default so a slow machine cannot turn the restart into a timeout.
        Map<String, String> envB = NodeFixture.env(broker, cluster, portB, Map.of("SESSION_TIMEOUT_MS", "30000"));
        BalanceNode a = start(NodeFixture.env(broker, cluster, portA, Map.of("SESSION_TIMEOUT_MS", "30000")));
        BalanceNode b = start(envB);
        MultiNodeIT.awaitBothOwnPartitions(a, portA, portB);
        NodeFixture.awaitStableAssignment(nodes);
        long ownedByB = MultiNodeIT.accountOwnedBy(a, portB);
        assertThat(post(portA, "/api/v1/balance/change", change("keep-1", ownedByB, "BTC", "DEPOSIT", "1.5")).status())
                .isEqualTo(200);
        Map<String, Set<Integer>> groupBefore = groupView(a);
        Tasks tasksOfA = tasks(a);
        Tasks tasksOfB = tasks(b);
        long rebalancesOfA = a.readiness().rebalances();
        assertThat(tasksOfB.standby()).as("B keeps a standby of A's partitions").isNotEmpty();

        // A forwards a read of B's account and relays B's answer as B gives it
        String pathOnB = "/api/v1/balance/" + ownedByB + "/BTC";
        assertThat(get(portA, pathOnB).raw().body()).isEqualTo(get(portB, pathOnB).raw().body());

        // When B stops cleanly and starts again with the same identity and state
        long stopping = System.nanoTime();
        b.close();
        nodes.remove(b);
        long stoppedMs = (System.nanoTime() - stopping) / 1_000_000;
        // (while B is away, A answers reads of B's accounts 503 OWNER_UNREACHABLE with Retry-After, fast lane
        // and routes alike)
        for (String path : List.of(pathOnB, pathOnB + "?via=routes", "/api/v1/balance/" + ownedByB)) {
            Answer away = get(portA, path);
            assertThat(away.status()).as(path).isEqualTo(503);
            assertThat(away.body().get("error").asText()).as(path).isEqualTo("OWNER_UNREACHABLE");
            assertThat(away.header("Retry-After")).as(path).contains("1");
            assertThat(away.header("X-Request-Id")).as(path).isPresent();
        }
        long starting = System.nanoTime();
        java.util.concurrent.atomic.AtomicLong restoredRecords = new java.util.concurrent.atomic.AtomicLong();
        BalanceNode restarted = new BalanceNode(NodeConfig.fromEnv(envB), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))
                .observeRestores(new StateRestoreListener() {
                    @Override
                    public void onRestoreStart(TopicPartition partition, String store, long start, long end) {
                    }

                    @Override
                    public void onBatchRestored(TopicPartition partition, String store, long end, long restored) {
                    }

                    @Override
                    public void onRestoreEnd(TopicPartition partition, String store, long total) {
                        // A "restore" from the checkpoint to the end may find only the commit marker: 0 records.
                        restoredRecords.addAndGet(total);
                    }
                });
        nodes.add(restarted);
        restarted.start();
        await("B ready again").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(20)).until(restarted::ready);
        long readyMs = (System.nanoTime() - starting) / 1_000_000;
        Answer read = get(portA, "/api/v1/balance/" + ownedByB + "/BTC");
        long servedMs = (System.nanoTime() - starting) / 1_000_000;
        System.out.printf("restart: clean stop %d ms, ready %d ms after start, first read through A %d ms after start%n",
                stoppedMs, readyMs, servedMs);

        // Then nothing moved: A never rebalanced, both run the tasks they ran before, and B serves again
        assertThat(read.status()).as(read.body().toString()).isEqualTo(200);
        assertThat(read.body().at("/balance/available").asText()).isEqualTo("1.50000000");
        assertThat(a.readiness().rebalances()).as("rebalances of A").isEqualTo(rebalancesOfA);
        assertThat(a.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);
        assertThat(tasks(a)).isEqualTo(tasksOfA);
        assertThat(tasks(restarted).active()).isEqualTo(tasksOfB.active());
        assertThat(restoredRecords.get()).as("records B restored (its checkpoints are current)").isZero();
        assertThat(groupView(a)).isEqualTo(groupBefore);
        assertThat(groupView(restarted)).isEqualTo(groupBefore);
        assertThat(get(portB, "/ready").status()).isEqualTo(200);
    }

    @Test
    void shouldHandItsPartitionsOverAtOnceWhenANodeLeavesForGood() {
        // Given two nodes whose sessions would outlast the test's patience
        String cluster = NodeFixture.newCluster();
        int portA = NodeFixture.freePort();
        int portB = NodeFixture.freePort();
        BalanceNode a = start(NodeFixture.env(broker, cluster, portA, Map.of("SESSION_TIMEOUT_MS", "120000")));
        BalanceNode b = start(NodeFixture.env(broker, cluster, portB, Map.of("SESSION_TIMEOUT_MS", "120000")));
        MultiNodeIT.awaitBothOwnPartitions(a, portA, portB);
        NodeFixture.awaitStableAssignment(nodes);
        long ownedByB = MultiNodeIT.accountOwnedBy(a, portB);
        assertThat(post(portA, "/api/v1/balance/change", change("move-1", ownedByB, "USDT", "DEPOSIT", "3")).status())
                .isEqualTo(200);

        // When B stops and leaves the group
        long leaving = System.nanoTime();
        b.close(true);
        nodes.remove(b);

        // Then A owns every partition long before B's session would have timed out, and serves B's account
        await("A owns every partition").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> a.ready() && tasks(a).active().size() == 4);
        System.out.printf("leave: A served all 4 partitions %d ms after B started to close%n",
                (System.nanoTime() - leaving) / 1_000_000);
        Answer read = get(portA, "/api/v1/balance/" + ownedByB + "/USDT");
        assertThat(read.status()).as(read.body().toString()).isEqualTo(200);
        assertThat(read.body().at("/balance/available").asText()).isEqualTo("3.000000");
    }

    @Test
    void shouldStopTheEarlierNodeWhenAnotherJoinsUnderItsNodeId() {
        // Given a node running as NODE_ID twin
        String cluster = NodeFixture.newCluster();
        int portA = NodeFixture.freePort();
        int portB = NodeFixture.freePort();
        BalanceNode a = start(NodeFixture.env(broker, cluster, portA, Map.of("NODE_ID", "twin")));

        // When a second node joins the group under the same id
        BalanceNode b = new BalanceNode(NodeConfig.fromEnv(NodeFixture.env(broker, cluster, portB,
                Map.of("NODE_ID", "twin"))), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        nodes.add(b);
        b.start();

        // Then the first one is fenced and stops processing instead of fencing the other in turn
        await("the first node stops").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(100))
                .until(() -> a.streams().state() == KafkaStreams.State.ERROR);
        assertThat(a.ready()).isFalse();
        assertThat(get(portA, "/ready").status()).isEqualTo(503);
        await("the second node runs").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(100))
                .until(() -> b.streams().state() == KafkaStreams.State.RUNNING);
    }

    @Test
    void shouldAnswerNotReadyWithThePartitionsItIsStillRestoring() throws Exception {
        // Given a node with balances on all of its partitions, stopped, and its state directory wiped
        String cluster = NodeFixture.newCluster();
        int port = NodeFixture.freePort();
        Map<String, String> env = NodeFixture.env(broker, cluster, port, Map.of());
        BalanceNode first = start(env);
        StringBuilder batch = new StringBuilder("[");
        for (int account = 1; account <= 40; account++) {
            batch.append(account == 1 ? "" : ",").append(change("seed-" + account, account, "ETH", "DEPOSIT", "1"));
        }
        Answer seeded = post(port, "/api/v1/balance/changes", batch.append(']').toString());
        assertThat(seeded.status()).as(seeded.body().toString()).isEqualTo(200);
        first.close();
        nodes.remove(first);
        wipe(Path.of(env.get("STATE_DIR")));

        // When it starts again and its restore is held on the first batch
        CountDownLatch restoring = new CountDownLatch(1);
        BalanceNode node = new BalanceNode(NodeConfig.fromEnv(env), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))
                .observeRestores(new StateRestoreListener() {
                    @Override
                    public void onRestoreStart(TopicPartition partition, String store, long start, long end) {
                    }

                    @Override
                    public void onBatchRestored(TopicPartition partition, String store, long end, long restored) {
                        restoring.countDown();
                        try {
                            releaseRestore.await(2, TimeUnit.MINUTES);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }

                    @Override
                    public void onRestoreEnd(TopicPartition partition, String store, long total) {
                    }
                });
        nodes.add(node);
        node.start();
        assertThat(restoring.await(2, TimeUnit.MINUTES)).as("a restore started").isTrue();

        // Then /ready answers 503 naming the partitions it cannot serve, with the restore's progress
        Answer notReady = get(port, "/ready");
        System.out.println("while restoring: /ready " + notReady.status() + " " + notReady.body());
        assertThat(notReady.status()).as(notReady.body().toString()).isEqualTo(503);
        assertThat(notReady.header("Retry-After")).contains("1");
        assertThat(notReady.body().get("error").asText()).isEqualTo("NOT_READY");
        JsonNode restores = notReady.body().get("restoring");
        assertThat(restores).as(notReady.body().toString()).isNotEmpty();
        Set<Integer> notServing = ints(notReady.body().get("not_serving"));
        for (JsonNode restore : restores) {
            assertThat(notServing).contains(restore.get("partition").asInt());
            assertThat(restore.get("total_records").asLong()).isPositive();
            assertThat(restore.get("restored_records").asLong()).isBetween(0L, restore.get("total_records").asLong());
        }
        assertThat(node.ready()).isFalse();
        // And a read of an account on a partition being restored is a 503 with Retry-After, not a zero balance
        int held = restores.get(0).get("partition").asInt();
        long account = accountOn(held);
        Answer read = get(port, "/api/v1/balance/" + account + "/ETH");
        assertThat(read.status()).as(read.body().toString()).isEqualTo(503);
        assertThat(read.header("Retry-After")).isPresent();

        // And once the restore may go on, the node becomes ready and serves what it restored
        releaseRestore.countDown();
        await("ready after the restore").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
                .until(() -> get(port, "/ready").status() == 200);
        Answer ready = get(port, "/ready");
        assertThat(ready.body().get("status").asText()).isEqualTo("READY");
        assertThat(ints(ready.body().get("partitions"))).containsExactly(0, 1, 2, 3);
        assertThat(get(port, "/api/v1/balance/" + account + "/ETH").body().at("/balance/available").asText())
                .isEqualTo("1.000000000000000000");
    }

    /** An account of 1..40 (all seeded) on the partition. */
    private static long accountOn(int partition) {
        for (long account = 1; account <= 40; account++) {
            byte[] key = new org.apache.kafka.common.serialization.LongSerializer().serialize(null, account);
            if (org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(key)) % 4
                    == partition) {
                return account;
            }
        }
        throw new AssertionError("no seeded account on partition " + partition);
    }

    private static Set<Integer> ints(JsonNode array) {
        Set<Integer> values = new TreeSet<>();
        array.forEach(value -> values.add(value.asInt()));
        return values;
    }

    /** The tasks a node's stream threads run. */
    record Tasks(Set<String> active, Set<String> standby) {
    }

    private static Tasks tasks(BalanceNode node) {
        Set<String> active = new TreeSet<>();
        Set<String> standby = new TreeSet<>();
        node.streams().metadataForLocalThreads().forEach(thread -> {
            thread.activeTasks().forEach(task -> active.add(task.taskId().toString()));
            thread.standbyTasks().forEach(task -> standby.add(task.taskId().toString()));
        });
        return new Tasks(active, standby);
    }

    /** Who owns which partitions as the node sees the group. */
    private static Map<String, Set<Integer>> groupView(BalanceNode node) {
        Map<String, Set<Integer>> view = new TreeMap<>();
        node.streams().metadataForAllStreamsClients().forEach(client -> {
            Set<Integer> partitions = new TreeSet<>();
            client.topicPartitions().forEach(partition -> partitions.add(partition.partition()));
            view.put(client.hostInfo().host() + ":" + client.hostInfo().port(), partitions);
        });
        return view;
    }

    private static void wipe(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private BalanceNode start(Map<String, String> env) {
        BalanceNode node = NodeFixture.startNode(env);
        nodes.add(node);
        return node;
    }
}
