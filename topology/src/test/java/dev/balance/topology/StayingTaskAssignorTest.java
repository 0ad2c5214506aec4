package dev.balance.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.topology.StayingTaskAssignor.Client;
import dev.balance.topology.StayingTaskAssignor.Plan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.assignment.ApplicationState;
import org.apache.kafka.streams.processor.assignment.AssignmentConfigs;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsState;
import org.apache.kafka.streams.processor.assignment.ProcessId;
import org.apache.kafka.streams.processor.assignment.TaskAssignmentUtils;
import org.apache.kafka.streams.processor.assignment.TaskAssignor;
import org.apache.kafka.streams.processor.assignment.TaskInfo;
import org.apache.kafka.streams.processor.assignment.TaskTopicPartition;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;

/** The assignment rules of {@link StayingTaskAssignor}, on the cluster shapes the chaos test produces. */
class StayingTaskAssignorTest {
    private static final long ACCEPTABLE_LAG = 10_000;
    private static final long RUNNING = StayingTaskAssignor.RUNNING;
    private static final ProcessId A = id(1);
    private static final ProcessId B = id(2);
    private static final ProcessId C = id(3);
    private static final ProcessId D = id(4);
    private static final List<TaskId> TASKS = tasks(6);

    private final Map<TaskId, String> homes = new HashMap<>();
    private final Map<Integer, String> lastOwners = new HashMap<>();
    private final Map<String, Long> returnedAt = new HashMap<>();
    private static final long SETTLE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    /** The plans' clock (nanoseconds). */
    private long now = 1_000_000_000L;

    @Test
    void aSteadyClusterKeepsEveryTaskWhereItRuns() {
        List<Client> clients = steadyCluster();
        Plan plan = plan(clients);

        assertThat(actives(clients)).isEqualTo(Map.of(A, set(0, 1), B, set(2, 3), C, set(4, 5)));
        assertThat(plan.moves()).isEmpty();
        assertThat(plan.warmups()).isEmpty();
        assertValid(clients, 1);
    }

    @Test
    void aDeadNodesTasksGoToTheirStandbysAndTheSurvivorsKeepTheirOwn() {
        plan(steadyCluster());
        // C died; A held the standby of 4, B that of 5 (a few hundred records behind).
        Client a = client(A, Map.of(t(0), RUNNING, t(1), RUNNING, t(4), 300L, t(2), 200L), 0, 1);
        Client b = client(B, Map.of(t(2), RUNNING, t(3), RUNNING, t(5), 250L, t(0), 100L), 2, 3);
        List<Client> clients = List.of(a, b);
        Plan plan = plan(clients);

        assertThat(actives(clients)).isEqualTo(Map.of(A, set(0, 1, 4), B, set(2, 3, 5)));
        assertThat(plan.moves()).containsExactlyInAnyOrder(t(4) + "->" + A, t(5) + "->" + B);
        assertThat(homes).isEqualTo(Map.of(t(4), C.toString(), t(5), C.toString()));
        assertValid(clients, 1);
    }

    @Test
    void whenBothStandbysAreOnOneSurvivorTheOtherWarmsUpAnOrphanInsteadOfTakingARunningTask() {
        plan(steadyCluster());
        Client a = client(A, Map.of(t(0), RUNNING, t(1), RUNNING, t(4), 300L, t(5), 300L), 0, 1);
        Client b = client(B, Map.of(t(2), RUNNING, t(3), RUNNING, t(0), 100L, t(1), 100L), 2, 3);
        List<Client> clients = List.of(a, b);
        Plan plan = plan(clients);

        // B could take 0 or 1 (it holds their standbys) but they run; it warms up 4 or 5 instead.
        assertThat(actives(clients)).isEqualTo(Map.of(A, set(0, 1, 4, 5), B, set(2, 3)));
        assertThat(plan.warmingClients()).containsExactly(B);
        assertThat(b.standby).containsAnyOf(t(4), t(5));
        assertValid(clients, 1);
    }

    @Test
    void aRestartedNodeGetsItsOwnTasksBackOnceCaughtUpAndNoOtherMoves() {
        plan(steadyCluster());
        cDies();
        now += SETTLE_NANOS;
        // C is back with its state folder: a few thousand records behind on everything it held, and
        // about as far behind on 0 and 2 (its standbys) as on 4 and 5: only the memory tells them apart.
        cReturnsAndSettles(1_500L);
        now += SETTLE_NANOS;
        List<Client> clients = cReturns(1_500L);
        Plan plan = plan(clients);

        assertThat(actives(clients)).isEqualTo(Map.of(A, set(0, 1), B, set(2, 3), C, set(4, 5)));
        assertThat(plan.moves()).containsExactlyInAnyOrder(t(4) + "->" + C, t(5) + "->" + C);
        assertThat(plan.settleUntil()).isEmpty();
        assertThat(homes).isEmpty();
        assertThat(returnedAt).isEmpty();
        assertValid(clients, 1);
    }

