package dev.balance.sink.mysql;

import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A naive model of the balance rules that produces the event stream the topology would publish,
 * including rejections, replays and conflicts, and the tables a correct sink must end with:
 * one journal row per applied, non-replayed event and the latest state of every balance.
 */
final class EventStream {

    static final Map<String, Integer> SCALES = Map.of("BTC", 8, "ETH", 18, "USDT", 6);
    private static final String[] CURRENCIES = {"BTC", "ETH", "USDT"};
    private static final long START_MS = 1_700_000_000_000L;

    private final Random random;
    private final Map<String, State> balances = new TreeMap<>();
    private final List<BalanceEvent> events = new ArrayList<>();
    private final List<BalanceEvent> applied = new ArrayList<>();
    private long clockMs = START_MS;
    private int transactions;

    private EventStream(long seed) {
        this.random = new Random(seed);
    }

    private record State(BigDecimal available, BigDecimal frozen, long version, long updatedAtMs) {
    }

    /** A stream of {@code changes} random changes over {@code accounts} accounts, with replays and conflicts mixed in. */
    static EventStream random(long seed, int accounts, int changes) {
        EventStream stream = new EventStream(seed);
        for (int i = 0; i < changes; i++) {
            stream.next(accounts);
        }
        return stream;
    }

    static EventStream empty() {
        return new EventStream(0);
    }

    private void next(int accounts) {
        int dice = random.nextInt(20);
        if (dice == 0 && !applied.isEmpty()) {
            events.add(applied.get(random.nextInt(applied.size())).asReplay());
            return;
        }
        if (dice == 1 && !applied.isEmpty()) {
            events.add(conflictWith(applied.get(random.nextInt(applied.size()))));
            return;
        }
        long account = 1 + random.nextInt(accounts);
        String currency = CURRENCIES[random.nextInt(CURRENCIES.length)];
        ChangeType type = ChangeType.values()[randomType()];
        change(account, currency, type, randomAmount(currency), "tx-" + (++transactions));
    }

    private int randomType() {
        // Deposits first and often, so later withdrawals and freezes are both applied and rejected.
        int[] weights = {0, 0, 0, 1, 2, 3, 5};
        return weights[random.nextInt(weights.length)];
    }

    private BigDecimal randomAmount(String currency) {
        int scale = SCALES.get(currency);
        long units = 1 + (long) (random.nextDouble() * 5_000_000L);
        return new BigDecimal(BigInteger.valueOf(units).multiply(BigInteger.TEN.pow(Math.max(0, scale - 4))), scale);
    }

    /** Decides one change like the topology would and appends its event. */
    BalanceEvent change(long account, String currency, ChangeType type, BigDecimal amount, String transactionId) {
        int scale = SCALES.get(currency);
        State before = balances.getOrDefault(key(account, currency),
                new State(BigDecimal.ZERO.setScale(scale), BigDecimal.ZERO.setScale(scale), 0, 0));
        clockMs += 1 + random.nextInt(1000);
        BigDecimal available = before.available();
        BigDecimal frozen = before.frozen();
        Result result = Result.APPLIED;
        switch (type) {
            case DEPOSIT -> available = available.add(amount);
            case WITHDRAW -> available = available.subtract(amount);
            case FREEZE -> {
                available = available.subtract(amount);
                frozen = frozen.add(amount);
            }
            case UNFREEZE -> {
                frozen = frozen.subtract(amount);
                available = available.add(amount);
            }
            case SETTLE -> frozen = frozen.subtract(amount);
            default -> throw new IllegalArgumentException("the model does not cover " + type);
        }
        if (available.signum() < 0) {
            result = Result.INSUFFICIENT_FUNDS;
        } else if (frozen.signum() < 0) {
            result = Result.INSUFFICIENT_FROZEN;
        }
        State after = result == Result.APPLIED
                ? new State(available, frozen, before.version() + 1, clockMs)
                : before;
        BalanceEvent event = new BalanceEvent(transactionId, account, currency, type, amount, 0L, result, false,
                before.available(), before.frozen(), after.available(), after.frozen(), after.version(), clockMs,
                "user-" + account, "change " + transactionId, null);
        events.add(event);
        if (result == Result.APPLIED) {
            balances.put(key(account, currency), after);
            applied.add(event);
        }
        return event;
    }

    private BalanceEvent conflictWith(BalanceEvent original) {
        State state = balances.get(key(original.accountId(), original.currency()));
        BalanceEvent conflict = new BalanceEvent(original.transactionId(), original.accountId(), original.currency(),
                original.type(), original.amount().add(BigDecimal.ONE), 0L, Result.IDEMPOTENCY_CONFLICT, false,
                state.available(), state.frozen(), state.available(), state.frozen(), state.version(), clockMs,
                original.userId(), original.description(), null);
        events.add(conflict);
        return conflict;
    }

    /** Appends an event built by the test itself, counted as applied when it moved a balance. */
    void add(BalanceEvent event) {
        events.add(event);
        if (event.movedBalance()) {
            applied.add(event);
            State known = balances.get(key(event.accountId(), event.currency()));
            if (known == null || event.version() > known.version()) {
                balances.put(key(event.accountId(), event.currency()),
                        new State(event.availableAfter(), event.frozenAfter(), event.version(), event.timestampMs()));
            }
        }
    }

    List<BalanceEvent> events() {
        return events;
    }

    /** The balance rows a correct sink ends with, formatted like {@link TestDatabase#balances()}. */
    List<String> expectedBalances() {
        List<String> rows = new ArrayList<>();
        balances.forEach((key, state) -> rows.add(Long.parseLong(key.substring(0, 20)) + "|" + key.substring(21)
                + "|" + TestDatabase.text(state.available()) + "|" + TestDatabase.text(state.frozen()) + "|"
                + state.version() + "|" + JournalWriter.utc(state.updatedAtMs())));
        return rows;
    }

    /** The journal rows a correct sink ends with, formatted like {@link TestDatabase#journal()}. */
    List<String> expectedJournal() {
        Map<String, String> rows = new TreeMap<>();
        for (BalanceEvent event : applied) {
            String key = String.format("%020d#%s#%020d", event.accountId(), event.currency(), event.version());
            rows.putIfAbsent(key, event.accountId() + "|" + event.transactionId() + "|" + event.currency() + "|"
                    + event.type().name() + "|" + TestDatabase.text(event.amount()) + "|"
                    + TestDatabase.text(event.availableAfter()) + "|" + TestDatabase.text(event.frozenAfter()) + "|"
                    + event.version() + "|" + event.userId() + "|" + event.description() + "|"
                    + JournalWriter.utc(event.timestampMs()) + "|" + event.leg().name() + "|"
                    + (event.toAccountId() == 0 ? null : event.toAccountId()));
        }
        return new ArrayList<>(rows.values());
    }

    long appliedCount() {
        return applied.size();
    }

    long notAppliedCount() {
        return events.stream().filter(event -> !event.movedBalance()).count();
    }

    /** Sorts like the database's ORDER BY account_id, currency_code (numeric account first). */
    private static String key(long account, String currency) {
        return String.format("%020d", account) + "#" + currency;
    }
}
