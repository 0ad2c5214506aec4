package dev.balance.sink.redis;

import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A reproducible stream of events over a few accounts and currencies, with the snapshot Redis must
 * hold after it: for every account and currency the balance of its last applied event.
 *
 * <p>Events that moved nothing (rejections, replays, conflicts, invalid commands) carry a version
 * one above the current one and made-up amounts. A real one carries the current balance, which a
 * buggy sink writing it would not reveal; these would break the snapshot if ever written.
 */
final class EventStream {

    static final Map<String, Integer> SCALES = Map.of("BTC", 8, "ETH", 18, "USDT", 6);
    private static final List<String> CURRENCIES = List.of("BTC", "ETH", "USDT");

    private final Random random;
    private final int accounts;
    private final long firstAccountId;
    private final Map<String, BalanceEvent> lastApplied = new HashMap<>();
    private final List<BalanceEvent> appliedHistory = new ArrayList<>();
    private long sequence;

    EventStream(long seed, long firstAccountId, int accounts) {
        this.random = new Random(seed);
        this.firstAccountId = firstAccountId;
        this.accounts = accounts;
    }

    /** The next {@code count} events: about 80% applied, the rest moving nothing. */
    List<BalanceEvent> next(int count) {
        List<BalanceEvent> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long account = firstAccountId + random.nextInt(accounts);
            String currency = CURRENCIES.get(random.nextInt(CURRENCIES.size()));
            int roll = random.nextInt(100);
            events.add(roll < 80 ? applied(account, currency) : unmoved(account, currency, roll));
        }
        return events;
    }

    /** An applied event that would move the balance to the next version, without recording it. */
    BalanceEvent phantomApplied(long account, String currency) {
        BalanceEvent last = lastApplied.get(field(account, currency));
        long version = last == null ? 1 : last.version() + 1;
        return event(account, currency, Result.APPLIED, false, amount(currency), amount(currency), version);
    }

    /** Applied events seen so far, in order; copies of them arriving late must change nothing. */
    List<BalanceEvent> appliedHistory() {
        return List.copyOf(appliedHistory);
    }

    /** key -> (currency -> encoded value) of the last applied event per account and currency. */
    Map<String, Map<String, String>> expectedSnapshot(String keyPrefix) {
        Map<String, Map<String, String>> snapshot = new LinkedHashMap<>();
        for (BalanceEvent event : lastApplied.values()) {
            snapshot.computeIfAbsent(SnapshotValue.key(keyPrefix, event.accountId()), key -> new HashMap<>())
                    .put(event.currency(), SnapshotValue.of(event).encode());
        }
        return snapshot;
    }

    private BalanceEvent applied(long account, String currency) {
        BalanceEvent event = phantomApplied(account, currency);
        lastApplied.put(field(account, currency), event);
        appliedHistory.add(event);
        return event;
    }

    private BalanceEvent unmoved(long account, String currency, int roll) {
        BalanceEvent phantom = phantomApplied(account, currency);
        if (roll < 88) {
            return event(account, currency, Result.INSUFFICIENT_FUNDS, false, amount(currency), amount(currency),
                    phantom.version());
        }
        if (roll < 96) {
            return event(account, currency, Result.APPLIED, true, amount(currency), amount(currency),
                    phantom.version());
        }
        Result result = roll < 98 ? Result.IDEMPOTENCY_CONFLICT : Result.INVALID_COMMAND;
        return event(account, currency, result, false, amount(currency), amount(currency), phantom.version());
    }

    private BalanceEvent event(long account, String currency, Result result, boolean replay, BigDecimal available,
                               BigDecimal frozen, long version) {
        sequence++;
        BigDecimal zero = BigDecimal.ZERO.setScale(SCALES.get(currency));
        return new BalanceEvent("tx-" + sequence, account, currency, ChangeType.DEPOSIT, BigDecimal.ONE, 0L, result,
                replay, zero, zero, available, frozen, version, 1_700_000_000_000L + sequence, null, null, null);
    }

    /** A random amount with exactly the currency's scale, sometimes with trailing zeros. */
    private BigDecimal amount(String currency) {
        int scale = SCALES.get(currency);
        BigDecimal units = BigDecimal.valueOf(random.nextInt(1_000_000));
        BigDecimal fraction = BigDecimal.valueOf(random.nextInt(1_000), 3);
        return units.add(fraction).setScale(scale);
    }

    private static String field(long account, String currency) {
        return account + "/" + currency;
    }
}
