package dev.balance.topology;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.MalformedRecordException;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.Amounts;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Leg;
import dev.balance.topology.model.Result;
import dev.balance.topology.model.Validation;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The balance rules. One instance per task (partition of {@code balance-changes}); every
 * decision depends only on the stores and the command, never on the wall clock, so a replay of
 * the same input after a crash reaches the same verdicts.
 */
final class BalanceProcessor implements Processor<byte[], byte[], byte[], byte[]> {

    static final String EVENTS_CHILD = "events-sink";
    static final String DLQ_CHILD = "dlq-sink";
    /**
     * The credit and refund legs of two-account changes go back into {@code balance-changes},
     * keyed by the account they move money to, in the same Kafka transaction as the debit. So the
     * task of that account reads them in one log, in one order, with every other command for it:
     * a replay after a crash sees the same sequence and reaches the same verdicts.
     */
    static final String LEGS_CHILD = "legs-sink";

    private final StreamsSettings settings;
    private final VerdictListener listener;
    private final OutcomeCounters counters;
    private final ActiveStores activeStores;

    private ProcessorContext<byte[], byte[]> context;
    /** Balances and remembered verdicts, told apart by their keys ({@link StoreKeys}). */
    private KeyValueStore<Bytes, byte[]> accounts;
    private Bytes purgeCursor;
    /** Oldest verdict timestamp kept by the last complete purge pass; UNKNOWN until one completed. */
    private long oldestKeptMs = UNKNOWN;
    private long passOldestKeptMs = Long.MAX_VALUE;
    private static final long UNKNOWN = Long.MIN_VALUE;

    BalanceProcessor(StreamsSettings settings, VerdictListener listener, OutcomeCounters counters,
                     ActiveStores activeStores) {
        this.settings = settings;
        this.listener = listener;
        this.counters = counters;
        this.activeStores = activeStores;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        this.context = context;
        this.accounts = context.getStateStore(Stores.ACCOUNTS);
        context.schedule(Duration.ofMillis(settings.purgeIntervalMs()), PunctuationType.WALL_CLOCK_TIME,
                now -> purgeExpiredTransactions());
        activeStores.opened(context.taskId().partition(), accounts);
    }

    @Override
    public void close() {
        activeStores.closed(context.taskId().partition(), accounts);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        ChangeCommand command;
        try {
            long keyAccount = accountKey(record.key());
            command = Codecs.decodeCommand(record.value());
            if (command.accountId() != keyAccount) {
                throw new MalformedRecordException("key account " + keyAccount + " differs from account_id "
                        + command.accountId());
            }
            if (command.leg() == Leg.DEBIT) {
                throw new MalformedRecordException("a command is never a DEBIT leg; the debit is the client's change");
            }
        } catch (MalformedRecordException e) {
            deadLetter(record, e);
            return;
        }
        long timestampMs = decisionTimeMs(record);
        Decided decided = switch (command.leg()) {
            case NONE -> decide(command, timestampMs);
            case CREDIT -> decideCredit(command, timestampMs);
            case REFUND -> decideRefund(command, timestampMs);
            case DEBIT -> throw new IllegalStateException("unreachable: DEBIT commands are refused as malformed");
        };
        BalanceEvent event = decided.event();
        context.forward(record.withValue(decided.encoded()), EVENTS_CHILD);
        if (decided.next() != null) {
            ChangeCommand next = decided.next();
            context.forward(new Record<>(accountKeyBytes(next.accountId()), Codecs.encodeCommand(next),
                    record.timestamp()), LEGS_CHILD);
        }
        counters.record(event.result(), event.replay(), event.leg());
        listener.onVerdict(event);
    }

    /**
     * A command is decided, and its verdict remembered, at the task's stream time (at least the
     * record's own timestamp). A record stamped by a producer whose clock lags would otherwise be
     * remembered as already past retention, and a retry of it applied twice. Stream time replays
     * identically after a crash, so this keeps processing deterministic.
     */
    private long decisionTimeMs(Record<byte[], byte[]> record) {
        return Math.max(record.timestamp(), context.currentStreamTimeMs());
    }

    /**
     * An outcome and its encoding, encoded once for both the store and the events topic, and the
     * leg it sends on to another account (a credit or a refund), or null.
     */
    private record Decided(BalanceEvent event, byte[] encoded, ChangeCommand next) {
        static Decided of(BalanceEvent event) {
            return new Decided(event, Codecs.encodeEvent(event), null);
        }

        static Decided of(BalanceEvent event, ChangeCommand next) {
            return new Decided(event, Codecs.encodeEvent(event), next);
        }
    }

