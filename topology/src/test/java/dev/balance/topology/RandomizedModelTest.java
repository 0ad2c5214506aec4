package dev.balance.topology;

import static dev.balance.topology.EventAssertions.assertBalanceMatches;
import static dev.balance.topology.EventAssertions.assertEventMatches;
import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
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
    private static final CommandGenerator.Mix MIX = new CommandGenerator.Mix(60, List.of("BTC", "ETH", "USDT"),
            0.10, 0.03, 0.01, 0.05);
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

        try (DriverFixture fixture = DriverFixture.start(settings, VerdictListener.NONE)) {
            for (CommandGenerator.Step step : steps) {
                String where = "seed " + SEED + " step " + step.index() + " (" + step.kind() + ") " + step.command();
                BalanceEvent actual = fixture.send(step.command(), step.timestampMs());
                BalanceEvent expected = model.decide(step.command(), step.timestampMs());

                assertEventMatches(actual, expected, where);
                assertStoredBalanceMatchesModel(fixture, model, step.command(), where);
                if (actual.movedBalance()) {
                    movedByEvents.merge(actual.currency(), inflow(actual), BigDecimal::add);
                }
                results.merge(actual.result(), 1, Integer::sum);
                replays += actual.replay() ? 1 : 0;
                if (step.index() % PURGE_EVERY_STEPS == 0) {
                    fixture.driver.advanceWallClockTime(Duration.ofMillis(settings.purgeIntervalMs()));
                }
            }
            Map<String, BigDecimal> stored = storedTotals(fixture);

            assertThat(stored).as("seed %d: per currency, sum(available + frozen) = deposits - withdrawals - "
                    + "settlements of the applied events", SEED).isEqualTo(movedByEvents);
            assertThat(model.totals()).as("seed %d: the model conserves too", SEED).isEqualTo(movedByEvents);
            assertThat(model.netInflow()).as("seed %d: the model's own ledger", SEED).isEqualTo(movedByEvents);
            assertThat(fixture.counters.purgedTransactions()).as("seed %d: the purge ran", SEED).isPositive();
        }
        assertEveryOutcomeWasExercised(results, replays);
    }

    private static void assertStoredBalanceMatchesModel(DriverFixture fixture, BalanceModel model,
                                                        ChangeCommand command, String where) {
        Balance expected = model.balance(command.accountId(), command.currency());
        Balance stored = fixture.storedBalance(command.accountId(), command.currency());
        if (expected.version() == 0) {
            assertThat(stored).as(where + ": no applied change, nothing stored").isNull();
        } else {
            assertBalanceMatches(stored, expected, where);
        }
    }

    private static BigDecimal inflow(BalanceEvent event) {
        if (event.type() == ChangeType.DEPOSIT) {
            return event.amount();
        }
        if (event.type() == ChangeType.WITHDRAW || event.type() == ChangeType.SETTLE) {
            return event.amount().negate();
        }
        // FREEZE and UNFREEZE move funds inside one balance; the sum does not change.
        return BigDecimal.ZERO.setScale(event.availableAfter().scale());
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
        assertThat(results.getOrDefault(Result.INVALID_COMMAND, 0)).as("seed %d: transfers refused", SEED)
                .isGreaterThan(STEPS / 500);
        assertThat(replays).as("seed %d: replays", SEED).isGreaterThan(STEPS / 50);
    }
}
