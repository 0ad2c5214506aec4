package dev.balance.topology;

import static dev.balance.topology.model.ChangeType.DEPOSIT;
import static dev.balance.topology.model.ChangeType.FREEZE;
import static dev.balance.topology.model.ChangeType.SETTLE;
import static dev.balance.topology.model.ChangeType.TRANSFER;
import static dev.balance.topology.model.ChangeType.UNFREEZE;
import static dev.balance.topology.model.ChangeType.WITHDRAW;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every rule and every rejection of DESIGN §4, through the real topology in a TopologyTestDriver. */
class BalanceTopologyTest {

    private static final long ACCOUNT = 42L;
    private static final long OTHER_ACCOUNT = 43L;
    private static final long T0 = 1_900_000_000_000L;
    private static final long RETENTION_MS = Duration.ofHours(1).toMillis();
    private static final int FUZZ_SEED = 20_261_123;
    private static final int FUZZ_RECORDS = 2_000;

    private DriverFixture fixture;
    private long clockMs = T0;

    @BeforeEach
    void startDriver() {
        fixture = DriverFixture.start(DriverFixture.settings().withDedupRetentionMs(RETENTION_MS), VerdictListener.NONE);
    }

    @AfterEach
    void closeDriver() {
        fixture.close();
    }

    // ---- applied rules ----

    @Test
    void shouldAddADepositToAvailable() {
        BalanceEvent event = send("d1", DEPOSIT, "BTC", "1.5");

        assertThat(event.result()).isEqualTo(Result.APPLIED);
        assertThat(event.replay()).isFalse();
        assertBefore(event, "0.00000000", "0.00000000");
        assertAfter(event, "1.50000000", "0.00000000");
        assertThat(event.version()).isEqualTo(1);
        assertStored(ACCOUNT, "BTC", "1.50000000", "0.00000000", 1);
    }

    @Test
    void shouldKeepAmountsAndBalancesAtTheCurrencyScale() {
        BalanceEvent event = send("d1", DEPOSIT, "USDT", "7");

        assertThat(event.amount()).isEqualTo(new BigDecimal("7.000000"));
        assertThat(event.availableAfter()).isEqualTo(new BigDecimal("7.000000"));
        assertStored(ACCOUNT, "USDT", "7.000000", "0.000000", 1);
    }

    /** DESIGN §4: no more fractional digits than the scale, counted as written, even when they are zeros. */
    @Test
    void shouldRefuseAnAmountWithMoreDecimalsThanTheScaleEvenWhenTheyAreZeros() {
        BalanceEvent event = send("d1", DEPOSIT, "BTC", "1.5000000000");

        assertThat(event.result()).isEqualTo(Result.INVALID_COMMAND);
        assertThat(event.version()).isZero();
        assertThat(event.availableAfter()).isEqualByComparingTo("0");
    }

    @Test
    void shouldTakeAWithdrawalFromAvailable() {
        send("d1", DEPOSIT, "ETH", "2");

        BalanceEvent event = send("w1", WITHDRAW, "ETH", "0.000000000000000001");

        assertThat(event.result()).isEqualTo(Result.APPLIED);
        assertBefore(event, "2.000000000000000000", "0.000000000000000000");
        assertAfter(event, "1.999999999999999999", "0.000000000000000000");
        assertStored(ACCOUNT, "ETH", "1.999999999999999999", "0.000000000000000000", 2);
    }

    @Test
    void shouldAllowWithdrawingExactlyTheAvailableBalance() {
        send("d1", DEPOSIT, "BTC", "0.00000001");

        BalanceEvent event = send("w1", WITHDRAW, "BTC", "0.00000001");

        assertThat(event.result()).isEqualTo(Result.APPLIED);
        assertStored(ACCOUNT, "BTC", "0.00000000", "0.00000000", 2);
    }

    @Test
    void shouldRejectAWithdrawalBeyondAvailableWithInsufficientFundsAndChangeNothing() {
        send("d1", DEPOSIT, "BTC", "1");

        BalanceEvent event = send("w1", WITHDRAW, "BTC", "1.00000001");

        assertUnchangedRejection(event, Result.INSUFFICIENT_FUNDS, "1.00000000", "0.00000000", 1);
    }

    @Test
    void shouldRejectAWithdrawalFromAnAccountThatWasNeverFundedWithInsufficientFunds() {
        BalanceEvent event = send("w1", WITHDRAW, "BTC", "1");

        assertThat(event.result()).isEqualTo(Result.INSUFFICIENT_FUNDS);
        assertBefore(event, "0.00000000", "0.00000000");
        assertAfter(event, "0.00000000", "0.00000000");
        assertThat(event.version()).isZero();
        assertThat(fixture.storedBalance(ACCOUNT, "BTC")).isNull();
    }