    /** Decides one command and writes its effects to the store; returns its outcome. */
    private Decided decide(ChangeCommand command, long timestampMs) {
        Map<String, String> problems = Validation.check(command, settings.currencies());
        if (!problems.isEmpty()) {
            return Decided.of(unchanged(command, Result.INVALID_COMMAND, timestampMs, problems.toString()));
        }
        command = atCurrencyScale(command);
        Bytes transactionKey = StoreKeys.transactionKey(command.accountId(), command.transactionId());
        BalanceEvent remembered = rememberedVerdict(transactionKey);
        if (remembered != null) {
            if (command.samePayload(remembered.currency(), remembered.type(), remembered.amount(), remembered.toAccountId())) {
                return Decided.of(remembered.asReplay());
            }
            return Decided.of(unchanged(command, Result.IDEMPOTENCY_CONFLICT, timestampMs, null));
        }
        Bytes balanceKey = StoreKeys.balanceKey(command.accountId(), command.currency());
        Balance before = loadBalance(balanceKey, command.currency());
        Outcome outcome = apply(command, before, timestampMs);
        BalanceEvent event = event(command, outcome.result(), before, outcome.after(), timestampMs, null);
        ChangeCommand credit = outcome.result() == Result.APPLIED && command.twoLeg()
                ? creditLeg(command, outcome.after().version())
                : null;
        return remember(Decided.of(event, credit), transactionKey, balanceKey, outcome);
    }

    /**
     * Writes a decision: for an applied one, the new balance and the verdict that explains it in one
     * RocksDB write batch; otherwise the verdict alone.
     */
    private Decided remember(Decided decided, Bytes transactionKey, Bytes balanceKey, Outcome outcome) {
        if (outcome.result() == Result.APPLIED) {
            accounts.putAll(List.of(KeyValue.pair(balanceKey, Codecs.encodeBalance(outcome.after())),
                    KeyValue.pair(transactionKey, decided.encoded())));
        } else {
            accounts.put(transactionKey, decided.encoded());
        }
        return decided;
    }

    /** The credit an applied debit sends to the destination: the same id, the source as counterparty. */
    private static ChangeCommand creditLeg(ChangeCommand debit, long debitVersion) {
        // The sender's user id stays with the sender: the destination's ledger rows are not that user's.
        return new ChangeCommand(debit.transactionId(), debit.toAccountId(), null, debit.currency(),
                debit.type(), debit.amount(), debit.accountId(), debit.description(), null, Leg.CREDIT, debitVersion);
    }

    /**
     * Applies a credit leg on the destination, exactly once. A credit never fails for lack of funds;
     * one that would bring the destination to the balance limit is refused here, and a refund leg
     * takes the amount back to the source, so money is never created or lost. The leg was validated
     * as the client's change on the source's task and is not validated again: refusing it now (say,
     * after a currency left the configuration) would lose the money the debit took.
     */
    private Decided decideCredit(ChangeCommand credit, long timestampMs) {
        long sourceId = credit.toAccountId();
        Bytes legKey = StoreKeys.creditLegKey(credit.accountId(), credit.transactionId(), sourceId, credit.currency(),
                credit.debitVersion());
        BalanceEvent remembered = rememberedVerdict(legKey);
        if (remembered != null) {
            return Decided.of(remembered.asReplay());
        }
        Bytes balanceKey = StoreKeys.balanceKey(credit.accountId(), credit.currency());
        Balance before = loadBalance(balanceKey, credit.currency(), credit.amount().scale());
        BigDecimal available = before.available().add(credit.amount());
        Outcome outcome = available.compareTo(Amounts.BALANCE_LIMIT) >= 0
                ? new Outcome(Result.BALANCE_LIMIT_EXCEEDED, before)
                : new Outcome(Result.APPLIED, new Balance(available, before.frozen(), before.version() + 1, timestampMs));
        BalanceEvent event = event(credit, outcome.result(), before, outcome.after(), timestampMs, null);
        ChangeCommand refund = outcome.result() == Result.APPLIED ? null
                : new ChangeCommand(credit.transactionId(), sourceId, credit.userId(), credit.currency(), credit.type(),
                        credit.amount(), credit.accountId(), credit.description(), null, Leg.REFUND,
                        credit.debitVersion());
        return remember(Decided.of(event, refund), legKey, balanceKey, outcome);
    }

