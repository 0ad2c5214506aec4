package dev.balance.topology;

import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.assignment.ApplicationState;
import org.apache.kafka.streams.processor.assignment.AssignmentConfigs;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsAssignment.AssignedTask;
import org.apache.kafka.streams.processor.assignment.KafkaStreamsState;
import org.apache.kafka.streams.processor.assignment.ProcessId;
import org.apache.kafka.streams.processor.assignment.TaskAssignor;
import org.apache.kafka.streams.processor.assignment.TaskInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Places active tasks so that a rebalance stops only the partitions it must move (KIP-924).
 *
 * <p>Kafka's {@code HighAvailabilityTaskAssignor} recomputes a balanced placement at every rebalance and
 * then keeps only the moves whose destination is caught up: when a node died it also swapped the
 * survivors' own tasks between them, so partitions the failure never touched stopped for a commit and a
 * move (measured in the chaos test, see the README). Kafka's {@code StickyTaskAssignor} keeps tasks in
 * place but hands active tasks to a node without caught-up state. This assignor does what a balance
 * service needs:
 * <ol>
 *   <li><b>A task stays with its running owner.</b> A task stays on the node that ran it before the
 *       rebalance when that node is still in the group and its copy is caught up.</li>
 *   <li><b>An orphaned task goes to a caught-up copy.</b> A task whose owner left (a dead node) goes to a
 *       node whose copy lags at most {@code acceptable.recovery.lag} (the standby), the least loaded
 *       first; when no copy is caught up, to the node with the least to restore.</li>
 *   <li><b>Balance moves only to caught-up copies.</b> Then, while one node runs at least two tasks per
 *       thread more than another, one of its tasks moves to the other if the other's copy of it is caught
 *       up. Otherwise the other gets a warm-up copy (at most {@code max.warmup.replicas} in all) and a
 *       follow-up rebalance is asked for after {@link #PROBE_INTERVAL_CONFIG}, which moves the task once
 *       the copy has caught up. A node that joins (added, or restarted after a kill) therefore gets its
 *       share only from copies that are ready, and the survivors' other tasks never move.</li>
 *   <li><b>A node back after it died settles first</b> ({@link #RETURN_SETTLE_CONFIG}): it holds copies
 *       of its former tasks, on top of their standbys, and gets them back at a follow-up rebalance once
 *       the settle is over, its JVM no longer just started. A follow-up is asked of every member for the
 *       same instant, so the rebalance gathers the group at once.</li>
 *   <li><b>Standby copies</b> ({@code num.standby.replicas}) go to the nodes with the most of the task's
 *       state already, then to the node holding the fewest copies of the same owner's tasks (so a dead
 *       node's tasks go to several survivors), then the fewest copies; warm-ups count as copies.</li>
 * </ol>
 * Every choice is ordered by task id and process id, so the same state gives the same assignment. The
 * memory of where tasks ran is keyed by the input partition ({@code TaskId.partition()}): the topology
 * has one sub-topology.
 */
public final class StayingTaskAssignor implements TaskAssignor {
    /** How long until the follow-up rebalance that moves a task to a warmed-up copy (default 10 s). */
    public static final String PROBE_INTERVAL_CONFIG = "balance.assignor.probe.interval.ms";
    static final long DEFAULT_PROBE_INTERVAL_MS = 10_000;
    /**
     * How long a node that comes back to tasks taken from it (restarted after it died) stays in the group
     * with copies of them only, before it runs them again (default 10 s; 0 gives them back at once).
     */
    public static final String RETURN_SETTLE_CONFIG = "balance.assignor.return.settle.ms";
    static final long DEFAULT_RETURN_SETTLE_MS = 10_000;

    /** {@code Task.LATEST_OFFSET}: the lag Kafka reports for a task the client ran as active until now. */
    static final long RUNNING = -2L;

    private static final Logger log = LoggerFactory.getLogger(StayingTaskAssignor.class);

    /**
     * What the assignments computed in this JVM remember, by application id: Kafka makes a new assignor
     * for every rebalance, on whichever node leads the group. It is only a preference (which task goes back
     * first), so losing it when the leader changes costs nothing but that preference.
     */
    private static final Map<String, Memory> MEMORY = new java.util.concurrent.ConcurrentHashMap<>();

    private long probeIntervalMs = DEFAULT_PROBE_INTERVAL_MS;
    private long returnSettleMs = DEFAULT_RETURN_SETTLE_MS;
    private Memory memory = new Memory();

    /**
     * Nodes are named by their {@code application.server} (host:port), which a node keeps across restarts
     * (its process id changes when its state is wiped), else by process id.
     *
     * @param lastOwners the node each partition's task ran on in the last assignment known here: computed
     *                   here, or seen by this node ({@link #observe}) when another node led the group
     * @param homes      tasks taken from a node that left the group: that node, to give them back first
     *                   when it returns caught up
     */
    private record Memory(Map<Integer, String> lastOwners, Map<TaskId, String> homes, Map<String, Long> returnedAt) {
        Memory() {
            this(new HashMap<>(), new HashMap<>(), new HashMap<>());
        }
    }

    /**
     * Records the active owner (host:port) of each partition in an assignment this node saw complete, so
     * that a node that becomes the group's leader after the previous leader died still knows where a dead
     * node's tasks came from.
     */
    public static void observe(String applicationId, Map<Integer, String> ownerByPartition) {
        Memory memory = MEMORY.computeIfAbsent(applicationId, id -> new Memory());
        synchronized (memory) {
            memory.lastOwners().putAll(ownerByPartition);
        }
    }

    @Override
    public void configure(Map<String, ?> configs) {
        Object value = configs.get(PROBE_INTERVAL_CONFIG);
        if (value != null) {
            probeIntervalMs = Long.parseLong(value.toString().trim());
            if (probeIntervalMs < 0) {
                throw new IllegalArgumentException(PROBE_INTERVAL_CONFIG + " must not be negative: " + value);
            }
        }
        Object settle = configs.get(RETURN_SETTLE_CONFIG);
        if (settle != null) {
            returnSettleMs = Long.parseLong(settle.toString().trim());
            if (returnSettleMs < 0) {
                throw new IllegalArgumentException(RETURN_SETTLE_CONFIG + " must not be negative: " + settle);
            }
        }
        Object applicationId = configs.get("application.id");
        if (applicationId != null) {
            memory = MEMORY.computeIfAbsent(applicationId.toString(), id -> new Memory());
        }
    }

    @Override
    public TaskAssignment assign(ApplicationState applicationState) {
        Map<ProcessId, KafkaStreamsState> states = applicationState.kafkaStreamsStates(true);
        AssignmentConfigs configs = applicationState.assignmentConfigs();
        List<Client> clients = new ArrayList<>();
        for (KafkaStreamsState state : new TreeMap<>(states).values()) {
            clients.add(Client.of(state));
        }
        Map<TaskId, Boolean> tasks = new TreeMap<>();
        for (TaskInfo task : applicationState.allTasks().values()) {
            tasks.put(task.id(), task.isStateful());
        }
        Plan plan;
        long now = System.nanoTime();
        Instant probe = Instant.now().plusMillis(probeIntervalMs);
        synchronized (memory) {
            plan = plan(clients, tasks, configs.acceptableRecoveryLag(), configs.numStandbyReplicas(),
                    configs.maxWarmupReplicas(), memory.homes(), memory.lastOwners(),
                    new Returns(memory.returnedAt(), now, TimeUnit.MILLISECONDS.toNanos(returnSettleMs)));
        }
        if (!plan.moves().isEmpty() || !plan.warmups().isEmpty()) {
            log.info("Task assignment: {} placed or moved {}, warm-up copies {}{}", plan.moves().size(), plan.moves(),
                    plan.warmups(), plan.settleUntil().isEmpty() ? ""
                            : ", returning nodes settling " + plan.settleUntil().keySet() + " (their tasks back in "
                            + plan.settleUntil().values().stream().map(until -> TimeUnit.NANOSECONDS.toMillis(until - now))
                                    .toList() + " ms)");
        }
        // One follow-up for the whole group, on every member: the earliest a warming node asks for (the next
        // probe) or a returning node's settle ends (just after, so that the follow-up finds it settled).
        // Each member starts the follow-up itself at the same instant, so its first rebalance gathers the
        // group at once: asked by one member only, the others would learn of it from their next heartbeat
        // (up to 500 ms), and under exactly-once a member commits nothing from its join to its assignment.
        Instant followup = plan.warmingClients().isEmpty() ? null : probe;
        for (long settledAt : plan.settleUntil().values()) {
            Instant due = Instant.now().plusNanos(Math.max(0, settledAt - System.nanoTime()) + SETTLE_MARGIN_NANOS);
            followup = followup == null || due.isBefore(followup) ? due : followup;
        }
        if (followup != null && followup.isAfter(probe)) {
            followup = probe;
        }
        List<KafkaStreamsAssignment> out = new ArrayList<>();
        for (Client client : clients) {
            Set<AssignedTask> assigned = new HashSet<>();
            for (TaskId task : client.active) {
                assigned.add(new AssignedTask(task, AssignedTask.Type.ACTIVE));
            }
            for (TaskId task : client.standby) {
                assigned.add(new AssignedTask(task, AssignedTask.Type.STANDBY));
            }
            KafkaStreamsAssignment assignment = KafkaStreamsAssignment.of(client.id, assigned);
            if (followup != null) {
                assignment = assignment.withFollowupRebalance(followup);
            }
            out.add(assignment);
        }
        return new TaskAssignment(out);
    }

    /** What {@link #plan} decided beyond keeping tasks in place: for the log and the tests. */
    record Plan(List<String> moves, List<String> warmups, Set<ProcessId> warmingClients,
                Map<ProcessId, Long> settleUntil) {
    }

    /**
     * Returning nodes: when each (by name) was first seen back in the group while tasks taken from it ran
     * elsewhere, the clock ({@link System#nanoTime}) of this plan, and how long a returning node settles.
     */
    record Returns(Map<String, Long> returnedAt, long nowNanos, long settleNanos) {
    }

    private static final long SETTLE_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /**
     * The assignment itself, on plain data: fills each client's {@code active} and {@code standby} sets.
     *
     * @param tasks      every task to assign, with whether it has state
     * @param homes      tasks whose owner left, by that owner's name (updated: set when a task is orphaned,
     *                   cleared when it is back home)
     * @param lastOwners the name of each partition's owner before this plan (updated with this plan's)
     * @param returns    when returning nodes came back (updated), the plan's clock and the settle
     */
    static Plan plan(List<Client> clients, Map<TaskId, Boolean> tasks, long acceptableLag, int standbys,
                     int maxWarmups, Map<TaskId, String> homes, Map<Integer, String> lastOwners, Returns returns) {
        List<String> moves = new ArrayList<>();
        List<String> warmups = new ArrayList<>();
        Set<ProcessId> warming = new HashSet<>();
        Map<ProcessId, Long> settleUntil = new TreeMap<>();
        if (clients.isEmpty()) {
            return new Plan(moves, warmups, warming, settleUntil);
        }
        Map<TaskId, Client> owner = new HashMap<>();
        // 1. A task stays with the node that ran it when that copy is caught up, or when no copy is
        //    (moving it would only restart its restore elsewhere).
        for (Map.Entry<TaskId, Boolean> entry : tasks.entrySet()) {
            TaskId task = entry.getKey();
            boolean stateful = entry.getValue();
            Client best = null;
            for (Client client : clients) {
                if (client.previousActive.contains(task)
                        && (best == null || client.lag(task, stateful) < best.lag(task, stateful))) {
                    best = client;
                }
            }
            if (best != null && (best.caughtUp(task, stateful, acceptableLag)
                    || clients.stream().noneMatch(c -> c.caughtUp(task, stateful, acceptableLag)))) {
                best.active.add(task);
                owner.put(task, best);
            }
        }
        // 2. Orphans (owner gone, or its copy behind while another is caught up): a caught-up copy, the
        //    least loaded first; without one, the client with the least to restore.
        for (Map.Entry<TaskId, Boolean> entry : tasks.entrySet()) {
            TaskId task = entry.getKey();
            boolean stateful = entry.getValue();
            if (owner.containsKey(task)) {
                continue;
            }
            // A caught-up copy counts as 0, so every caught-up copy comes before any that is behind.
            Comparator<Client> order = Comparator
                    .comparingLong((Client c) -> c.caughtUp(task, stateful, acceptableLag) ? 0L : c.lag(task, stateful))
                    .thenComparingDouble(Client::load)
                    .thenComparing(c -> c.id);
            String last = lastOwners.get(task.partition());
            if (last != null && clients.stream().noneMatch(c -> c.name.equals(last))) {
                homes.putIfAbsent(task, last);
            }
            Client chosen = clients.stream().min(order).orElseThrow();
            chosen.active.add(task);
            owner.put(task, chosen);
            moves.add(task + "->" + chosen.id);
        }
        // 3. Balance: move a task from the most to the least loaded client while that narrows the gap,
        //    only to a caught-up copy; otherwise warm a copy up and probe again later. Which task: one
        //    going back to its home (the node it ran on before its owner failed), then one placed by this
        //    rebalance (it has not started anywhere yet), then the one the recipient has most of.
        Map<Client, Set<TaskId>> warm = new HashMap<>();
        int warmupsLeft = maxWarmups;
        Set<Client> settled = new HashSet<>();
        // A node back in the group with tasks taken from it when it died settles first: it runs no task
        // moved to it for returns.settleNanos, only copies of its own tasks, kept up to date, and gets them
        // back at a follow-up rebalance. Its JVM has just started: running them at once, while its code is
        // still interpreted and compiling, holds up the other partitions (a transfer's credit leg waits for
        // its sender's commit), as the chaos test measured. An orphan (its owner gone) may still go to it.
        Set<String> present = new HashSet<>();
        clients.forEach(c -> present.add(c.name));
        returns.returnedAt().keySet().retainAll(present);
        for (Client client : clients) {
            List<TaskId> own = new ArrayList<>();
            homes.forEach((task, home) -> {
                if (home.equals(client.name) && !client.active.contains(task)) {
                    own.add(task);
                }
            });
            if (own.isEmpty()) {
                returns.returnedAt().remove(client.name);
                continue;
            }
            long since = returns.returnedAt().computeIfAbsent(client.name, name -> returns.nowNanos());
            if (returns.nowNanos() - since >= returns.settleNanos()) {
                continue;
            }
            settled.add(client);
            settleUntil.put(client.id, since + returns.settleNanos());
            for (TaskId task : new TreeSet<>(own)) {
                if (warm.computeIfAbsent(client, c -> new TreeSet<>()).add(task)) {
                    warmups.add(task + "@" + client.id);
                }
            }
        }
        while (true) {
            Client recipient = clients.stream().filter(c -> !settled.contains(c))
                    .min(Comparator.comparingDouble(Client::load).thenComparing(c -> c.id)).orElse(null);
            if (recipient == null) {
                break;
            }
            boolean moved = false;
            List<Client> donors = new ArrayList<>(clients);
            donors.sort(Comparator.comparingDouble(Client::load).reversed().thenComparing(c -> c.id));
            for (Client donor : donors) {
                if (donor == recipient || !narrows(donor, recipient)) {
                    continue;
                }
                Comparator<TaskId> preference = Comparator
                        .comparing((TaskId t) -> !recipient.name.equals(homes.get(t)))
                        .thenComparing(donor.previousActive::contains)
                        .thenComparingLong(t -> recipient.lag(t, tasks.get(t)))
                        .thenComparing(Comparator.naturalOrder());
                TaskId take = donor.active.stream()
                        .filter(t -> recipient.caughtUp(t, tasks.get(t), acceptableLag)).min(preference).orElse(null);
                boolean placedHere = donor.active.stream().anyMatch(t -> !donor.previousActive.contains(t));
                if (take != null && donor.previousActive.contains(take) && placedHere
                        && !recipient.name.equals(homes.get(take))) {
                    // Rather than stop a task that is running, warm up a copy of one that has not started.
                    take = null;
                }
                if (take != null) {
                    donor.active.remove(take);
                    recipient.active.add(take);
                    owner.put(take, recipient);
                    moves.add(take + "->" + recipient.id);
                    moved = true;
                    break;
                }
                TaskId warmUp = donor.active.stream()
                        .filter(t -> !warm.getOrDefault(recipient, Set.of()).contains(t)).min(preference).orElse(null);
                if (warmUp != null && warmupsLeft > 0) {
                    warm.computeIfAbsent(recipient, c -> new TreeSet<>()).add(warmUp);
                    warmups.add(warmUp + "@" + recipient.id);
                    warming.add(recipient.id);
                    warmupsLeft--;
                }
            }
            if (!moved) {
                settled.add(recipient);
            }
        }
        // 4. Standby copies: warm-ups first, then the clients with the most of the task's state.
        for (Map.Entry<TaskId, Boolean> entry : tasks.entrySet()) {
            TaskId task = entry.getKey();
            boolean stateful = entry.getValue();
            if (!stateful) {
                continue;
            }
            Client active = owner.get(task);
            int copies = 0;
            for (Map.Entry<Client, Set<TaskId>> w : warm.entrySet()) {
                if (w.getValue().contains(task) && w.getKey() != active) {
                    w.getKey().standby.add(task);
                    // A settling node's copy comes on top of the standbys: should the owner die while the
                    // returning node restarts again, a standby still holds the task's state.
                    if (!settleUntil.containsKey(w.getKey().id)) {
                        copies++;
                    }
                }
            }
            List<Client> candidates = new ArrayList<>();
            for (Client client : clients) {
                if (client != active && !client.standby.contains(task)) {
                    candidates.add(client);
                }
            }
            // Where the state already is; then spread each node's copies over the others, so that
            // when it dies its tasks go to several survivors; then the fewest copies.
            candidates.sort(Comparator.comparingLong((Client c) -> c.lag(task, true))
                    .thenComparingLong(c -> c.standby.stream().filter(t -> owner.get(t) == active).count())
                    .thenComparingInt(c -> c.standby.size())
                    .thenComparing(c -> c.id));
            for (int i = 0; i < candidates.size() && copies < standbys; i++, copies++) {
                candidates.get(i).standby.add(task);
            }
        }
        for (Map.Entry<TaskId, Client> entry : owner.entrySet()) {
            lastOwners.put(entry.getKey().partition(), entry.getValue().name);
            homes.remove(entry.getKey(), entry.getValue().name);
        }
        homes.keySet().retainAll(tasks.keySet());
        returns.returnedAt().keySet().retainAll(homes.values());
        return new Plan(moves, warmups, warming, settleUntil);
    }

    /** Whether moving one task from {@code donor} to {@code recipient} leaves them no further apart. */
    private static boolean narrows(Client donor, Client recipient) {
        return (recipient.active.size() + 1) / (double) recipient.threads
                <= (donor.active.size() - 1) / (double) donor.threads;
    }

    /** One Kafka Streams instance (a node) as the plan sees it. */
    static final class Client {
        final ProcessId id;
        /** host:port from {@code application.server}, else the process id. */
        final String name;
        final int threads;
        final Set<TaskId> previousActive;
        final Map<TaskId, Long> lags;
        final Set<TaskId> active = new TreeSet<>();
        final Set<TaskId> standby = new TreeSet<>();

        Client(ProcessId id, int threads, Collection<TaskId> previousActive, Map<TaskId, Long> lags) {
            this(id, id.toString(), threads, previousActive, lags);
        }

        Client(ProcessId id, String name, int threads, Collection<TaskId> previousActive, Map<TaskId, Long> lags) {
            this.id = id;
            this.name = name;
            this.threads = Math.max(1, threads);
            this.previousActive = new HashSet<>(previousActive);
            this.lags = lags;
        }

        static Client of(KafkaStreamsState state) {
            String name = state.hostInfo().map(host -> host.host() + ":" + host.port())
                    .orElse(state.processId().toString());
            return new Client(state.processId(), name, state.numProcessingThreads(), state.previousActiveTasks(),
                    state.statefulTasksToLagSums());
        }

        /**
         * The changelog records this client would have to restore before running the task: 0 when it ran
         * it until now, {@code Long.MAX_VALUE} when unknown or when it has none of its state.
         */
        long lag(TaskId task, boolean stateful) {
            if (!stateful) {
                return 0;
            }
            Long lag = lags.get(task);
            if (lag == null) {
                return Long.MAX_VALUE;
            }
            if (lag == RUNNING) {
                return 0;
            }
            return lag < 0 ? Long.MAX_VALUE : lag;
        }

        boolean caughtUp(TaskId task, boolean stateful, long acceptableLag) {
            return lag(task, stateful) <= acceptableLag;
        }

        double load() {
            return active.size() / (double) threads;
        }

        @Override
        public String toString() {
            return id + " active " + active + " standby " + standby;
        }
    }
}