    @Test
    void shouldMoveFundsFromAvailableToFrozenOnFreeze() {
        send("d1", DEPOSIT, "USDT", "10");

        BalanceEvent event = send("f1", FREEZE, "USDT", "4.25");

        assertThat(event.result()).isEqualTo(Result.APPLIED);
        assertBefore(event, "10.000000", "0.000000");
        assertAfter(event, "5.750000", "4.250000");
        assertStored(ACCOUNT, "USDT", "5.750000", "4.250000", 2);
    }

    @Test
    void shouldRejectAFreezeBeyondAvailableWithInsufficientFundsAndChangeNothing() {
        send("d1", DEPOSIT, "USDT", "10");
        send("f1", FREEZE, "USDT", "6");

        BalanceEvent event = send("f2", FREEZE, "USDT", "4.000001");

        assertUnchangedRejection(event, Result.INSUFFICIENT_FUNDS, "4.000000", "6.000000", 2);
    }

    @Test
    void shouldReturnFrozenFundsToAvailableOnUnfreeze() {
        send("d1", DEPOSIT, "USDT", "10");
        send("f1", FREEZE, "USDT", "6");

        BalanceEvent event = send("u1", UNFREEZE, "USDT", "2.5");

        assertThat(event.result()).isEqualTo(Result.APPLIED);
        assertBefore(event, "4.000000", "6.000000");
        assertAfter(event, "6.500000", "3.500000");
        assertStored(ACCOUNT, "USDT", "6.500000", "3.500000", 3);
    }

    @Test
    void shouldRejectAnUnfreezeBeyondFrozenWithInsufficientFrozenAndChangeNothing() {
        send("d1", DEPOSIT, "USDT", "10");
        send("f1", FREEZE, "USDT", "6");

        BalanceEvent event = send("u1", UNFREEZE, "USDT", "6.000001");

        assertUnchangedRejection(event, Result.INSUFFICIENT_FROZEN, "4.000000", "6.000000", 2);
    }

    @Test
    void shouldRemoveFrozenFundsOnSettle() {
        send("d1", DEPOSIT, "BTC", "3");
        send("f1", FREEZE, "BTC", "2");

        BalanceEvent event = send("s1", SETTLE, "BTC", "2");

        assertThat(event.result()).isEqualTo(Result.APPLIED);
        assertBefore(event, "1.00000000", "2.00000000");
        assertAfter(event, "1.00000000", "0.00000000");
        assertStored(ACCOUNT, "BTC", "1.00000000", "0.00000000", 3);
    }

    @Test
    void shouldRejectASettleBeyondFrozenWithInsufficientFrozenEvenWhenAvailableWouldCoverIt() {
        send("d1", DEPOSIT, "BTC", "3");
        send("f1", FREEZE, "BTC", "1");

        BalanceEvent event = send("s1", SETTLE, "BTC", "1.5");

        assertUnchangedRejection(event, Result.INSUFFICIENT_FROZEN, "2.00000000", "1.00000000", 2);
    }

    @Test
    void shouldRejectADepositThatWouldReachTheBalanceLimitWithBalanceLimitExceededAndChangeNothing() {
        send("d1", DEPOSIT, "BTC", "99999999999999999999");

        BalanceEvent atLimit = send("d2", DEPOSIT, "BTC", "1");
        assertUnchangedRejection(atLimit, Result.BALANCE_LIMIT_EXCEEDED, "99999999999999999999.00000000",
                "0.00000000", 1);

        BalanceEvent justBelow = send("d3", DEPOSIT, "BTC", "0.99999999");
        assertThat(justBelow.result()).isEqualTo(Result.APPLIED);
        assertStored(ACCOUNT, "BTC", "99999999999999999999.99999999", "0.00000000", 2);
    }

    @Test
    void shouldGrowTheVersionByOnePerAppliedChangeAndKeepItOnRejection() {
        List<Long> versions = new ArrayList<>();
        versions.add(send("v1", DEPOSIT, "ETH", "5").version());
        versions.add(send("v2", WITHDRAW, "ETH", "6").version());
        versions.add(send("v3", FREEZE, "ETH", "2").version());
        versions.add(send("v4", SETTLE, "ETH", "3").version());
        versions.add(send("v5", UNFREEZE, "ETH", "1").version());
        versions.add(send("v5", UNFREEZE, "ETH", "1").version());
        versions.add(send("v6", SETTLE, "ETH", "1").version());

        assertThat(versions).containsExactly(1L, 1L, 2L, 2L, 3L, 3L, 4L);
        assertThat(fixture.storedBalance(ACCOUNT, "ETH").version()).isEqualTo(4);
    }

