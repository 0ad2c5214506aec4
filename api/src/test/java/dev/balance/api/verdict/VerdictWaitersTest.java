package dev.balance.api.verdict;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VerdictWaitersTest {

    private final VerdictWaiters waiters = new VerdictWaiters(10);

    @Test
    void aVerdictGoesToEveryWaiterWithTheSamePayloadAndOnlyToThem() {
        List<String> seen = new ArrayList<>();
        waiters.register(deposit("t1", "1"), event -> seen.add("first " + event.result()));
        waiters.register(deposit("t1", "2"), event -> seen.add("other payload " + event.result()));
        waiters.register(deposit("t1", "1"), event -> seen.add("retry " + event.result()));

        waiters.onVerdict(verdict(deposit("t1", "1"), Result.APPLIED));

        assertThat(seen).containsExactlyInAnyOrder("first APPLIED", "retry APPLIED");
        assertThat(waiters.waitingCount()).isEqualTo(1);
        waiters.onVerdict(verdict(deposit("t1", "2"), Result.IDEMPOTENCY_CONFLICT));
        assertThat(seen).contains("other payload IDEMPOTENCY_CONFLICT");
        assertThat(waiters.waitingCount()).isZero();
    }

    @Test
    void aMoveReleasesOnlyTheWaitersOfItsAccountsThatAskedForIt() {
        List<String> seen = new ArrayList<>();
        waiters.register(deposit("t1", "1"), event -> seen.add("verdict t1"), () -> seen.add("moved t1"));
        waiters.register(deposit("t2", "1"), event -> seen.add("verdict t2"));
        waiters.register(ChangeCommand.of("t3", 8, "BTC", ChangeType.DEPOSIT, new BigDecimal("1")),
                event -> seen.add("verdict t3"), () -> seen.add("moved t3"));

        assertThat(waiters.movedAway(account -> account == 42)).isEqualTo(1);

        assertThat(seen).containsExactly("moved t1");
        assertThat(waiters.waitingCount()).isEqualTo(2);
        // Gone is gone: its verdict, if it still came here, reaches no one.
        waiters.onVerdict(verdict(deposit("t1", "1"), Result.APPLIED));
        waiters.onVerdict(verdict(deposit("t2", "1"), Result.APPLIED));
        assertThat(seen).containsExactly("moved t1", "verdict t2");
        assertThat(waiters.waitingCount()).isEqualTo(1);
    }

    @Test
    void aCancelledWaiterGetsNothingAndLeavesOnceEvenWhenCancelledTwice() {
        List<BalanceEvent> seen = new ArrayList<>();
        VerdictWaiters.Waiter first = waiters.register(deposit("t1", "1"), seen::add);
        VerdictWaiters.Waiter second = waiters.register(deposit("t1", "1"), seen::add);
        VerdictWaiters.Waiter third = waiters.register(deposit("t1", "1"), seen::add);

        waiters.cancel(second);
        waiters.cancel(second);
        assertThat(waiters.waitingCount()).isEqualTo(2);
        // The others are still found by their handles after a removal in the middle.
        waiters.cancel(third);
        waiters.cancel(first);
        assertThat(waiters.waitingCount()).isZero();

        waiters.onVerdict(verdict(deposit("t1", "1"), Result.APPLIED));
        assertThat(seen).isEmpty();
    }

    @Test
    void cancellingAfterTheVerdictChangesNothing() {
        List<BalanceEvent> seen = new ArrayList<>();
        VerdictWaiters.Waiter waiter = waiters.register(deposit("t1", "1"), seen::add);
        waiters.onVerdict(verdict(deposit("t1", "1"), Result.APPLIED));
        waiters.cancel(waiter);
        assertThat(seen).hasSize(1);
        assertThat(waiters.waitingCount()).isZero();
    }

    @Test
    void aFailingCallbackDoesNotKeepTheVerdictFromTheOthers() {
        List<String> seen = new ArrayList<>();
        waiters.register(deposit("t1", "1"), event -> {
            throw new IllegalStateException("broken waiter");
        });
        waiters.register(deposit("t1", "1"), event -> seen.add("second"));

        waiters.onVerdict(verdict(deposit("t1", "1"), Result.APPLIED));

        assertThat(seen).containsExactly("second");
        assertThat(waiters.waitingCount()).isZero();
    }

    @Test
    void registrationIsRefusedBeyondTheLimit() {
        VerdictWaiters small = new VerdictWaiters(2);
        assertThat(small.register(deposit("a", "1"), event -> { })).isNotNull();
        assertThat(small.register(deposit("b", "1"), event -> { })).isNotNull();
        assertThat(small.register(deposit("c", "1"), event -> { })).isNull();
        assertThat(small.waitingCount()).isEqualTo(2);
    }

    private static ChangeCommand deposit(String transactionId, String amount) {
        return ChangeCommand.of(transactionId, 42, "BTC", ChangeType.DEPOSIT, new BigDecimal(amount));
    }

    private static BalanceEvent verdict(ChangeCommand command, Result result) {
        return new BalanceEvent(command.transactionId(), command.accountId(), command.currency(), command.type(),
                command.amount(), command.toAccountId(), result, false, BigDecimal.ZERO, BigDecimal.ZERO,
                command.amount(), BigDecimal.ZERO, 1, 1_000, null, null, null);
    }
}
