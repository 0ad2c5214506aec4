package dev.balance.topology;

import static dev.balance.topology.model.ChangeType.DEPOSIT;
import static dev.balance.topology.model.ChangeType.FREEZE;
import static dev.balance.topology.model.ChangeType.SETTLE;
import static dev.balance.topology.model.ChangeType.TRANSFER;
import static dev.balance.topology.model.ChangeType.WITHDRAW;
import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.Amounts;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Leg;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TRANSFER and SETTLE with a destination through the real topology: the debit decided on the
 * source, the credit leg routed back through {@code balance-changes} to the destination (the
 * driver processes it right after the debit, as one partition would), and the refund leg.
 */
class TransferTopologyTest {

    private static final long ALICE = 42L;
    private static final long BOB = 43L;
    private static final long CAROL = 44L;
    private static final long T0 = 1_900_000_000_000L;

    private DriverFixture fixture;
    private final List<BalanceEvent> verdicts = new ArrayList<>();
    private long clockMs = T0;

    @BeforeEach
    void startDriver() {
        fixture = DriverFixture.start(DriverFixture.settings(), verdicts::add);
    }

    @AfterEach
    void closeDriver() {
        fixture.close();
    }

    @Test
    void shouldDebitTheSourceAndCreditTheDestinationOfATransferWithOneEventPerLeg() {
        deposit(ALICE, "d1", "10");

        List<BalanceEvent> events = send(transfer("t1", ALICE, BOB, "4"));

        assertThat(events).hasSize(2);
        BalanceEvent debit = events.get(0);
        assertThat(debit.accountId()).isEqualTo(ALICE);
        assertThat(debit.leg()).isEqualTo(Leg.DEBIT);
        assertThat(debit.result()).isEqualTo(Result.APPLIED);
        assertThat(debit.toAccountId()).isEqualTo(BOB);
        assertThat(debit.availableAfter()).isEqualByComparingTo("6");
        BalanceEvent credit = events.get(1);
        assertThat(credit.accountId()).isEqualTo(BOB);
        assertThat(credit.leg()).isEqualTo(Leg.CREDIT);
        assertThat(credit.result()).isEqualTo(Result.APPLIED);
        assertThat(credit.transactionId()).isEqualTo("t1");
        assertThat(credit.toAccountId()).as("a credit names its source").isEqualTo(ALICE);
        assertThat(credit.type()).isEqualTo(TRANSFER);
        assertThat(credit.availableBefore()).isEqualByComparingTo("0");
        assertThat(credit.availableAfter()).isEqualByComparingTo("4");
        assertThat(credit.version()).isEqualTo(1);
        assertStored(ALICE, "6", "0", 2);
        assertStored(BOB, "4", "0", 1);
    }

    @Test
    void shouldRejectATransferBeyondAvailableWithInsufficientFundsAndSendNoCredit() {
        deposit(ALICE, "d1", "1");

        List<BalanceEvent> events = send(transfer("t1", ALICE, BOB, "1.00000001"));

        assertThat(events).singleElement().satisfies(debit -> {
            assertThat(debit.result()).isEqualTo(Result.INSUFFICIENT_FUNDS);
            assertThat(debit.leg()).isEqualTo(Leg.DEBIT);
            assertThat(debit.toAccountId()).isEqualTo(BOB);
        });
        assertStored(ALICE, "1", "0", 1);
        assertThat(fixture.storedBalance(BOB, "BTC")).isNull();
    }

    @Test
    void shouldNotTakeFrozenFundsForATransfer() {
        deposit(ALICE, "d1", "5");
        send(ChangeCommand.of("f1", ALICE, "BTC", FREEZE, new BigDecimal("4")));

        List<BalanceEvent> events = send(transfer("t1", ALICE, BOB, "2"));

        assertThat(events).singleElement().extracting(BalanceEvent::result).isEqualTo(Result.INSUFFICIENT_FUNDS);
    }

    @Test
    void shouldReplayARetriedTransferWithItsVerdictAndSendNoSecondCredit() {
        deposit(ALICE, "d1", "10");
        send(transfer("t1", ALICE, BOB, "4"));

        List<BalanceEvent> retry = send(transfer("t1", ALICE, BOB, "4"));

        assertThat(retry).singleElement().satisfies(replay -> {
            assertThat(replay.replay()).isTrue();
            assertThat(replay.result()).isEqualTo(Result.APPLIED);
            assertThat(replay.leg()).isEqualTo(Leg.DEBIT);
            assertThat(replay.availableAfter()).isEqualByComparingTo("6");
        });
        assertStored(ALICE, "6", "0", 2);
        assertStored(BOB, "4", "0", 1);
    }