    @Test
    void shouldKeepTheBalanceOfEachAccountAndCurrencyApartWithItsOwnVersion() {
        send("a", DEPOSIT, "BTC", "1");
        send("b", DEPOSIT, "BTC", "2");
        send("c", DEPOSIT, "ETH", "3");
        fixture.send(ChangeCommand.of("a", OTHER_ACCOUNT, "BTC", DEPOSIT, new BigDecimal("4")), tick());

        assertStored(ACCOUNT, "BTC", "3.00000000", "0.00000000", 2);
        assertStored(ACCOUNT, "ETH", "3.000000000000000000", "0.000000000000000000", 1);
        assertStored(OTHER_ACCOUNT, "BTC", "4.00000000", "0.00000000", 1);
        assertThat(fixture.storedBalance(ACCOUNT, "USDT")).isNull();
    }

    @Test
    void shouldCarryTheBalanceBeforeAndAfterInEveryEvent() {
        List<BalanceEvent> events = List.of(
                send("c1", DEPOSIT, "USDC", "100"),
                send("c2", FREEZE, "USDC", "30"),
                send("c3", WITHDRAW, "USDC", "80"),
                send("c4", UNFREEZE, "USDC", "10"),
                send("c5", SETTLE, "USDC", "20"),
                send("c6", WITHDRAW, "USDC", "80"));

        Balance previous = Balance.zero(6);
        for (BalanceEvent event : events) {
            assertThat(event.availableBefore()).as(event.transactionId()).isEqualTo(previous.available());
            assertThat(event.frozenBefore()).as(event.transactionId()).isEqualTo(previous.frozen());
            previous = event.balanceAfter();
        }
        assertThat(events).extracting(BalanceEvent::result).containsExactly(Result.APPLIED, Result.APPLIED,
                Result.INSUFFICIENT_FUNDS, Result.APPLIED, Result.APPLIED, Result.APPLIED);
        assertAfter(events.get(5), "0.000000", "0.000000");
    }

    // ---- idempotency ----

    @Test
    void shouldReplayAnAppliedChangeWithItsOriginalVerdictAndChangeNothing() {
        BalanceEvent original = send("d1", DEPOSIT, "BTC", "1");
        send("d2", DEPOSIT, "BTC", "2");

        BalanceEvent replay = send("d1", DEPOSIT, "BTC", "1");

        assertThat(replay).isEqualTo(original.asReplay());
        assertThat(replay.replay()).isTrue();
        assertThat(replay.movedBalance()).isFalse();
        assertStored(ACCOUNT, "BTC", "3.00000000", "0.00000000", 2);
    }

    @Test
    void shouldReplayARejectedChangeWithItsOriginalRejectionEvenWhenItWouldNowSucceed() {
        BalanceEvent original = send("w1", WITHDRAW, "BTC", "5");
        send("d1", DEPOSIT, "BTC", "10");

        BalanceEvent replay = send("w1", WITHDRAW, "BTC", "5");

        assertThat(original.result()).isEqualTo(Result.INSUFFICIENT_FUNDS);
        assertThat(replay).isEqualTo(original.asReplay());
        assertStored(ACCOUNT, "BTC", "10.00000000", "0.00000000", 1);
    }

    @Test
    void shouldReplayABalanceLimitRejectionAsTheSameRejection() {
        send("d1", DEPOSIT, "BTC", "99999999999999999999");
        BalanceEvent original = send("d2", DEPOSIT, "BTC", "1");
        send("w1", WITHDRAW, "BTC", "10");

        BalanceEvent replay = send("d2", DEPOSIT, "BTC", "1");

        assertThat(replay).isEqualTo(original.asReplay());
        assertThat(replay.result()).isEqualTo(Result.BALANCE_LIMIT_EXCEEDED);
    }

    @Test
    void shouldTreatTheSameAmountWrittenDifferentlyAsAReplayNotAConflict() {
        BalanceEvent original = send("d1", DEPOSIT, "BTC", "1.5");

        BalanceEvent replay = send("d1", DEPOSIT, "BTC", "1.50000000");

        assertThat(replay.result()).isEqualTo(Result.APPLIED);
        assertThat(replay.replay()).isTrue();
        assertThat(replay).isEqualTo(original.asReplay());
        assertStored(ACCOUNT, "BTC", "1.50000000", "0.00000000", 1);
    }

