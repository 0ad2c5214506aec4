package dev.balance.topology;

import static dev.balance.topology.EventAssertions.assertBalanceMatches;
import static dev.balance.topology.EventAssertions.assertEventMatches;
import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.Leg;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.Test;

/**
 * The topology against a naive model (exchange-core style): a fixed seed drives a long mixed run
 * of fresh commands, replays, conflicting reuses, transfers and late records; after every step
 * the emitted event and the touched stored balance must equal the model's, and at the end every
 * currency must be conserved. The seed is part of every failure message.
 */
class RandomizedModelTest {

    private static final long SEED = 0xBA1A_5EEDL;
    private static final int STEPS = 20_000;
    /** A quarter of the fresh commands (over 20% of all steps) move money to another account. */
    private static final CommandGenerator.Mix MIX = new CommandGenerator.Mix(60, List.of("BTC", "ETH", "USDT"),
            0.10, 0.03, 0.25, 0.05);
    /** About 10,000 steps of stream time: duplicates of recent commands replay, of old ones apply again. */
    private static final long DEDUP_RETENTION_MS = 20_000;
    /** The purge runs now and then on the wall clock; it must never change a verdict. */
    private static final int PURGE_EVERY_STEPS = 997;

    @Test
    void shouldMatchANaiveModelAfterEveryStepAndConserveEveryCurrency() {
        StreamsSettings settings = DriverFixture.settings().withDedupRetentionMs(DEDUP_RETENTION_MS);
        List<CommandGenerator.Step> steps = new CommandGenerator(SEED, settings.currencies(), MIX).generate(STEPS);
        BalanceModel model = new BalanceModel(settings.currencies(), DEDUP_RETENTION_MS);
        Map<String, BigDecimal> movedByEvents = new TreeMap<>();
        Map<Result, Integer> results = new EnumMap<>(Result.class);
        int replays = 0;

        Map<String, BigDecimal> externalByEvents = new TreeMap<>();
        int twoLegSteps = 0;
        int appliedDebits = 0;
        int appliedCredits = 0;

        try (DriverFixture fixture = DriverFixture.start(settings, VerdictListener.NONE)) {
            for (CommandGenerator.Step step : steps) {
                String where = "seed " + SEED + " step " + step.index() + " (" + step.kind() + ") " + step.command();
                List<BalanceEvent> actual = fixture.sendAll(step.command(), step.timestampMs());
                List<BalanceEvent> expected = model.decideAll(step.command(), step.timestampMs());

                assertThat(actual).as(where + ": events of the step, legs included").hasSameSizeAs(expected);
                for (int i = 0; i < expected.size(); i++) {
                    assertEventMatches(actual.get(i), expected.get(i), where + " event " + i);
                    assertStoredBalanceMatchesModel(fixture, model, actual.get(i).accountId(),
                            actual.get(i).currency(), where);
                    BalanceEvent event = actual.get(i);
                    if (event.movedBalance()) {
                        movedByEvents.merge(event.currency(), inflow(event), BigDecimal::add);
                        externalByEvents.merge(event.currency(), externalInflow(event), BigDecimal::add);
                        appliedDebits += event.leg() == Leg.DEBIT ? 1 : 0;
                        appliedCredits += event.leg() == Leg.CREDIT ? 1 : 0;
                    }
                }
                BalanceEvent verdict = actual.get(0);
                twoLegSteps += step.command().toAccountId() != 0 ? 1 : 0;
                results.merge(verdict.result(), 1, Integer::sum);
                replays += verdict.replay() ? 1 : 0;
                if (step.index() % PURGE_EVERY_STEPS == 0) {
                    fixture.driver.advanceWallClockTime(Duration.ofMillis(settings.purgeIntervalMs()));
                }
            }
            Map<String, BigDecimal> stored = storedTotals(fixture);

            assertThat(stored).as("seed %d: per currency, sum(available + frozen) = the net of every applied "
                    + "event, legs included", SEED).isEqualTo(movedByEvents);
            assertThat(stored).as("seed %d: per currency, conservation: sum(available + frozen) = deposits - "
                    + "withdrawals - settlements without a destination; transfers only move money", SEED)
                    .isEqualTo(externalByEvents);
            assertThat(model.totals()).as("seed %d: the model conserves too", SEED).isEqualTo(movedByEvents);
            assertThat(model.netInflow()).as("seed %d: the model's own ledger", SEED).isEqualTo(movedByEvents);
            assertThat(appliedCredits).as("seed %d: every applied debit has exactly one applied credit", SEED)
                    .isEqualTo(appliedDebits);
            assertThat(twoLegSteps).as("seed %d: at least 20%% of the steps are transfers or settle-to", SEED)
                    .isGreaterThanOrEqualTo(STEPS / 5);
            assertThat(appliedDebits).as("seed %d: transfers applied", SEED).isGreaterThan(STEPS / 20);
            assertThat(fixture.counters.purgedTransactions()).as("seed %d: the purge ran", SEED).isPositive();
        }
        assertEveryOutcomeWasExercised(results, replays);
    }