    @Test
    void aRestartedNodeFirstSettlesWithCopiesOfItsOwnTasksAndGetsThemBackWhenTheSettleIsOver() {
        plan(steadyCluster());
        cDies();
        now += SETTLE_NANOS;
        List<Client> back = cReturnsAndSettles(1_500L);
        assertThat(back.get(2).standby).contains(t(4), t(5));

        // A rebalance before the settle is over (another node's move, say) still leaves C's tasks alone.
        now += SETTLE_NANOS - 1;
        List<Client> early = cReturns(1_500L);
        Plan plan = plan(early);
        assertThat(actives(early)).isEqualTo(Map.of(A, set(0, 1, 4), B, set(2, 3, 5), C, Set.of()));
        assertThat(plan.settleUntil()).containsEntry(C, now + 1);

        now += 1;
        List<Client> settled = cReturns(1_500L);
        plan(settled);
        assertThat(actives(settled)).isEqualTo(Map.of(A, set(0, 1), B, set(2, 3), C, set(4, 5)));
    }

    @Test
    void aReturningNodeThatDiesWhileItSettlesStartsItsSettleAgainWhenItComesBack() {
        plan(steadyCluster());
        cDies();
        cReturnsAndSettles(1_500L);
        now += SETTLE_NANOS / 2;
        cDies();
        assertThat(returnedAt).isEmpty();
        now += SETTLE_NANOS;
        List<Client> back = cReturns(1_500L);
        Plan plan = plan(back);
        assertThat(actives(back).get(C)).isEmpty();
        assertThat(plan.settleUntil()).containsEntry(C, now + SETTLE_NANOS);
    }

    @Test
    void aNewLeaderThatOnlySawTheAssignmentStillGivesAReturningNodeItsOwnTasks() {
        // The dead node C led the group; the new leader knows the owners only from what its node saw.
        for (int p = 0; p < 6; p++) {
            lastOwners.put(p, (p < 2 ? A : p < 4 ? B : C).toString());
        }
        cDies();
        // Without the memory the lowest lag would pick 0 and 2, the survivors' own partitions.
        cReturnsAndSettles(1_000L);
        now += SETTLE_NANOS;
        List<Client> clients = cReturns(1_000L);
        plan(clients);

        assertThat(actives(clients)).isEqualTo(Map.of(A, set(0, 1), B, set(2, 3), C, set(4, 5)));
    }

    @Test
    void aNodeRestartedWithItsStateWipedWarmsUpBeforeItGetsAnyTask() {
        plan(steadyCluster());
        Client a = client(A, Map.of(t(0), RUNNING, t(1), RUNNING, t(4), RUNNING, t(2), 200L), 0, 1, 4);
        Client b = client(B, Map.of(t(2), RUNNING, t(3), RUNNING, t(5), RUNNING, t(0), 100L), 2, 3, 5);
        Client fresh = client(D, Map.of(t(0), 900_000L, t(1), 900_000L, t(2), 900_000L, t(3), 900_000L,
                t(4), 900_000L, t(5), 900_000L));
        List<Client> clients = List.of(a, b, fresh);
        Plan plan = plan(clients);

        assertThat(actives(clients)).isEqualTo(Map.of(A, set(0, 1, 4), B, set(2, 3, 5), D, Set.of()));
        assertThat(plan.moves()).isEmpty();
        assertThat(plan.warmingClients()).containsExactly(D);
        assertThat(fresh.standby).hasSizeGreaterThanOrEqualTo(2);
        assertValid(clients, 1);

        // The follow-up rebalance, its copies caught up: it takes two tasks, one from each.
        Map<TaskId, Long> warmed = new HashMap<>();
        for (TaskId task : TASKS) {
            warmed.put(task, fresh.standby.contains(task) ? 50L : 900_000L);
        }
        Client a2 = client(A, Map.of(t(0), RUNNING, t(1), RUNNING, t(4), RUNNING), 0, 1, 4);
        Client b2 = client(B, Map.of(t(2), RUNNING, t(3), RUNNING, t(5), RUNNING), 2, 3, 5);
        Client fresh2 = client(D, warmed);
        List<Client> after = List.of(a2, b2, fresh2);
        plan(after);
        assertThat(fresh2.active).hasSize(2);
        assertThat(a2.active).hasSize(2);
        assertThat(b2.active).hasSize(2);
        assertValid(after, 1);
    }