    /**
     * Gives a refused credit back to the source, where the debit took it from: available for a
     * TRANSFER, frozen for a SETTLE. A refund is never refused: the source held this amount before
     * the debit, and refusing would lose it. It is exempt from the balance limit for that reason
     * (the source can only pass the limit if deposits arrived in between; the event shows it).
     */
    private Decided decideRefund(ChangeCommand refund, long timestampMs) {
        Bytes legKey = StoreKeys.refundLegKey(refund.accountId(), refund.transactionId(), refund.currency(),
                refund.debitVersion());
        BalanceEvent remembered = rememberedVerdict(legKey);
        if (remembered != null) {
            return Decided.of(remembered.asReplay());
        }
        Bytes balanceKey = StoreKeys.balanceKey(refund.accountId(), refund.currency());
        Balance before = loadBalance(balanceKey, refund.currency(), refund.amount().scale());
        Balance after = refund.type() == ChangeType.SETTLE
                ? new Balance(before.available(), before.frozen().add(refund.amount()), before.version() + 1, timestampMs)
                : new Balance(before.available().add(refund.amount()), before.frozen(), before.version() + 1, timestampMs);
        Outcome outcome = new Outcome(Result.APPLIED, after);
        BalanceEvent event = event(refund, Result.APPLIED, before, after, timestampMs, null);
        return remember(Decided.of(event), legKey, balanceKey, outcome);
    }

    /**
     * Amounts are kept at the currency's scale so stored balances and events never drift in scale.
     * Validation has already checked the amount (never more decimals than the scale), so widening
     * the scale is exact and needs no second check.
     */
    private ChangeCommand atCurrencyScale(ChangeCommand command) {
        int scale = settings.currencies().scale(command.currency());
        if (command.amount().scale() == scale) {
            return command;
        }
        BigDecimal amount = command.amount().setScale(scale);
        return new ChangeCommand(command.transactionId(), command.accountId(), command.userId(), command.currency(),
                command.type(), amount, command.toAccountId(), command.description(), command.metadata());
    }

    private record Outcome(Result result, Balance after) {
    }

    private static Outcome apply(ChangeCommand command, Balance before, long timestampMs) {
        BigDecimal amount = command.amount();
        BigDecimal available = before.available();
        BigDecimal frozen = before.frozen();
        switch (command.type()) {
            case DEPOSIT -> available = available.add(amount);
            case WITHDRAW, TRANSFER -> {
                if (available.compareTo(amount) < 0) {
                    return new Outcome(Result.INSUFFICIENT_FUNDS, before);
                }
                available = available.subtract(amount);
            }
            case FREEZE -> {
                if (available.compareTo(amount) < 0) {
                    return new Outcome(Result.INSUFFICIENT_FUNDS, before);
                }
                available = available.subtract(amount);
                frozen = frozen.add(amount);
            }
            case UNFREEZE -> {
                if (frozen.compareTo(amount) < 0) {
                    return new Outcome(Result.INSUFFICIENT_FROZEN, before);
                }
                frozen = frozen.subtract(amount);
                available = available.add(amount);
            }
            case SETTLE -> {
                // With a destination the held funds move on in a credit leg; without one they leave.
                if (frozen.compareTo(amount) < 0) {
                    return new Outcome(Result.INSUFFICIENT_FROZEN, before);
                }
                frozen = frozen.subtract(amount);
            }
            default -> throw new IllegalStateException("no rule for " + command.type());
        }
        // Only a side that grows is held to the limit: a balance above it (a refund may bring it there)
        // can always be drawn down.
        if ((available.compareTo(before.available()) > 0 && available.compareTo(Amounts.BALANCE_LIMIT) >= 0)
                || (frozen.compareTo(before.frozen()) > 0 && frozen.compareTo(Amounts.BALANCE_LIMIT) >= 0)) {
            return new Outcome(Result.BALANCE_LIMIT_EXCEEDED, before);
        }
        return new Outcome(Result.APPLIED, new Balance(available, frozen, before.version() + 1, timestampMs));
    }

    /**
     * The remembered verdict of a transaction id, or null when it is unknown or expired. Expiry
     * compares the verdict's record timestamp with the task's stream time, both of which replay
     * identically after a crash, so the decision never depends on when a purge happened to run.
     */
    private BalanceEvent rememberedVerdict(Bytes transactionKey) {
        byte[] stored = accounts.get(transactionKey);
        if (stored == null) {
            return null;
        }
        BalanceEvent event = Codecs.decodeEvent(stored);
        return expired(event.timestampMs()) ? null : event;
    }

    private boolean expired(long verdictTimestampMs) {
        return verdictTimestampMs < context.currentStreamTimeMs() - settings.dedupRetentionMs();
    }

