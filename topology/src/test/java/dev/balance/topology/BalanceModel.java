package dev.balance.topology;

import dev.balance.topology.model.Amounts;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Currencies;
import dev.balance.topology.model.Leg;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A deliberately naive model of the balance rules (DESIGN §4): plain maps of BigDecimal balances
 * and of remembered verdicts, written from the design rather than from the processor's code, so
 * the two can disagree. It expects valid commands (the generators only produce valid ones).
 * Two-account changes are decided as in one partition: the debit, then at once its credit leg on
 * the destination, then a refund leg if the credit was refused.
 *
 * <p>Stream time is one clock for the whole model. That matches the processor when all commands
 * share one partition (TopologyTestDriver) or when no remembered id can expire during the run.
 */
final class BalanceModel {

    private record BalanceKey(long accountId, String currency) {
    }

    private record TransactionKey(long accountId, String transactionId) {
    }

    private final Currencies currencies;
    private final long dedupRetentionMs;
    private final Map<BalanceKey, Balance> balances = new HashMap<>();
    private final Map<TransactionKey, BalanceEvent> remembered = new HashMap<>();
    private final Map<String, BigDecimal> netInflow = new TreeMap<>();
    private long streamTimeMs = Long.MIN_VALUE;

    BalanceModel(Currencies currencies, long dedupRetentionMs) {
        this.currencies = currencies;
        this.dedupRetentionMs = dedupRetentionMs;
    }

    /**
     * Decides a one-account command the way the design says and returns the event the topology must
     * emit. Fails for a two-account change that leads to legs: use {@link #decideAll} for those.
     */
    BalanceEvent decide(ChangeCommand command, long timestampMs) {
        List<BalanceEvent> events = decideAll(command, timestampMs);
        if (events.size() != 1) {
            throw new IllegalStateException("decide() is for commands without legs; got " + events);
        }
        return events.get(0);
    }

    /**
     * Decides a command and, for an applied two-account change, its credit leg (and the refund leg
     * of a refused credit), as one partition decides them: the events in order.
     */
    List<BalanceEvent> decideAll(ChangeCommand command, long timestampMs) {
        streamTimeMs = Math.max(streamTimeMs, timestampMs);
        // A command is decided at stream time: a late record timestamp never makes a verdict born expired.
        BalanceEvent verdict = decideClient(command, streamTimeMs);
        List<BalanceEvent> events = new ArrayList<>(List.of(verdict));
        if (verdict.result() == Result.APPLIED && !verdict.replay() && verdict.leg() == Leg.DEBIT) {
            BalanceEvent credit = credit(verdict);
            events.add(credit);
            if (credit.result() != Result.APPLIED) {
                events.add(refund(verdict, credit));
            }
        }
        return events;
    }

    private BalanceEvent credit(BalanceEvent debit) {
        Balance before = balance(debit.toAccountId(), debit.currency());
        BigDecimal available = before.available().add(debit.amount());
        Result result = available.compareTo(Amounts.BALANCE_LIMIT) >= 0 ? Result.BALANCE_LIMIT_EXCEEDED : Result.APPLIED;
        Balance after = result == Result.APPLIED
                ? new Balance(available, before.frozen(), before.version() + 1, streamTimeMs)
                : before;
        if (result == Result.APPLIED) {
            balances.put(new BalanceKey(debit.toAccountId(), debit.currency()), after);
        }
        return new BalanceEvent(debit.transactionId(), debit.toAccountId(), debit.currency(), debit.type(),
                debit.amount(), debit.accountId(), result, false, before.available(), before.frozen(),
                after.available(), after.frozen(), after.version(), streamTimeMs, null, debit.description(),
                null, Leg.CREDIT);
    }

    /** Back where the debit took it from: frozen for a SETTLE, available for a TRANSFER. */
    private BalanceEvent refund(BalanceEvent debit, BalanceEvent refusedCredit) {
        Balance before = balance(debit.accountId(), debit.currency());
        boolean toFrozen = debit.type() == ChangeType.SETTLE;
        Balance after = new Balance(toFrozen ? before.available() : before.available().add(debit.amount()),
                toFrozen ? before.frozen().add(debit.amount()) : before.frozen(), before.version() + 1, streamTimeMs);
        balances.put(new BalanceKey(debit.accountId(), debit.currency()), after);
        return new BalanceEvent(debit.transactionId(), debit.accountId(), debit.currency(), debit.type(),
                debit.amount(), refusedCredit.accountId(), Result.APPLIED, false, before.available(), before.frozen(),
                after.available(), after.frozen(), after.version(), streamTimeMs, debit.userId(), debit.description(),
                null, Leg.REFUND);
    }

