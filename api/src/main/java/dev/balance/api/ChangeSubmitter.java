package dev.balance.api;

import dev.balance.api.http.ApiException;
import dev.balance.api.verdict.VerdictWaiters;
import dev.balance.topology.codec.Codecs;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import io.micrometer.core.instrument.Timer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Records a change durably in {@code balance-changes} and waits for this node's processor to
 * decide it. A verdict arrives only after the broker holds the command (acks=all), and PENDING is
 * only answered once the broker acknowledged it, so neither is ever given for a change that could
 * still be lost.
 */
public final class ChangeSubmitter {

    private final Producer<Long, byte[]> producer;
    private final String topic;
    private final VerdictWaiters waiters;
    private final long verdictWaitMs;
    private final ScheduledExecutorService deadlines;
    private final Timer verdictLatency;

    /**
     * @param deadlines one shared timer thread for the wait limits; its tasks are cancelled as soon
     *                  as the verdicts they guard arrive
     * @param verdictLatency times each change from just before its send to its verdict
     */
    public ChangeSubmitter(Producer<Long, byte[]> producer, String topic, VerdictWaiters waiters, long verdictWaitMs,
                           ScheduledExecutorService deadlines, Timer verdictLatency) {
        this.producer = producer;
        this.topic = topic;
        this.waiters = waiters;
        this.verdictWaitMs = verdictWaitMs;
        this.deadlines = deadlines;
        this.verdictLatency = verdictLatency;
    }

    private volatile java.util.function.LongFunction<ApiException> refusal = account -> null;

    /**
     * Sets the check run before a change is recorded: the error it returns for an account (a 503
     * when this node does not run the account's partition right now) is the change's answer, and
     * nothing is recorded; null lets the change through.
     */
    public void refuseWhen(java.util.function.LongFunction<ApiException> refusal) {
        this.refusal = refusal;
    }

    /** What became of one submitted change: its verdict, an error (nothing recorded), or pending. */
    public record Outcome(BalanceEvent verdict, ApiException error) {

        static final Outcome PENDING = new Outcome(null, null);

        /** Durable (the broker acknowledged it) but not decided within the wait limit. */
        public boolean pending() {
            return verdict == null && error == null;
        }
    }

    /**
     * Completes with the verdict; or with empty when none arrived within the wait limit and the
     * broker acknowledged the change (it is durable and will be decided); or exceptionally with a
     * 503 when it could not be recorded (nothing happened; the client may retry with the same id).
     */
    public CompletableFuture<Optional<BalanceEvent>> submit(ChangeCommand command) {
        return submitAll(List.of(command)).thenCompose(outcomes -> {
            Outcome outcome = outcomes.get(0);
            return outcome.error() != null ? CompletableFuture.failedFuture(outcome.error())
                    : CompletableFuture.completedFuture(Optional.ofNullable(outcome.verdict()));
        });
    }

    /**
     * Submits many changes with one shared wait limit. Completes once, when every change has its
     * outcome, with the outcomes in the order of the commands. Verdicts are filled in on the
     * stream thread that decides them, which only records each one; the future completes there,
     * so whoever chains work on it must hand that work to another executor.
     */
    public CompletableFuture<List<Outcome>> submitAll(List<ChangeCommand> commands) {
        Batch batch = new Batch(commands.size());
        RuntimeException sendFailure = null;
        for (int i = 0; i < commands.size(); i++) {
            ChangeCommand command = commands.get(i);
            if (sendFailure != null) {
                // The producer could not take a record (no metadata, full buffer): every further send
                // would block for max.block.ms too, so the rest of the batch fails at once.
                batch.settle(i, new Outcome(null, notRecorded(sendFailure)));
                continue;
            }
            ApiException notHere = refusal.apply(command.accountId());
            if (notHere != null) {
                batch.settle(i, new Outcome(null, notHere));
                continue;
            }
            int index = i;
            long sentNs = System.nanoTime();
            VerdictWaiters.Waiter waiter = waiters.register(command, event -> {
                verdictLatency.record(System.nanoTime() - sentNs, TimeUnit.NANOSECONDS);
                batch.settle(index, new Outcome(event, null));
            }, () -> batch.moved(index));
            if (waiter == null) {
                batch.settle(i, new Outcome(null, new ApiException(503, "OVERLOADED",
                        "too many changes are waiting for verdicts", Map.of(), 1)));
                continue;
            }
            batch.waiters[i] = waiter;
            try {
                Future<RecordMetadata> sent = producer.send(new ProducerRecord<>(topic, command.accountId(),
                        Codecs.encodeCommand(command)), (metadata, error) -> batch.acked(index, error));
                RuntimeException refused = refusedAtOnce(sent);
                if (refused != null) {
                    // Refused inside send() (no metadata within max.block.ms, full buffer): the callback has
                    // answered this item; later sends would each wait as long, so they fail at once.
                    sendFailure = refused;
                }
            } catch (RuntimeException e) {
                sendFailure = e;
                waiters.cancel(waiter);
                batch.settle(i, new Outcome(null, notRecorded(e)));
            }
        }
        batch.scheduleDeadline();
        return batch.done;
    }

