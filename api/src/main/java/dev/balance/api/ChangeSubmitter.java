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
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Records a change durably in {@code balance-changes} and waits for this node's processor to
 * decide it. The verdict arrives only after the broker has the command (acks=all), so a verdict
 * is never given for a change that could be lost.
 */
public final class ChangeSubmitter {

    private final Producer<Long, byte[]> producer;
    private final String topic;
    private final VerdictWaiters waiters;
    private final long verdictWaitMs;

    public ChangeSubmitter(Producer<Long, byte[]> producer, String topic, VerdictWaiters waiters, long verdictWaitMs) {
        this.producer = producer;
        this.topic = topic;
        this.waiters = waiters;
        this.verdictWaitMs = verdictWaitMs;
    }

    /**
     * Completes with the verdict, or with empty when none arrived within the wait limit (the
     * change is durable and will be decided), or exceptionally with a 503 when it could not be
     * recorded (then nothing happened and the client may retry with the same transaction id).
     */
    public CompletableFuture<Optional<BalanceEvent>> submit(ChangeCommand command) {
        return submitAll(List.of(command)).get(0);
    }

    /** Submits many changes with one shared wait limit; answers are in the order of the commands. */
    public List<CompletableFuture<Optional<BalanceEvent>>> submitAll(List<ChangeCommand> commands) {
        List<CompletableFuture<Optional<BalanceEvent>>> answers = new ArrayList<>(commands.size());
        List<Runnable> onDeadline = new ArrayList<>(commands.size());
        for (ChangeCommand command : commands) {
            CompletableFuture<Optional<BalanceEvent>> answer = new CompletableFuture<>();
            answers.add(answer);
            CompletableFuture<BalanceEvent> verdict = waiters.register(command);
            if (verdict == null) {
                answer.completeExceptionally(new ApiException(503, "OVERLOADED",
                        "too many changes are waiting for verdicts", Map.of(), 1));
                continue;
            }
            verdict.thenAccept(event -> answer.complete(Optional.of(event)));
            send(command, verdict, answer);
            onDeadline.add(() -> {
                if (!verdict.isDone()) {
                    waiters.cancel(command, verdict);
                    answer.complete(Optional.empty());
                }
            });
        }
        if (!onDeadline.isEmpty()) {
            CompletableFuture.delayedExecutor(verdictWaitMs, TimeUnit.MILLISECONDS)
                    .execute(() -> onDeadline.forEach(Runnable::run));
        }
        return answers;
    }

    private void send(ChangeCommand command, CompletableFuture<BalanceEvent> verdict,
                      CompletableFuture<Optional<BalanceEvent>> answer) {
        try {
            producer.send(new ProducerRecord<>(topic, command.accountId(), Codecs.encodeCommand(command)), (metadata, error) -> {
                if (error != null) {
                    waiters.cancel(command, verdict);
                    answer.completeExceptionally(notRecorded(error));
                }
            });
        } catch (RuntimeException e) {
            waiters.cancel(command, verdict);
            answer.completeExceptionally(notRecorded(e));
        }
    }

    private static ApiException notRecorded(Throwable error) {
        return new ApiException(503, "NOT_RECORDED", "the change could not be recorded ("
                + error.getClass().getSimpleName() + "); retry with the same transaction_id", Map.of(), 1);
    }
}
