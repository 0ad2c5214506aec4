package dev.balance.api.verdict;

import dev.balance.topology.VerdictListener;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests waiting for the verdict of their change. The processor of this node calls
 * {@link #onVerdict} as soon as it decides; a waiter is completed by the first verdict for its
 * account and transaction id whose payload equals its own. Matching the payload matters for
 * concurrent requests that reuse an id: the one with a different payload must see its own
 * IDEMPOTENCY_CONFLICT, not the other's APPLIED.
 */
public final class VerdictWaiters implements VerdictListener {

    private record Key(long accountId, String transactionId) {
    }

    private record Waiter(ChangeCommand command, CompletableFuture<BalanceEvent> future) {
    }

    private final ConcurrentHashMap<Key, List<Waiter>> waiting = new ConcurrentHashMap<>();
    private final AtomicInteger count = new AtomicInteger();
    private final int waitersMax;

    /**
     * Futures are completed on the stream thread that decided, so whoever chains work on them must
     * hand it to another executor (the HTTP routes render and answer on their own pool): a slow
     * client must never stall stream processing.
     */
    public VerdictWaiters(int waitersMax) {
        this.waitersMax = waitersMax;
    }

    /**
     * Registers interest in the verdict of a command; call before producing it so a fast verdict
     * cannot be missed. Returns null when too many requests are already waiting.
     */
    public CompletableFuture<BalanceEvent> register(ChangeCommand command) {
        if (count.incrementAndGet() > waitersMax) {
            count.decrementAndGet();
            return null;
        }
        Waiter waiter = new Waiter(command, new CompletableFuture<>());
        waiting.compute(new Key(command.accountId(), command.transactionId()), (key, list) -> {
            List<Waiter> waiters = list == null ? new ArrayList<>(1) : list;
            waiters.add(waiter);
            return waiters;
        });
        return waiter.future();
    }

    /** Forgets a waiter that gave up (timeout) so the map never grows without bound. */
    public void cancel(ChangeCommand command, CompletableFuture<BalanceEvent> future) {
        waiting.computeIfPresent(new Key(command.accountId(), command.transactionId()), (key, list) -> {
            if (list.removeIf(waiter -> waiter.future() == future)) {
                count.decrementAndGet();
            }
            return list.isEmpty() ? null : list;
        });
    }

    @Override
    public void onVerdict(BalanceEvent event) {
        List<Waiter> completed = new ArrayList<>(1);
        waiting.computeIfPresent(new Key(event.accountId(), event.transactionId()), (key, list) -> {
            list.removeIf(waiter -> {
                boolean matches = waiter.command().samePayload(event.currency(), event.type(), event.amount(),
                        event.toAccountId());
                if (matches) {
                    completed.add(waiter);
                }
                return matches;
            });
            return list.isEmpty() ? null : list;
        });
        if (completed.isEmpty()) {
            return;
        }
        count.addAndGet(-completed.size());
        completed.forEach(waiter -> waiter.future().complete(event));
    }

    public int waitingCount() {
        return count.get();
    }
}