    /**
     * The outcomes of one submitted batch. Each slot is settled exactly once (compare-and-set),
     * by whichever comes first: the verdict (stream thread), a failed send (producer thread), or
     * the wait limit once the broker acknowledged the change (timer or producer thread).
     */
    private final class Batch {

        final VerdictWaiters.Waiter[] waiters;
        final AtomicReferenceArray<Outcome> outcomes;
        final AtomicIntegerArray acked;
        /** 1 where the change's partition stopped running here before its verdict. */
        final AtomicIntegerArray gone;
        final AtomicInteger open;
        final CompletableFuture<List<Outcome>> done = new CompletableFuture<>();
        volatile boolean pastDeadline;

        Batch(int size) {
            waiters = new VerdictWaiters.Waiter[size];
            outcomes = new AtomicReferenceArray<>(size);
            acked = new AtomicIntegerArray(size);
            gone = new AtomicIntegerArray(size);
            open = new AtomicInteger(size);
            if (size == 0) {
                done.complete(List.of());
            }
        }

        void settle(int index, Outcome outcome) {
            if (outcomes.compareAndSet(index, null, outcome) && open.decrementAndGet() == 0) {
                List<Outcome> all = new ArrayList<>(outcomes.length());
                for (int i = 0; i < outcomes.length(); i++) {
                    all.add(outcomes.get(i));
                }
                done.complete(all);
            }
        }

        /** The broker's answer to one send. */
        void acked(int index, Exception error) {
            if (error != null) {
                ChangeSubmitter.this.waiters.cancel(waiters[index]);
                settle(index, new Outcome(null, notRecorded(error)));
                return;
            }
            acked.set(index, 1);
            if (pastDeadline || gone.get(index) == 1) {
                giveUp(index);
            }
        }

        /**
         * The change's partition stopped running on this node (it moved away): its verdict will come
         * from another node, so it is PENDING now instead of at the wait limit, once the broker
         * acknowledged it. The client asks again with the same transaction id and gets the verdict
         * from the new owner.
         */
        void moved(int index) {
            gone.set(index, 1);
            if (acked.get(index) == 1) {
                giveUp(index);
            }
        }

        void scheduleDeadline() {
            if (done.isDone()) {
                return;
            }
            ScheduledFuture<?> deadline;
            try {
                deadline = deadlines.schedule(this::deadline, verdictWaitMs, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // The node is closing and its timer is gone: give up waiting now rather than never.
                deadline();
                return;
            }
            done.whenComplete((all, error) -> deadline.cancel(false));
        }

        /** At the wait limit: PENDING, but only for a change the broker acknowledged; the others wait for the ack. */
        private void deadline() {
            pastDeadline = true;
            for (int i = 0; i < outcomes.length(); i++) {
                if (acked.get(i) == 1) {
                    giveUp(i);
                }
            }
        }

        private void giveUp(int index) {
            if (outcomes.get(index) == null) {
                ChangeSubmitter.this.waiters.cancel(waiters[index]);
                settle(index, Outcome.PENDING);
            }
        }
    }

    /** The error of a send that failed before it left send(), or null for one on its way to the broker. */
    private static RuntimeException refusedAtOnce(Future<RecordMetadata> sent) {
        if (!sent.isDone()) {
            return null;
        }
        try {
            sent.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause() instanceof RuntimeException cause ? cause : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new IllegalStateException(e);
        }
    }

    private static ApiException notRecorded(Throwable error) {
        return new ApiException(503, "NOT_RECORDED", "the change could not be recorded ("
                + error.getClass().getSimpleName() + "); retry with the same transaction_id", Map.of(), 1);
    }
}
