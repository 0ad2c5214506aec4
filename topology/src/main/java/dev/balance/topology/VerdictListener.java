package dev.balance.topology;

import dev.balance.topology.model.BalanceEvent;

/**
 * Told the verdict of each command as soon as the processor decides it, in the processor's
 * thread, before the Kafka transaction commits. That is safe to answer with because processing
 * is deterministic: if the transaction aborts, the same input is processed again in the same
 * order and reaches the same verdict. Implementations must be fast and must not throw.
 */
@FunctionalInterface
public interface VerdictListener {

    VerdictListener NONE = event -> { };

    void onVerdict(BalanceEvent event);
}