    private BalanceEvent decideClient(ChangeCommand command, long timestampMs) {
        Balance current = balance(command.accountId(), command.currency());
        TransactionKey transactionKey = new TransactionKey(command.accountId(), command.transactionId());
        BalanceEvent earlier = remembered.get(transactionKey);
        if (earlier != null && earlier.timestampMs() >= streamTimeMs - dedupRetentionMs) {
            if (sameRequest(earlier, command)) {
                return earlier.asReplay();
            }
            return event(command, Result.IDEMPOTENCY_CONFLICT, current, current, timestampMs);
        }
        BalanceEvent verdict = rules(command, current, timestampMs);
        if (verdict.result() == Result.APPLIED) {
            balances.put(new BalanceKey(command.accountId(), command.currency()), verdict.balanceAfter());
            netInflow.merge(command.currency(), inflow(command, verdict.amount()), BigDecimal::add);
        }
        remembered.put(transactionKey, verdict);
        return verdict;
    }

    private BalanceEvent rules(ChangeCommand command, Balance before, long timestampMs) {
        BigDecimal amount = normalized(command);
        BigDecimal available = before.available();
        BigDecimal frozen = before.frozen();
        switch (command.type()) {
            case DEPOSIT -> available = available.add(amount);
            case WITHDRAW, TRANSFER -> available = available.subtract(amount);
            case FREEZE -> {
                available = available.subtract(amount);
                frozen = frozen.add(amount);
            }
            case UNFREEZE -> {
                frozen = frozen.subtract(amount);
                available = available.add(amount);
            }
            case SETTLE -> frozen = frozen.subtract(amount);
            default -> throw new IllegalArgumentException("the model has no rule for " + command.type());
        }
        if (available.signum() < 0) {
            return event(command, Result.INSUFFICIENT_FUNDS, before, before, timestampMs);
        }
        if (frozen.signum() < 0) {
            return event(command, Result.INSUFFICIENT_FROZEN, before, before, timestampMs);
        }
        boolean availableGrew = available.compareTo(before.available()) > 0;
        boolean frozenGrew = frozen.compareTo(before.frozen()) > 0;
        if ((availableGrew && available.compareTo(Amounts.BALANCE_LIMIT) >= 0)
                || (frozenGrew && frozen.compareTo(Amounts.BALANCE_LIMIT) >= 0)) {
            return event(command, Result.BALANCE_LIMIT_EXCEEDED, before, before, timestampMs);
        }
        Balance after = new Balance(available, frozen, before.version() + 1, timestampMs);
        return event(command, Result.APPLIED, before, after, timestampMs);
    }

    /** Money entering or leaving the system; a transfer or a settle to another account only moves it. */
    private static BigDecimal inflow(ChangeCommand command, BigDecimal amount) {
        return switch (command.type()) {
            case DEPOSIT -> amount;
            case WITHDRAW -> amount.negate();
            case SETTLE -> command.toAccountId() == 0 ? amount.negate() : BigDecimal.ZERO;
            default -> BigDecimal.ZERO;
        };
    }

    private boolean sameRequest(BalanceEvent earlier, ChangeCommand command) {
        return earlier.type() == command.type()
                && earlier.currency().equals(command.currency())
                && earlier.amount().compareTo(command.amount()) == 0
                && earlier.toAccountId() == command.toAccountId();
    }

    private BigDecimal normalized(ChangeCommand command) {
        return command.amount().setScale(currencies.scale(command.currency()));
    }

    private BalanceEvent event(ChangeCommand command, Result result, Balance before, Balance after, long timestampMs) {
        String detail = result == Result.INVALID_COMMAND ? "invalid" : null;
        Leg leg = command.toAccountId() != 0 ? Leg.DEBIT : Leg.NONE;
        return new BalanceEvent(command.transactionId(), command.accountId(), command.currency(), command.type(),
                normalized(command), command.toAccountId(), result, false, before.available(), before.frozen(),
                after.available(), after.frozen(), after.version(), timestampMs, command.userId(),
                command.description(), detail, leg);
    }

    /** The model's balance; an untouched one is zero at the currency's scale with version 0. */
    Balance balance(long accountId, String currency) {
        Balance stored = balances.get(new BalanceKey(accountId, currency));
        return stored != null ? stored : Balance.zero(currencies.scale(currency));
    }

    /** Per currency: applied deposits minus applied withdrawals and settlements, replays not counted. */
    Map<String, BigDecimal> netInflow() {
        return Map.copyOf(netInflow);
    }

    /** Per currency: the sum of available + frozen over every balance of the model. */
    Map<String, BigDecimal> totals() {
        Map<String, BigDecimal> totals = new TreeMap<>();
        balances.forEach((key, balance) -> totals.merge(key.currency(),
                balance.available().add(balance.frozen()), BigDecimal::add));
        return totals;
    }
}