    static Stream<Arguments> conflictingReuses() {
        return Stream.of(
                Arguments.of("another amount", DEPOSIT, "BTC", "1.00000001"),
                Arguments.of("another type", WITHDRAW, "BTC", "1"),
                Arguments.of("another currency", DEPOSIT, "ETH", "1"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("conflictingReuses")
    void shouldAnswerAReusedTransactionIdWithAnotherPayloadWithAnIdempotencyConflictAndChangeNothing(
            String change, ChangeType type, String currency, String amount) {
        send("d0", DEPOSIT, "ETH", "9");
        send("d1", DEPOSIT, "BTC", "1");

        BalanceEvent conflict = send("d1", type, currency, amount);

        assertThat(conflict.result()).isEqualTo(Result.IDEMPOTENCY_CONFLICT);
        assertThat(conflict.replay()).isFalse();
        assertThat(conflict.movedBalance()).isFalse();
        assertThat(conflict.availableAfter()).isEqualTo(conflict.availableBefore());
        assertThat(conflict.frozenAfter()).isEqualTo(conflict.frozenBefore());
        assertStored(ACCOUNT, "BTC", "1.00000000", "0.00000000", 1);
        assertStored(ACCOUNT, "ETH", "9.000000000000000000", "0.000000000000000000", 1);
    }

    @Test
    void shouldStillReplayTheOriginalVerdictAfterAConflict() {
        BalanceEvent original = send("d1", DEPOSIT, "BTC", "1");
        send("d1", DEPOSIT, "BTC", "2");

        BalanceEvent replay = send("d1", DEPOSIT, "BTC", "1");

        assertThat(replay).isEqualTo(original.asReplay());
    }

    @Test
    void shouldRememberTransactionIdsPerAccount() {
        send("same", DEPOSIT, "BTC", "1");

        BalanceEvent other = fixture.send(ChangeCommand.of("same", OTHER_ACCOUNT, "BTC", WITHDRAW, BigDecimal.ONE),
                tick());

        assertThat(other.result()).isEqualTo(Result.INSUFFICIENT_FUNDS);
        assertThat(other.replay()).isFalse();
    }

    // ---- expiry of remembered ids ----

    @Test
    void shouldRememberATransactionIdUntilTheRetentionHasPassedInStreamTime() {
        BalanceEvent original = fixture.send(command("d1", DEPOSIT, "BTC", "1"), T0);

        BalanceEvent atRetention = fixture.send(command("d1", DEPOSIT, "BTC", "1"), T0 + RETENTION_MS);

        assertThat(atRetention).isEqualTo(original.asReplay());
        assertStored(ACCOUNT, "BTC", "1.00000000", "0.00000000", 1);
    }

    @Test
    void shouldForgetATransactionIdOnceStreamTimeIsPastTheRetentionSoItAppliesAgain() {
        fixture.send(command("d1", DEPOSIT, "BTC", "1"), T0);

        BalanceEvent again = fixture.send(command("d1", DEPOSIT, "BTC", "1"), T0 + RETENTION_MS + 1);

        assertThat(again.result()).isEqualTo(Result.APPLIED);
        assertThat(again.replay()).isFalse();
        assertThat(again.version()).isEqualTo(2);
        assertStored(ACCOUNT, "BTC", "2.00000000", "0.00000000", 2);
    }

    @Test
    void shouldForgetATransactionIdWhenOtherRecordsMovedStreamTimePastTheRetention() {
        fixture.send(command("d1", DEPOSIT, "BTC", "1"), T0);
        fixture.send(ChangeCommand.of("x", OTHER_ACCOUNT, "BTC", DEPOSIT, BigDecimal.ONE), T0 + RETENTION_MS + 1);

        BalanceEvent late = fixture.send(command("d1", DEPOSIT, "BTC", "1"), T0 + 1);

        assertThat(late.result()).isEqualTo(Result.APPLIED);
        assertThat(late.replay()).isFalse();
        assertStored(ACCOUNT, "BTC", "2.00000000", "0.00000000", 2);
    }

    /** A producer whose clock lags stamps old times; its verdicts must not be born past retention. */
    @Test
    void shouldReplayARetryOfACommandStampedWithAnOldTimestampInsteadOfApplyingItTwice() {
        fixture.send(ChangeCommand.of("mover", OTHER_ACCOUNT, "BTC", DEPOSIT, BigDecimal.ONE), T0 + RETENTION_MS + 10);
        fixture.send(command("d1", DEPOSIT, "BTC", "5"), T0 + RETENTION_MS + 10);

        BalanceEvent first = fixture.send(command("w1", WITHDRAW, "BTC", "2"), T0);
        BalanceEvent retry = fixture.send(command("w1", WITHDRAW, "BTC", "2"), T0);

        assertThat(first.result()).isEqualTo(Result.APPLIED);
        assertThat(first.timestampMs()).as("decided at stream time").isEqualTo(T0 + RETENTION_MS + 10);
        assertThat(retry).isEqualTo(first.asReplay());
        assertStored(ACCOUNT, "BTC", "3.00000000", "0.00000000", 2);
    }

    @Test
    void shouldNotForgetATransactionIdBecauseTheWallClockMovedOn() {
        BalanceEvent original = fixture.send(command("d1", DEPOSIT, "BTC", "1"), T0);

        fixture.driver.advanceWallClockTime(Duration.ofDays(30));
        BalanceEvent replay = fixture.send(command("d1", DEPOSIT, "BTC", "1"), T0 + 1);

        assertThat(replay).isEqualTo(original.asReplay());
        assertThat(fixture.counters.purgedTransactions()).isZero();
    }

    @Test
    void shouldReachTheSameVerdictsWhetherOrNotThePurgeRan() {
        List<BalanceEvent> withoutPurge = expirySequence(false);
        List<BalanceEvent> withPurge = expirySequence(true);

        assertThat(withPurge).isEqualTo(withoutPurge);
        assertThat(withoutPurge).extracting(BalanceEvent::result, BalanceEvent::replay).containsExactly(
                tuple(Result.APPLIED, false),
                tuple(Result.APPLIED, false),
                tuple(Result.APPLIED, false),
                tuple(Result.APPLIED, true),
                tuple(Result.APPLIED, false));
    }

    /**
     * The purge skips work while nothing can have expired, but must resume once something can:
     * after a pass that found nothing to delete, ids remembered later are still purged in time.
     */
    @Test
    void shouldKeepPurgingAcrossPassesAndSkipsWhenNothingCanHaveExpired() {
        try (DriverFixture run = DriverFixture.start(DriverFixture.settings().withDedupRetentionMs(RETENTION_MS),
                VerdictListener.NONE)) {
            Duration purgeRun = Duration.ofMillis(run.settings.purgeIntervalMs() * 2);
            run.driver.advanceWallClockTime(purgeRun);
            run.send(command("first", DEPOSIT, "BTC", "1"), T0);
            run.driver.advanceWallClockTime(purgeRun);
            run.driver.advanceWallClockTime(purgeRun);
            assertThat(run.counters.purgedTransactions()).as("nothing expired yet").isZero();

            run.send(command("second", DEPOSIT, "BTC", "1"), T0 + RETENTION_MS / 2);
            run.send(ChangeCommand.of("mover", OTHER_ACCOUNT, "BTC", DEPOSIT, BigDecimal.ONE), T0 + RETENTION_MS + 1);
            run.driver.advanceWallClockTime(purgeRun);
            assertThat(run.counters.purgedTransactions()).as("first expired").isEqualTo(1);

            run.send(ChangeCommand.of("mover2", OTHER_ACCOUNT, "BTC", DEPOSIT, BigDecimal.ONE),
                    T0 + RETENTION_MS / 2 + RETENTION_MS + 1);
            run.driver.advanceWallClockTime(purgeRun);
            assertThat(run.counters.purgedTransactions()).as("second expired too").isEqualTo(2);
            assertThat(run.accountsStore().get(StoreKeys.transactionKey(ACCOUNT, "second"))).isNull();
            assertThat(run.accountsStore().get(StoreKeys.transactionKey(OTHER_ACCOUNT, "mover"))).isNotNull();
        }
    }

    /**
     * Remembers "old" and "kept", moves stream time so that only "old" is past retention, then
     * resends both; with {@code purge} the purge punctuation runs in between and must have removed
     * exactly "old" from the store, without changing any verdict.
     */
    private List<BalanceEvent> expirySequence(boolean purge) {
        try (DriverFixture run = DriverFixture.start(DriverFixture.settings().withDedupRetentionMs(RETENTION_MS),
                VerdictListener.NONE)) {
            List<BalanceEvent> events = new ArrayList<>();
            events.add(run.send(command("old", DEPOSIT, "BTC", "1"), T0));
            events.add(run.send(command("kept", DEPOSIT, "BTC", "2"), T0 + 10));
            events.add(run.send(ChangeCommand.of("mover", OTHER_ACCOUNT, "BTC", DEPOSIT, BigDecimal.ONE),
                    T0 + 10 + RETENTION_MS));
            if (purge) {
                run.driver.advanceWallClockTime(Duration.ofMillis(run.settings.purgeIntervalMs() * 2));
                assertThat(run.counters.purgedTransactions()).as("the purge ran and removed one id").isEqualTo(1);
                assertThat(run.accountsStore().get(StoreKeys.transactionKey(ACCOUNT, "old"))).isNull();
                assertThat(run.accountsStore().get(StoreKeys.transactionKey(ACCOUNT, "kept"))).isNotNull();
            }
            events.add(run.send(command("kept", DEPOSIT, "BTC", "2"), T0 + 11));
            events.add(run.send(command("old", DEPOSIT, "BTC", "1"), T0 + 12));
            return events;
        }
    }

    // ---- commands that decode but break a rule: INVALID_COMMAND, nothing changes ----

    static Stream<Arguments> invalidCommands() {
        return Stream.of(
                Arguments.of("currency_code", ChangeCommand.of("i1", ACCOUNT, "DOGE", DEPOSIT, BigDecimal.ONE)),
                Arguments.of("amount", ChangeCommand.of("i1", ACCOUNT, "BTC", DEPOSIT, new BigDecimal("0.123456789"))),
                Arguments.of("amount", ChangeCommand.of("i1", ACCOUNT, "BTC", DEPOSIT, BigDecimal.ZERO)),
                Arguments.of("amount", ChangeCommand.of("i1", ACCOUNT, "BTC", DEPOSIT, new BigDecimal("-1"))),
                Arguments.of("amount", ChangeCommand.of("i1", ACCOUNT, "BTC", DEPOSIT, BigDecimal.TEN.pow(20))),
                Arguments.of("transaction_id", ChangeCommand.of("has space", ACCOUNT, "BTC", DEPOSIT, BigDecimal.ONE)),
                Arguments.of("transaction_id", ChangeCommand.of("", ACCOUNT, "BTC", DEPOSIT, BigDecimal.ONE)),
                Arguments.of("transaction_id", ChangeCommand.of("x".repeat(65), ACCOUNT, "BTC", DEPOSIT, BigDecimal.ONE)),
                Arguments.of("transaction_id", ChangeCommand.of("é", ACCOUNT, "BTC", DEPOSIT, BigDecimal.ONE)),
                Arguments.of("to_account_id", new ChangeCommand("i1", ACCOUNT, null, "BTC", DEPOSIT, BigDecimal.ONE,
                        OTHER_ACCOUNT, null, null)),
                Arguments.of("to_account_id", new ChangeCommand("i1", ACCOUNT, null, "BTC", TRANSFER, BigDecimal.ONE,
                        ACCOUNT, null, null)),
                Arguments.of("user_id", new ChangeCommand("i1", ACCOUNT, "u".repeat(65), "BTC", DEPOSIT,
                        BigDecimal.ONE, 0, null, null)),
                Arguments.of("description", new ChangeCommand("i1", ACCOUNT, null, "BTC", DEPOSIT, BigDecimal.ONE, 0,
                        "d".repeat(257), null)),
                Arguments.of("metadata", new ChangeCommand("i1", ACCOUNT, null, "BTC", DEPOSIT, BigDecimal.ONE, 0,
                        null, "{\"k\":\"" + "m".repeat(4100) + "\"}")),
                Arguments.of("to_account_id", new ChangeCommand("i1", ACCOUNT, null, "BTC", TRANSFER, BigDecimal.ONE,
                        0, null, null)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("invalidCommands")
    void shouldAnswerACommandThatBreaksAFieldRuleWithInvalidCommandNamingTheFieldAndChangeNothing(
            String field, ChangeCommand command) {
        send("d1", DEPOSIT, "BTC", "5");

        BalanceEvent event = fixture.send(command, tick());

        assertThat(event.result()).isEqualTo(Result.INVALID_COMMAND);
        assertThat(event.replay()).isFalse();
        assertThat(event.detail()).contains(field);
        assertThat(event.availableAfter()).isEqualTo(event.availableBefore());
        assertThat(event.frozenAfter()).isEqualTo(event.frozenBefore());
        assertStored(ACCOUNT, "BTC", "5.00000000", "0.00000000", 1);
        assertThat(fixture.storedKeys()).as("d1's balance and verdict, nothing of the invalid command")
                .containsExactly(StoreKeys.balanceKey(ACCOUNT, "BTC"), StoreKeys.transactionKey(ACCOUNT, "d1"));
    }

    @Test
    void shouldAnswerAnAccountIdThatIsNotPositiveWithInvalidCommand() {
        ChangeCommand command = ChangeCommand.of("i1", 0L, "BTC", DEPOSIT, BigDecimal.ONE);

        BalanceEvent event = fixture.send(command, tick());

        assertThat(event.result()).isEqualTo(Result.INVALID_COMMAND);
        assertThat(event.detail()).contains("account_id");
        assertThat(fixture.storedKeys()).isEmpty();
    }

    @Test
    void shouldNotRememberAnInvalidCommandSoItsIdCanStillBeUsed() {
        BalanceEvent invalid = send("i1", DEPOSIT, "BTC", "0.123456789");

        BalanceEvent valid = send("i1", DEPOSIT, "BTC", "0.12345678");

        assertThat(invalid.result()).isEqualTo(Result.INVALID_COMMAND);
        assertThat(valid.result()).isEqualTo(Result.APPLIED);
        assertThat(valid.replay()).isFalse();
    }

    // ---- records that do not decode: dead letters ----

    static Stream<Arguments> unreadableRecords() {
        byte[] good = Codecs.encodeCommand(ChangeCommand.of("d1", ACCOUNT, "BTC", DEPOSIT, BigDecimal.ONE));
        byte[] truncated = Arrays.copyOf(good, good.length - 1);
        byte[] unknownFormat = good.clone();
        unknownFormat[0] = 9;
        return Stream.of(
                Arguments.of("garbage value", key(ACCOUNT), "not a command".getBytes(StandardCharsets.UTF_8)),
                Arguments.of("empty value", key(ACCOUNT), new byte[0]),
                Arguments.of("null value", key(ACCOUNT), null),
                Arguments.of("truncated value", key(ACCOUNT), truncated),
                Arguments.of("unknown format", key(ACCOUNT), unknownFormat),
                Arguments.of("4-byte key", new byte[] {0, 0, 0, 42}, good),
                Arguments.of("9-byte key", new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 42}, good),
                Arguments.of("null key", null, good),
                Arguments.of("key of another account", key(OTHER_ACCOUNT), good));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unreadableRecords")
    void shouldSendAnUnreadableRecordToTheDeadLetterTopicWithItsBytesAndErrorHeaders(
            String what, byte[] key, byte[] value) {
        send("before", DEPOSIT, "BTC", "1");
        RecordHeaders inputHeaders = new RecordHeaders();
        inputHeaders.add("trace-id", "abc".getBytes(StandardCharsets.UTF_8));

        fixture.rawChanges.pipeInput(new TestRecord<>(key, value, inputHeaders, tick()));

        assertThat(fixture.events.isEmpty()).as("no event for an unreadable record").isTrue();
        TestRecord<byte[], byte[]> dead = fixture.dlq.readRecord();
        assertThat(dead.key()).isEqualTo(key);
        assertThat(dead.value()).isEqualTo(value);
        assertThat(header(dead, "trace-id")).isEqualTo("abc");
        assertThat(header(dead, "dlq.error.class")).isEqualTo("dev.balance.topology.codec.MalformedRecordException");
        assertThat(header(dead, "dlq.error.message")).isNotBlank();
        assertThat(header(dead, "dlq.source.topic")).isEqualTo(fixture.settings.topics().changes());
        assertThat(header(dead, "dlq.source.partition")).isEqualTo("0");
        assertThat(header(dead, "dlq.source.offset")).isEqualTo("1");
        assertThat(fixture.dlq.isEmpty()).isTrue();
        assertThat(fixture.counters.deadLetters()).isEqualTo(1);
        assertStored(ACCOUNT, "BTC", "1.00000000", "0.00000000", 1);
    }

    @Test
    void shouldProcessAGoodRecordAfterBadOnes() {
        fixture.rawChanges.pipeInput(key(ACCOUNT), new byte[] {1, 2, 3}, tick());
        fixture.rawChanges.pipeInput(new byte[] {1}, new byte[] {1}, tick());
        fixture.changes.pipeInput(ACCOUNT, Codecs.encodeCommand(command("bad", DEPOSIT, "BTC", "0.000000001")), tick());
        assertThat(Codecs.decodeEvent(fixture.events.readValue()).result()).isEqualTo(Result.INVALID_COMMAND);
        assertThat(fixture.dlq.readRecordsToList()).hasSize(2);

        BalanceEvent event = send("good", DEPOSIT, "BTC", "1");

        assertThat(event.result()).isEqualTo(Result.APPLIED);
        assertStored(ACCOUNT, "BTC", "1.00000000", "0.00000000", 1);
    }

    /**
     * Random bytes and randomly mutated valid commands: each input must end as exactly one event
     * or one dead letter, and the topology must still work afterwards. The seed is in the name of
     * the assertion so a failure can be replayed.
     */
    @Test
    void shouldNeverDieOnRandomOrMutatedRecords() {
        Random random = new Random(FUZZ_SEED);
        byte[] valid = Codecs.encodeCommand(new ChangeCommand("fuzz", ACCOUNT, "user", "BTC", DEPOSIT,
                new BigDecimal("1.5"), 0, "description", "{}"));
        for (int i = 0; i < FUZZ_RECORDS; i++) {
            byte[] value = i % 2 == 0 ? randomBytes(random, 1 + random.nextInt(80)) : mutate(random, valid);
            fixture.rawChanges.pipeInput(key(ACCOUNT), value, tick());
        }

        long events = fixture.events.getQueueSize();
        long deadLetters = fixture.dlq.getQueueSize();
        assertThat(events + deadLetters).as("seed %d: one outcome per input", FUZZ_SEED).isEqualTo(FUZZ_RECORDS);
        assertThat(deadLetters).as("seed %d: most random inputs are unreadable", FUZZ_SEED).isPositive();
        fixture.events.readRecordsToList();
        fixture.dlq.readRecordsToList();
        assertThat(send("after-fuzz", DEPOSIT, "ETH", "1").result()).isEqualTo(Result.APPLIED);
    }

    // ---- the verdict listener ----

    @Test
    void shouldTellTheListenerEachVerdictEqualToTheEmittedEvent() {
        List<BalanceEvent> heard = new ArrayList<>();
        try (DriverFixture run = DriverFixture.start(DriverFixture.settings(), heard::add)) {
            List<BalanceEvent> emitted = new ArrayList<>();
            emitted.add(run.send(command("l1", DEPOSIT, "BTC", "1"), T0));
            emitted.add(run.send(command("l2", WITHDRAW, "BTC", "2"), T0 + 1));
            emitted.add(run.send(command("l1", DEPOSIT, "BTC", "1"), T0 + 2));
            emitted.add(run.send(command("l1", DEPOSIT, "BTC", "3"), T0 + 3));
            emitted.add(run.send(command("l3", DEPOSIT, "XYZ", "1"), T0 + 4));
            run.rawChanges.pipeInput(key(ACCOUNT), new byte[] {7}, T0 + 5);

            assertThat(heard).as("one verdict per event, none for the dead letter").isEqualTo(emitted);
            assertThat(heard).extracting(BalanceEvent::result).containsExactly(Result.APPLIED,
                    Result.INSUFFICIENT_FUNDS, Result.APPLIED, Result.IDEMPOTENCY_CONFLICT, Result.INVALID_COMMAND);
        }
    }

    // ---- helpers ----

    private BalanceEvent send(String transactionId, ChangeType type, String currency, String amount) {
        return fixture.send(command(transactionId, type, currency, amount), tick());
    }

    private static ChangeCommand command(String transactionId, ChangeType type, String currency, String amount) {
        return ChangeCommand.of(transactionId, ACCOUNT, currency, type, new BigDecimal(amount));
    }

    private long tick() {
        clockMs += 1;
        return clockMs;
    }

    private void assertUnchangedRejection(BalanceEvent event, Result result, String available, String frozen,
                                          long version) {
        assertThat(event.result()).isEqualTo(result);
        assertThat(event.replay()).isFalse();
        assertThat(event.movedBalance()).isFalse();
        assertBefore(event, available, frozen);
        assertAfter(event, available, frozen);
        assertThat(event.version()).isEqualTo(version);
        assertStored(ACCOUNT, event.currency(), available, frozen, version);
    }

    private static void assertBefore(BalanceEvent event, String available, String frozen) {
        assertThat(event.availableBefore()).as("available before").isEqualTo(new BigDecimal(available));
        assertThat(event.frozenBefore()).as("frozen before").isEqualTo(new BigDecimal(frozen));
    }

    private static void assertAfter(BalanceEvent event, String available, String frozen) {
        assertThat(event.availableAfter()).as("available after").isEqualTo(new BigDecimal(available));
        assertThat(event.frozenAfter()).as("frozen after").isEqualTo(new BigDecimal(frozen));
    }

    private void assertStored(long account, String currency, String available, String frozen, long version) {
        Balance stored = fixture.storedBalance(account, currency);
        assertThat(stored).as("stored balance of %d %s", account, currency).isNotNull();
        assertThat(stored.available()).as("stored available").isEqualTo(new BigDecimal(available));
        assertThat(stored.frozen()).as("stored frozen").isEqualTo(new BigDecimal(frozen));
        assertThat(stored.version()).as("stored version").isEqualTo(version);
    }

    private static byte[] key(long account) {
        return ByteBuffer.allocate(Long.BYTES).putLong(account).array();
    }

    private static String header(TestRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        assertThat(header).as("header " + name).isNotNull();
        return new String(header.value(), StandardCharsets.UTF_8);
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        if (random.nextBoolean()) {
            bytes[0] = (byte) Codecs.COMMAND_FORMAT_V1;
        }
        return bytes;
    }

    /** Overwrites, cuts or extends a valid encoding in a few places. */
    private static byte[] mutate(Random random, byte[] valid) {
        byte[] bytes = valid.clone();
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits; e++) {
            int at = random.nextInt(bytes.length);
            switch (random.nextInt(3)) {
                case 0 -> bytes[at] = (byte) random.nextInt(256);
                case 1 -> bytes = Arrays.copyOf(bytes, Math.max(1, at));
                default -> {
                    bytes = Arrays.copyOf(bytes, bytes.length + 1);
                    bytes[bytes.length - 1] = (byte) random.nextInt(256);
                }
            }
        }
        return bytes;
    }
}