    private static void assertStoredBalanceMatchesModel(DriverFixture fixture, BalanceModel model, long accountId,
                                                        String currency, String where) {
        Balance expected = model.balance(accountId, currency);
        Balance stored = fixture.storedBalance(accountId, currency);
        if (expected.version() == 0) {
            assertThat(stored).as(where + ": no applied change, nothing stored").isNull();
        } else {
            assertBalanceMatches(stored, expected, where);
        }
    }

    /** What an applied event moved in or out of its balance (available + frozen). */
    private static BigDecimal inflow(BalanceEvent event) {
        return event.availableAfter().add(event.frozenAfter())
                .subtract(event.availableBefore().add(event.frozenBefore()));
    }

    /** Money entering or leaving the system by the rules, independent of the balances the event carries. */
    private static BigDecimal externalInflow(BalanceEvent event) {
        BigDecimal none = BigDecimal.ZERO.setScale(event.availableAfter().scale());
        return switch (event.type()) {
            case DEPOSIT -> event.amount();
            case WITHDRAW -> event.amount().negate();
            case SETTLE -> event.leg() == Leg.NONE ? event.amount().negate() : none;
            default -> none;
        };
    }

    private static Map<String, BigDecimal> storedTotals(DriverFixture fixture) {
        Map<String, BigDecimal> totals = new TreeMap<>();
        try (KeyValueIterator<Bytes, byte[]> all = fixture.accountsStore().all()) {
            while (all.hasNext()) {
                KeyValue<Bytes, byte[]> entry = all.next();
                if (!StoreKeys.isBalanceKey(entry.key)) {
                    continue;
                }
                Balance balance = Codecs.decodeBalance(entry.value);
                totals.merge(StoreKeys.suffixOf(entry.key), balance.available().add(balance.frozen()),
                        BigDecimal::add);
            }
        }
        return totals;
    }

    /** A run that never rejects or never replays would prove little: each outcome must be common. */
    private static void assertEveryOutcomeWasExercised(Map<Result, Integer> results, int replays) {
        assertThat(results.getOrDefault(Result.APPLIED, 0)).as("seed %d: applied", SEED).isGreaterThan(STEPS / 4);
        assertThat(results.getOrDefault(Result.INSUFFICIENT_FUNDS, 0)).as("seed %d: insufficient funds", SEED)
                .isGreaterThan(STEPS / 50);
        assertThat(results.getOrDefault(Result.INSUFFICIENT_FROZEN, 0)).as("seed %d: insufficient frozen", SEED)
                .isGreaterThan(STEPS / 50);
        assertThat(results.getOrDefault(Result.IDEMPOTENCY_CONFLICT, 0)).as("seed %d: conflicts", SEED)
                .isGreaterThan(STEPS / 100);
        assertThat(replays).as("seed %d: replays", SEED).isGreaterThan(STEPS / 50);
    }
}