    private Balance loadBalance(Bytes key, String currency) {
        return loadBalance(key, currency, settings.currencies().scale(currency));
    }

    /** As {@link #loadBalance(Bytes, String)}, with the scale of a new balance given (a leg's amount's). */
    private Balance loadBalance(Bytes key, String currency, int newScale) {
        byte[] stored = accounts.get(key);
        return stored == null ? Balance.zero(newScale) : Codecs.decodeBalance(stored);
    }

    private BalanceEvent unchanged(ChangeCommand command, Result result, long timestampMs, String detail) {
        Balance current;
        if (settings.currencies().contains(command.currency()) && command.accountId() > 0) {
            current = loadBalance(StoreKeys.balanceKey(command.accountId(), command.currency()), command.currency());
        } else {
            current = Balance.zero(0);
        }
        return event(command, result, current, current, timestampMs, detail);
    }

    private static BalanceEvent event(ChangeCommand command, Result result, Balance before, Balance after,
                                      long timestampMs, String detail) {
        Leg leg = command.leg() != Leg.NONE ? command.leg() : command.twoLeg() ? Leg.DEBIT : Leg.NONE;
        return new BalanceEvent(command.transactionId(), command.accountId(), command.currency(), command.type(),
                command.amount(), command.toAccountId(), result, false, before.available(), before.frozen(),
                after.available(), after.frozen(), after.version(), timestampMs, command.userId(),
                command.description(), detail, leg);
    }

    private static byte[] accountKeyBytes(long accountId) {
        byte[] key = new byte[8];
        for (int i = 0; i < 8; i++) {
            key[i] = (byte) (accountId >>> (56 - 8 * i));
        }
        return key;
    }

    /**
     * Deletes remembered transaction ids past retention, a bounded number of entries per run so a
     * punctuation never stalls the stream thread; the cursor walks the store over many runs. A
     * complete pass remembers the oldest verdict it kept, and no new pass starts before that one
     * can have expired, so in steady state (retention of days) the purge costs nothing.
     */
    private void purgeExpiredTransactions() {
        if (purgeCursor == null && oldestKeptMs != UNKNOWN && !expired(oldestKeptMs)) {
            return;
        }
        List<Bytes> expired = new ArrayList<>();
        int examined = 0;
        Bytes next = null;
        Bytes from = purgeCursor == null ? StoreKeys.firstTransactionKey() : purgeCursor;
        try (KeyValueIterator<Bytes, byte[]> entries = accounts.range(from, StoreKeys.lastTransactionKey())) {
            while (entries.hasNext()) {
                KeyValue<Bytes, byte[]> entry = entries.next();
                if (examined == settings.purgeBatchMax()) {
                    next = entry.key;
                    break;
                }
                examined++;
                long verdictMs = Codecs.decodeEvent(entry.value).timestampMs();
                if (expired(verdictMs)) {
                    expired.add(entry.key);
                } else {
                    passOldestKeptMs = Math.min(passOldestKeptMs, verdictMs);
                }
            }
        }
        purgeCursor = next;
        if (next == null) {
            // An empty pass kept nothing; entries added from now on are about as old as stream time.
            oldestKeptMs = Math.min(passOldestKeptMs, context.currentStreamTimeMs());
            passOldestKeptMs = Long.MAX_VALUE;
        }
        for (Bytes key : expired) {
            accounts.delete(key);
        }
        counters.purged(expired.size());
    }

    private void deadLetter(Record<byte[], byte[]> record, RuntimeException error) {
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        headers.add("dlq.error.class", error.getClass().getName().getBytes(StandardCharsets.UTF_8));
        headers.add("dlq.error.message", String.valueOf(error.getMessage()).getBytes(StandardCharsets.UTF_8));
        context.recordMetadata().ifPresent(meta -> {
            headers.add("dlq.source.topic", meta.topic().getBytes(StandardCharsets.UTF_8));
            headers.add("dlq.source.partition", Integer.toString(meta.partition()).getBytes(StandardCharsets.UTF_8));
            headers.add("dlq.source.offset", Long.toString(meta.offset()).getBytes(StandardCharsets.UTF_8));
        });
        context.forward(new Record<>(record.key(), record.value(), record.timestamp(), headers), DLQ_CHILD);
        counters.deadLetter();
    }

    private static long accountKey(byte[] key) {
        if (key == null || key.length != 8) {
            throw new MalformedRecordException("key must be an 8-byte account id, got "
                    + (key == null ? "null" : key.length + " bytes"));
        }
        long value = 0;
        for (byte b : key) {
            value = (value << 8) | (b & 0xFF);
        }
        return value;
    }
}