    @Test
    void shouldAnswerAReusedIdWithAnotherDestinationWithAConflict() {
        deposit(ALICE, "d1", "10");
        send(transfer("t1", ALICE, BOB, "4"));

        List<BalanceEvent> other = send(transfer("t1", ALICE, CAROL, "4"));

        assertThat(other).singleElement().extracting(BalanceEvent::result).isEqualTo(Result.IDEMPOTENCY_CONFLICT);
        assertThat(fixture.storedBalance(CAROL, "BTC")).isNull();
        assertStored(ALICE, "6", "0", 2);
    }

    @Test
    void shouldRefuseATransferToItself() {
        deposit(ALICE, "d1", "10");

        List<BalanceEvent> events = send(transfer("t1", ALICE, ALICE, "4"));

        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.result()).isEqualTo(Result.INVALID_COMMAND);
            assertThat(event.detail()).contains("to_account_id");
        });
        assertStored(ALICE, "10", "0", 1);
    }

    @Test
    void shouldRefuseATransferWithoutADestination() {
        List<BalanceEvent> events = send(transfer("t1", ALICE, 0L, "4"));

        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.result()).isEqualTo(Result.INVALID_COMMAND);
            assertThat(event.detail()).contains("to_account_id");
        });
    }

    @Test
    void shouldKeepACreditLegApartFromTheDestinationsOwnChangeWithTheSameTransactionId() {
        deposit(ALICE, "d1", "10");
        deposit(BOB, "t1", "1");

        List<BalanceEvent> events = send(transfer("t1", ALICE, BOB, "4"));

        assertThat(events).extracting(BalanceEvent::result).containsExactly(Result.APPLIED, Result.APPLIED);
        assertThat(events.get(1).replay()).as("the credit is not mistaken for Bob's own t1").isFalse();
        assertStored(BOB, "5", "0", 2);
        // And Bob's own t1 still replays as his deposit.
        List<BalanceEvent> bobsRetry = send(ChangeCommand.of("t1", BOB, "BTC", DEPOSIT, BigDecimal.ONE));
        assertThat(bobsRetry).singleElement().satisfies(replay -> {
            assertThat(replay.replay()).isTrue();
            assertThat(replay.type()).isEqualTo(DEPOSIT);
        });
    }

    @Test
    void shouldCreditTwoSourcesThatUseTheSameTransactionIdOnceEach() {
        deposit(ALICE, "d1", "10");
        deposit(CAROL, "d1", "10");

        send(transfer("same", ALICE, BOB, "1"));
        send(transfer("same", CAROL, BOB, "2"));

        assertStored(BOB, "3", "0", 2);
    }

    @Test
    void shouldApplyACreditLegDeliveredTwiceOnlyOnce() {
        deposit(ALICE, "d1", "10");
        List<BalanceEvent> events = send(transfer("t1", ALICE, BOB, "4"));
        ChangeCommand credit = new ChangeCommand("t1", BOB, null, "BTC", TRANSFER, new BigDecimal("4.00000000"),
                ALICE, null, null, Leg.CREDIT, events.get(0).version());

        List<BalanceEvent> again = send(credit);

        assertThat(again).singleElement().satisfies(replay -> {
            assertThat(replay.replay()).isTrue();
            assertThat(replay.leg()).isEqualTo(Leg.CREDIT);
        });
        assertStored(BOB, "4", "0", 1);
    }

    @Test
    void shouldApplyACreditAndALocalChangeToTheSameAccountInLogOrder() {
        deposit(ALICE, "d1", "10");

        send(transfer("t1", ALICE, BOB, "4"));
        List<BalanceEvent> withdrawal = send(ChangeCommand.of("w1", BOB, "BTC", WITHDRAW, new BigDecimal("3")));

        assertThat(withdrawal).singleElement().extracting(BalanceEvent::result).isEqualTo(Result.APPLIED);
        assertStored(BOB, "1", "0", 2);
    }

    @Test
    void shouldRefundACreditThatWouldPassTheBalanceLimitToTheSource() {
        BigDecimal nearLimit = Amounts.BALANCE_LIMIT.subtract(BigDecimal.ONE);
        send(ChangeCommand.of("d1", BOB, "BTC", DEPOSIT, nearLimit));
        deposit(ALICE, "d1", "10");

        List<BalanceEvent> events = send(transfer("t1", ALICE, BOB, "4"));

        assertThat(events).extracting(BalanceEvent::accountId, BalanceEvent::leg, BalanceEvent::result)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(ALICE, Leg.DEBIT, Result.APPLIED),
                        org.assertj.core.groups.Tuple.tuple(BOB, Leg.CREDIT, Result.BALANCE_LIMIT_EXCEEDED),
                        org.assertj.core.groups.Tuple.tuple(ALICE, Leg.REFUND, Result.APPLIED));
        BalanceEvent refund = events.get(2);
        assertThat(refund.toAccountId()).as("a refund names who refused").isEqualTo(BOB);
        assertThat(refund.availableAfter()).isEqualByComparingTo("10");
        assertStored(ALICE, "10", "0", 3);
        assertStored(BOB, nearLimit.toPlainString(), "0", 1);
        assertThat(verdicts).as("the client heard the debit's verdict; legs are nobody's verdict to wait for")
                .filteredOn(event -> event.transactionId().equals("t1") && !event.leg().internal())
                .singleElement().extracting(BalanceEvent::leg).isEqualTo(Leg.DEBIT);
    }

    @Test
    void shouldLetABalanceARefundBroughtPastTheLimitBeDrawnDown() {
        // Alice is funded just under the limit while a refund of hers is on its way; it is never refused.
        send(ChangeCommand.of("d1", ALICE, "BTC", DEPOSIT, Amounts.BALANCE_LIMIT.subtract(BigDecimal.ONE)));
        List<BalanceEvent> refund = send(new ChangeCommand("t1", ALICE, null, "BTC", TRANSFER,
                new BigDecimal("4.00000000"), BOB, null, null, Leg.REFUND, 7));

        List<BalanceEvent> withdrawal = send(ChangeCommand.of("w1", ALICE, "BTC", WITHDRAW, BigDecimal.ONE));

        assertThat(refund).singleElement().extracting(BalanceEvent::result).isEqualTo(Result.APPLIED);
        assertThat(withdrawal).singleElement().extracting(BalanceEvent::result).isEqualTo(Result.APPLIED);
        assertThat(fixture.storedBalance(ALICE, "BTC").available())
                .isEqualByComparingTo(Amounts.BALANCE_LIMIT.add(new BigDecimal("2")));
    }

    @Test
    void shouldSettleHeldFundsToTheDestinationsAvailable() {
        deposit(ALICE, "d1", "10");
        send(ChangeCommand.of("f1", ALICE, "BTC", FREEZE, new BigDecimal("6")));

        List<BalanceEvent> events = send(settleTo("s1", ALICE, BOB, "5"));

        assertThat(events).extracting(BalanceEvent::leg, BalanceEvent::result)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(Leg.DEBIT, Result.APPLIED),
                        org.assertj.core.groups.Tuple.tuple(Leg.CREDIT, Result.APPLIED));
        assertThat(events.get(1).type()).isEqualTo(SETTLE);
        assertStored(ALICE, "4", "1", 3);
        assertStored(BOB, "5", "0", 1);
    }

    @Test
    void shouldRejectASettleToBeyondFrozenWithInsufficientFrozenAndSendNoCredit() {
        deposit(ALICE, "d1", "10");
        send(ChangeCommand.of("f1", ALICE, "BTC", FREEZE, new BigDecimal("1")));

        List<BalanceEvent> events = send(settleTo("s1", ALICE, BOB, "2"));

        assertThat(events).singleElement().extracting(BalanceEvent::result).isEqualTo(Result.INSUFFICIENT_FROZEN);
        assertThat(fixture.storedBalance(BOB, "BTC")).isNull();
    }

    @Test
    void shouldRefundARefusedSettleToTheSourcesFrozenWhereItCameFrom() {
        send(ChangeCommand.of("d1", BOB, "BTC", DEPOSIT, Amounts.BALANCE_LIMIT.subtract(BigDecimal.ONE)));
        deposit(ALICE, "d1", "10");
        send(ChangeCommand.of("f1", ALICE, "BTC", FREEZE, new BigDecimal("6")));

        List<BalanceEvent> events = send(settleTo("s1", ALICE, BOB, "5"));

        assertThat(events).extracting(BalanceEvent::leg).containsExactly(Leg.DEBIT, Leg.CREDIT, Leg.REFUND);
        assertStored(ALICE, "4", "6", 4);
    }

    @Test
    void shouldKeepASettleWithoutADestinationAsOneLegThatRemovesHeldFunds() {
        deposit(ALICE, "d1", "10");
        send(ChangeCommand.of("f1", ALICE, "BTC", FREEZE, new BigDecimal("6")));

        List<BalanceEvent> events = send(ChangeCommand.of("s1", ALICE, "BTC", SETTLE, new BigDecimal("5")));

        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.leg()).isEqualTo(Leg.NONE);
            assertThat(event.result()).isEqualTo(Result.APPLIED);
        });
        assertStored(ALICE, "4", "1", 3);
    }

    @Test
    void shouldRememberTheCreditLegUnderItsOwnNamespacedKeyOnTheDestination() {
        deposit(ALICE, "d1", "10");

        List<BalanceEvent> events = send(transfer("t1", ALICE, BOB, "4"));

        assertThat(fixture.storedKeys())
                .contains(StoreKeys.creditLegKey(BOB, "t1", ALICE, "BTC", events.get(0).version()))
                .doesNotContain(StoreKeys.transactionKey(BOB, "t1"));
    }

    @Test
    void shouldConserveEachCurrencyAcrossTransfersBothWays() {
        deposit(ALICE, "d1", "10");
        deposit(BOB, "d1", "10");
        for (int i = 0; i < 20; i++) {
            send(transfer("a" + i, ALICE, BOB, "0.7"));
            send(transfer("b" + i, BOB, ALICE, "1.3"));
        }

        BigDecimal total = fixture.storedBalance(ALICE, "BTC").available()
                .add(fixture.storedBalance(BOB, "BTC").available());
        assertThat(total).isEqualByComparingTo("20");
    }

    @Test
    void shouldRefuseADebitLegWrittenByAnyoneButTheProcessorAsADeadLetter() {
        ChangeCommand forged = new ChangeCommand("t1", BOB, null, "BTC", TRANSFER, BigDecimal.ONE, ALICE, null, null,
                Leg.DEBIT, 1);

        fixture.changes.pipeInput(BOB, Codecs.encodeCommand(forged), tick());

        assertThat(fixture.dlq.getQueueSize()).isEqualTo(1);
        assertThat(fixture.events.isEmpty()).isTrue();
    }

    // ---- helpers ----

    private void deposit(long account, String transactionId, String amount) {
        assertThat(send(ChangeCommand.of(transactionId, account, "BTC", DEPOSIT, new BigDecimal(amount))))
                .singleElement().extracting(BalanceEvent::result).isEqualTo(Result.APPLIED);
    }

    private static ChangeCommand transfer(String transactionId, long from, long to, String amount) {
        return twoLeg(transactionId, TRANSFER, from, to, amount);
    }

    private static ChangeCommand settleTo(String transactionId, long from, long to, String amount) {
        return twoLeg(transactionId, SETTLE, from, to, amount);
    }

    private static ChangeCommand twoLeg(String transactionId, ChangeType type, long from, long to, String amount) {
        return new ChangeCommand(transactionId, from, null, "BTC", type, new BigDecimal(amount), to, null, null);
    }

    /** Sends a command and returns every event it led to, legs included, in the order they were decided. */
    private List<BalanceEvent> send(ChangeCommand command) {
        return fixture.sendAll(command, tick());
    }

    private long tick() {
        clockMs += 1;
        return clockMs;
    }

    private void assertStored(long account, String available, String frozen, long version) {
        Balance stored = fixture.storedBalance(account, "BTC");
        assertThat(stored).as("stored balance of %d", account).isNotNull();
        assertThat(stored.available()).as("available of %d", account).isEqualByComparingTo(available);
        assertThat(stored.frozen()).as("frozen of %d", account).isEqualByComparingTo(frozen);
        assertThat(stored.version()).as("version of %d", account).isEqualTo(version);
    }
}
