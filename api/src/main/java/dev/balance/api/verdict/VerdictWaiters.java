package dev.balance.api.verdict;

import dev.balance.topology.VerdictListener;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests waiting for the verdict of their change. The processor of this node calls
 * {@link #onVerdict} as soon as it decides; a waiter is handed the first verdict for its account
 * and transaction id whose payload equals its own. Matching the payload matters for concurrent
 * requests that reuse an id: the one with a different payload must see its own
 * IDEMPOTENCY_CONFLICT, not the other's APPLIED.
 *
 * <p>The waiters of one key are an immutable array (almost always of one), replaced as a whole
 * under the map's per-key lock, so each waiter leaves exactly once: by its verdict or by
 * {@link #cancel}.
 */
public final class VerdictWaiters implements VerdictListener {

    private static final Logger LOG = LoggerFactory.getLogger(VerdictWaiters.class);

    private record Key(long accountId, String transactionId) {
    }

    /** One waiting request; also the handle to {@link #cancel} it. */
    public static final class Waiter {
        private final ChangeCommand command;
        private final Consumer<BalanceEvent> onVerdict;
        private final Runnable onMoved;

        private Waiter(ChangeCommand command, Consumer<BalanceEvent> onVerdict, Runnable onMoved) {
            this.command = command;
            this.onVerdict = onVerdict;
            this.onMoved = onMoved;
        }

        private Key key() {
            return new Key(command.accountId(), command.transactionId());
        }
    }

    private static final Waiter[] NONE = new Waiter[0];

    private final ConcurrentHashMap<Key, Waiter[]> waiting = new ConcurrentHashMap<>();
    private final AtomicInteger count = new AtomicInteger();
    private final int waitersMax;

    public VerdictWaiters(int waitersMax) {
        this.waitersMax = waitersMax;
    }

    /**
     * Registers interest in the verdict of a command; call before producing it so a fast verdict
     * cannot be missed. {@code onVerdict} runs on the stream thread that decided, so it must only
     * record the verdict and hand any further work to another executor: a slow client must never
     * stall stream processing. Returns null when too many requests are already waiting.
     */
    public Waiter register(ChangeCommand command, Consumer<BalanceEvent> onVerdict) {
        return register(command, onVerdict, null);
    }

    /**
     * As {@link #register(ChangeCommand, Consumer)}; {@code onMoved} (when not null) runs instead of a
     * verdict if the account's partition stops running here first ({@link #movedAway}).
     */
    public Waiter register(ChangeCommand command, Consumer<BalanceEvent> onVerdict, Runnable onMoved) {
        if (count.incrementAndGet() > waitersMax) {
            count.decrementAndGet();
            return null;
        }
        Waiter waiter = new Waiter(command, onVerdict, onMoved);
        waiting.merge(waiter.key(), new Waiter[] {waiter}, VerdictWaiters::concat);
        return waiter;
    }

    /** Forgets a waiter that gave up (wait limit, failed send); a no-op once it has left. */
    public void cancel(Waiter waiter) {
        waiting.computeIfPresent(waiter.key(), (key, waiters) -> {
            int at = indexOf(waiters, waiter);
            if (at < 0) {
                return waiters;
            }
            count.decrementAndGet();
            return waiters.length == 1 ? null : without(waiters, at);
        });
    }

    @Override
    public void onVerdict(BalanceEvent event) {
        if (event.leg().internal()) {
            // A credit or refund leg is nobody's verdict: its transaction id is the source's, and a
            // client waiting for its own change with that id on this account must not get it.
            return;
        }
        Waiter[] matched = take(new Key(event.accountId(), event.transactionId()), waiter ->
                waiter.command.samePayload(event.currency(), event.type(), event.amount(), event.toAccountId()));
        for (Waiter waiter : matched) {
            try {
                waiter.onVerdict.accept(event);
            } catch (RuntimeException e) {
                // One faulty callback must neither starve the other waiters nor fail the stream thread.
                LOG.warn("a verdict callback failed for {}/{}", event.accountId(), event.transactionId(), e);
            }
        }
    }

    /**
     * The partition of the accounts {@code moved} accepts stopped running on this node: their verdicts
     * will be decided elsewhere and never reach these waiters. Each waiter registered with an
     * {@code onMoved} leaves and has it run now, rather than wait out its limit (a client held for
     * {@code VERDICT_WAIT_MS} at every partition move). Returns how many left.
     */
    public int movedAway(java.util.function.LongPredicate moved) {
        java.util.List<Waiter> released = new java.util.ArrayList<>();
        for (Key key : waiting.keySet()) {
            if (moved.test(key.accountId())) {
                released.addAll(java.util.Arrays.asList(take(key, waiter -> waiter.onMoved != null)));
            }
        }
        for (Waiter waiter : released) {
            try {
                waiter.onMoved.run();
            } catch (RuntimeException e) {
                LOG.warn("a moved-away callback failed for {}/{}", waiter.command.accountId(),
                        waiter.command.transactionId(), e);
            }
        }
        return released.size();
    }

    /**
     * Removes the waiters of {@code key} that {@code match} accepts, under the map's lock for the key, and
     * counts them out; returns them (most often none).
     */
    private Waiter[] take(Key key, java.util.function.Predicate<Waiter> match) {
        Waiter[][] taken = {NONE};
        waiting.computeIfPresent(key, (k, waiters) -> {
            Waiter[] kept = waiters;
            for (Waiter waiter : waiters) {
                if (match.test(waiter)) {
                    taken[0] = concat(taken[0], new Waiter[] {waiter});
                    kept = without(kept, indexOf(kept, waiter));
                }
            }
            return kept.length == 0 ? null : kept;
        });
        if (taken[0].length > 0) {
            count.addAndGet(-taken[0].length);
        }
        return taken[0];
    }

    public int waitingCount() {
        return count.get();
    }

    private static Waiter[] concat(Waiter[] first, Waiter[] second) {
        if (first.length == 0) {
            return second;
        }
        Waiter[] joined = java.util.Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, joined, first.length, second.length);
        return joined;
    }

    private static int indexOf(Waiter[] waiters, Waiter waiter) {
        for (int i = 0; i < waiters.length; i++) {
            if (waiters[i] == waiter) {
                return i;
            }
        }
        return -1;
    }

    private static Waiter[] without(Waiter[] waiters, int at) {
        Waiter[] kept = new Waiter[waiters.length - 1];
        System.arraycopy(waiters, 0, kept, 0, at);
        System.arraycopy(waiters, at + 1, kept, at, waiters.length - at - 1);
        return kept;
    }
}