    @Test
    void withNoCaughtUpCopyAnOrphanGoesToTheClientWithTheLeastToRestore() {
        Client a = client(A, Map.of(t(0), 500_000L, t(1), 20_000L));
        Client b = client(B, Map.of(t(0), 40_000L, t(1), 700_000L));
        List<Client> clients = List.of(a, b);
        plan(clients, tasks(2));

        assertThat(actives(clients)).isEqualTo(Map.of(A, set(1), B, set(0)));
    }

    @Test
    void eachNodesCopiesAreSpreadOverTheOtherNodes() {
        // Three nodes each running two tasks, with nothing in the changelogs yet: every copy is as good.
        List<Client> clients = new ArrayList<>();
        ProcessId[] ids = {A, B, C};
        for (int n = 0; n < 3; n++) {
            Map<TaskId, Long> lags = new HashMap<>();
            for (TaskId task : TASKS) {
                lags.put(task, task.partition() / 2 == n ? RUNNING : 0L);
            }
            clients.add(client(ids[n], lags, 2 * n, 2 * n + 1));
        }
        plan(clients);

        assertThat(actives(clients).values()).allSatisfy(tasks -> assertThat(tasks).hasSize(2));
        assertValid(clients, 1);
        // Each node's two tasks have their copies on the two other nodes: if it dies, both survivors take one.
        for (Client owner : clients) {
            for (Client other : clients) {
                if (other != owner) {
                    assertThat(other.standby.stream().filter(owner.active::contains).count())
                            .as("copies of %s's tasks on %s", owner.id, other.id).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void randomClustersGetValidAssignmentsWithEveryStandbyThatFits() {
        Random random = new Random(42);
        for (int round = 0; round < 2_000; round++) {
            int clientCount = 1 + random.nextInt(5);
            List<TaskId> tasks = tasks(1 + random.nextInt(13));
            List<Client> clients = new ArrayList<>();
            for (int i = 0; i < clientCount; i++) {
                Map<TaskId, Long> lags = new HashMap<>();
                List<TaskId> previous = new ArrayList<>();
                for (TaskId task : tasks) {
                    switch (random.nextInt(4)) {
                        case 0 -> {
                            lags.put(task, RUNNING);
                            previous.add(task);
                        }
                        case 1 -> lags.put(task, (long) random.nextInt(20_000));
                        default -> lags.put(task, (long) random.nextInt(2_000_000));
                    }
                }
                clients.add(new Client(id(10 + i), 1 + random.nextInt(3), previous, lags));
            }
            Map<TaskId, Boolean> stateful = new TreeMap<>();
            tasks.forEach(task -> stateful.put(task, true));
            int standbys = random.nextInt(3);
            StayingTaskAssignor.plan(clients, stateful, ACCEPTABLE_LAG, standbys, 2, homes, lastOwners,
                    new StayingTaskAssignor.Returns(returnedAt, now, random.nextBoolean() ? 0 : SETTLE_NANOS));
            now += random.nextInt(2) * SETTLE_NANOS;
            assertValid(clients, standbys, tasks);
        }
    }

    @Test
    void kafkasOwnValidationAcceptsTheAssignmentAndTheWarmingNodeAsksForAFollowUpForAll() {
        Map<TaskId, Long> running = new HashMap<>();
        Map<TaskId, Long> far = new HashMap<>();
        for (TaskId task : TASKS) {
            running.put(task, RUNNING);
            far.put(task, 1_000_000L);
        }
        Map<ProcessId, KafkaStreamsState> states = new TreeMap<>();
        states.put(A, new State(A, new TreeSet<>(TASKS), running));
        states.put(D, new State(D, new TreeSet<>(), far));
        ApplicationState application = new Application(states);
        StayingTaskAssignor assignor = new StayingTaskAssignor();
        assignor.configure(Map.of("application.id", "assignor-test-" + UUID.randomUUID(),
                StayingTaskAssignor.PROBE_INTERVAL_CONFIG, "5000"));

        TaskAssignor.TaskAssignment assignment = assignor.assign(application);

        assertThat(TaskAssignmentUtils.validateTaskAssignment(application, assignment))
                .isEqualTo(TaskAssignor.AssignmentError.NONE);
        Map<ProcessId, KafkaStreamsAssignment> byClient = new HashMap<>();
        assignment.assignment().forEach(a -> byClient.put(a.processId(), a));
        assertThat(byClient.get(A).tasks().values()).filteredOn(t -> t.type() == KafkaStreamsAssignment.AssignedTask.Type.ACTIVE)
                .hasSize(6);
        assertThat(byClient.get(D).tasks().values()).isNotEmpty()
                .allSatisfy(t -> assertThat(t.type()).isEqualTo(KafkaStreamsAssignment.AssignedTask.Type.STANDBY));
        // Every member starts the follow-up at the same instant, so the rebalance gathers them at once.
        assertThat(byClient.get(D).followupRebalanceDeadline()).isPresent();
        assertThat(byClient.get(A).followupRebalanceDeadline()).isEqualTo(byClient.get(D).followupRebalanceDeadline());
    }

    @Test
    void withNothingToWarmOrSettleNoMemberAsksForAFollowUp() {
        Map<TaskId, Long> running = new HashMap<>();
        for (TaskId task : TASKS) {
            running.put(task, RUNNING);
        }
        Map<ProcessId, KafkaStreamsState> states = new TreeMap<>();
        states.put(A, new State(A, new TreeSet<>(TASKS), running));
        StayingTaskAssignor assignor = new StayingTaskAssignor();
        assignor.configure(Map.of("application.id", "assignor-test-" + UUID.randomUUID()));

        TaskAssignor.TaskAssignment assignment = assignor.assign(new Application(states));

        assertThat(assignment.assignment()).singleElement()
                .satisfies(a -> assertThat(a.followupRebalanceDeadline()).isEmpty());
    }

    // ---- helpers

    /** C died: A took 4 and B took 5, whose standbys they held. */
    private void cDies() {
        plan(List.of(client(A, Map.of(t(0), RUNNING, t(1), RUNNING, t(4), 300L, t(2), 200L), 0, 1),
                client(B, Map.of(t(2), RUNNING, t(3), RUNNING, t(5), 250L, t(0), 100L), 2, 3)));
    }

    /** C is back, 2,000 records behind on 4 and 5 and {@code standbyLag} on 0 and 2; A and B run the rest. */
    private List<Client> cReturns(long standbyLag) {
        return List.of(client(A, Map.of(t(0), RUNNING, t(1), RUNNING, t(4), RUNNING, t(2), 200L), 0, 1, 4),
                client(B, Map.of(t(2), RUNNING, t(3), RUNNING, t(5), RUNNING, t(0), 100L), 2, 3, 5),
                client(C, Map.of(t(4), 2_000L, t(5), 2_000L, t(0), standbyLag, t(2), standbyLag)));
    }

    private List<Client> steadyCluster() {
        Client a = client(A, Map.of(t(0), RUNNING, t(1), RUNNING, t(4), 300L, t(2), 200L), 0, 1);
        Client b = client(B, Map.of(t(2), RUNNING, t(3), RUNNING, t(5), 250L, t(0), 100L), 2, 3);
        Client c = client(C, Map.of(t(4), RUNNING, t(5), RUNNING, t(1), 120L, t(3), 130L), 4, 5);
        return List.of(a, b, c);
    }

    private Plan plan(List<Client> clients) {
        return plan(clients, TASKS);
    }

    private Plan plan(List<Client> clients, List<TaskId> tasks) {
        Map<TaskId, Boolean> stateful = new TreeMap<>();
        tasks.forEach(task -> stateful.put(task, true));
        return StayingTaskAssignor.plan(clients, stateful, ACCEPTABLE_LAG, 1, 2, homes, lastOwners,
                new StayingTaskAssignor.Returns(returnedAt, now, SETTLE_NANOS));
    }

    /**
     * C has just come back: it runs nothing yet, holds copies of its own tasks 4 and 5, and asks for a
     * follow-up rebalance when its settle is over; nothing else moves.
     */
    private List<Client> cReturnsAndSettles(long standbyLag) {
        List<Client> clients = cReturns(standbyLag);
        Plan plan = plan(clients);
        assertThat(actives(clients)).isEqualTo(Map.of(A, set(0, 1, 4), B, set(2, 3, 5), C, Set.of()));
        assertThat(plan.moves()).isEmpty();
        assertThat(clients.get(2).standby).contains(t(4), t(5));
        assertThat(plan.settleUntil()).isEqualTo(Map.of(C, now + SETTLE_NANOS));
        // Its copies come on top of the standbys: A's tasks still have theirs on B, B's on A.
        assertThat(clients.get(1).standby).contains(t(4));
        assertThat(clients.get(0).standby).contains(t(5));
        assertThat(homes).isEqualTo(Map.of(t(4), C.toString(), t(5), C.toString()));
        assertValid(clients, 1);
        return clients;
    }

    private static void assertValid(List<Client> clients, int standbys) {
        assertValid(clients, standbys, TASKS);
    }

    /** Every task active exactly once, never beside its own standby, with every standby that fits. */
    private static void assertValid(List<Client> clients, int standbys, List<TaskId> tasks) {
        for (TaskId task : tasks) {
            assertThat(clients.stream().filter(c -> c.active.contains(task))).as("owners of %s", task).hasSize(1);
            assertThat(clients.stream().filter(c -> c.active.contains(task) && c.standby.contains(task))).isEmpty();
            assertThat(clients.stream().filter(c -> c.standby.contains(task)).count()).as("copies of %s", task)
                    .isGreaterThanOrEqualTo(Math.min(standbys, clients.size() - 1));
        }
        for (Client client : clients) {
            assertThat(tasks).containsAll(client.active).containsAll(client.standby);
        }
    }

    private static Map<ProcessId, Set<TaskId>> actives(List<Client> clients) {
        Map<ProcessId, Set<TaskId>> out = new HashMap<>();
        clients.forEach(c -> out.put(c.id, Set.copyOf(c.active)));
        return out;
    }

    private static Client client(ProcessId id, Map<TaskId, Long> lags, int... previousActive) {
        Map<TaskId, Long> all = new HashMap<>();
        for (TaskId task : TASKS) {
            all.put(task, 1_000_000L);
        }
        all.putAll(lags);
        List<TaskId> previous = new ArrayList<>();
        for (int p : previousActive) {
            previous.add(t(p));
        }
        return new Client(id, 1, previous, all);
    }

    private static Set<TaskId> set(int... partitions) {
        Set<TaskId> out = new TreeSet<>();
        for (int p : partitions) {
            out.add(t(p));
        }
        return out;
    }

    private static TaskId t(int partition) {
        return new TaskId(0, partition);
    }

    private static List<TaskId> tasks(int count) {
        List<TaskId> out = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            out.add(t(p));
        }
        return out;
    }

    private static ProcessId id(int n) {
        return new ProcessId(new UUID(0, n));
    }

    private record Task(TaskId id) implements TaskInfo {
        @Override
        public boolean isStateful() {
            return true;
        }

        @Override
        public Set<String> stateStoreNames() {
            return Set.of("balances");
        }

        @Override
        public Set<TaskTopicPartition> topicPartitions() {
            return Set.of();
        }
    }

    private record Application(Map<ProcessId, KafkaStreamsState> states) implements ApplicationState {
        @Override
        public Map<ProcessId, KafkaStreamsState> kafkaStreamsStates(boolean computeTaskLags) {
            return states;
        }

        @Override
        public AssignmentConfigs assignmentConfigs() {
            return new AssignmentConfigs(ACCEPTABLE_LAG, 2, 1, 60_000L, List.of());
        }

        @Override
        public Map<TaskId, TaskInfo> allTasks() {
            Map<TaskId, TaskInfo> out = new TreeMap<>();
            TASKS.forEach(task -> out.put(task, new Task(task)));
            return out;
        }
    }

    private record State(ProcessId processId, SortedSet<TaskId> previousActiveTasks, Map<TaskId, Long> lags)
            implements KafkaStreamsState {
        @Override
        public int numProcessingThreads() {
            return 2;
        }

        @Override
        public SortedSet<String> consumerClientIds() {
            return new TreeSet<>(Set.of(processId + "-1", processId + "-2"));
        }

        @Override
        public SortedSet<TaskId> previousStandbyTasks() {
            return new TreeSet<>();
        }

        @Override
        public long lagFor(TaskId task) {
            return lags.get(task);
        }

        @Override
        public SortedSet<TaskId> prevTasksByLag(String consumerClientId) {
            return new TreeSet<>();
        }

        @Override
        public Map<TaskId, Long> statefulTasksToLagSums() {
            return lags;
        }

        @Override
        public Optional<HostInfo> hostInfo() {
            return Optional.empty();
        }

        @Override
        public Map<String, String> clientTags() {
            return Map.of();
        }

        @Override
        public Optional<String> rackId() {
            return Optional.empty();
        }
    }
}
