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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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

    /**
     * @param deadlines one shared timer thread for the wait limits; its tasks are cancelled as soon
     *                  as the verdicts they guard arrive
     */
    public ChangeSubmitter(Producer<Long, byte[]> producer, String topic, VerdictWaiters waiters, long verdictWaitMs,
                           ScheduledExecutorService deadlines) {
        this.producer = producer;
        this.topic = topic;
        this.waiters = waiters;
        this.verdictWaitMs = verdictWaitMs;
        this.deadlines = deadlines;
    }

    /**
     * Completes with the verdict; or with empty when none arrived within the wait limit and the
     * broker acknowledged the change (it is durable and will be decided); or exceptionally with a
     * 503 when it could not be recorded (nothing happened; the client may retry with the same id).
     */
    public CompletableFuture<Optional<BalanceEvent>> submit(ChangeCommand command) {
        return submitAll(List.of(command)).get(0);
    }

    /** Submits many changes with one shared wait limit; answers are in the order of the commands. */
    public List<CompletableFuture<Optional<BalanceEvent>>> submitAll(List<ChangeCommand> commands) {
        List<CompletableFuture<Optional<BalanceEvent>>> answers = new ArrayList<>(commands.size());
        List<Submitted> submitted = new ArrayList<>(commands.size());
        RuntimeException sendFailure = null;
        for (ChangeCommand command : commands) {
            CompletableFuture<Optional<BalanceEvent>> answer = new CompletableFuture<>();
            answers.add(answer);
            if (sendFailure != null) {
                // The producer could not take a record (no metadata, full buffer): every further send
                // would block for max.block.ms too, so the rest of the batch fails at once.
                answer.completeExceptionally(notRecorded(sendFailure));
                continue;
            }
            CompletableFuture<BalanceEvent> verdict = waiters.register(command);
            if (verdict == null) {
                answer.completeExceptionally(new ApiException(503, "OVERLOADED",
                        "too many changes are waiting for verdicts", Map.of(), 1));
                continue;
            }
            CompletableFuture<RecordMetadata> acked = new CompletableFuture<>();
            try {
                producer.send(new ProducerRecord<>(topic, command.accountId(), Codecs.encodeCommand(command)),
                        (metadata, error) -> {
                            if (error != null) {
                                acked.completeExceptionally(error);
                            } else {
                                acked.complete(metadata);
                            }
                        });
            } catch (RuntimeException e) {
                sendFailure = e;
                waiters.cancel(command, verdict);
                answer.completeExceptionally(notRecorded(e));
                continue;
            }
            acked.whenComplete((metadata, error) -> {
                if (error != null) {
                    waiters.cancel(command, verdict);
                    answer.completeExceptionally(notRecorded(error));
                }
            });
            verdict.thenAccept(event -> answer.complete(Optional.of(event)));
            submitted.add(new Submitted(command, verdict, acked, answer));
        }
        scheduleDeadline(submitted);
        return answers;
    }

    private record Submitted(ChangeCommand command, CompletableFuture<BalanceEvent> verdict,
                             CompletableFuture<RecordMetadata> acked, CompletableFuture<Optional<BalanceEvent>> answer) {
    }

    private void scheduleDeadline(List<Submitted> submitted) {
        if (submitted.isEmpty()) {
            return;
        }
        ScheduledFuture<?> deadline = deadlines.schedule(() -> submitted.forEach(this::giveUpWaiting),
                verdictWaitMs, TimeUnit.MILLISECONDS);
        CompletableFuture.allOf(submitted.stream().map(Submitted::answer).toArray(CompletableFuture[]::new))
                .whenComplete((done, error) -> deadline.cancel(false));
    }

    /** At the wait limit: PENDING, but only for a change the broker acknowledged; otherwise wait for the ack. */
    private void giveUpWaiting(Submitted item) {
        if (item.answer().isDone()) {
            return;
        }
        waiters.cancel(item.command(), item.verdict());
        item.acked().whenComplete((metadata, error) -> {
            if (error == null) {
                item.answer().complete(Optional.empty());
            }
        });
    }

    private static ApiException notRecorded(Throwable error) {
        return new ApiException(503, "NOT_RECORDED", "the change could not be recorded ("
                + error.getClass().getSimpleName() + "); retry with the same transaction_id", Map.of(), 1);
    }
}
