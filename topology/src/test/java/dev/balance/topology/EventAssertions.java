package dev.balance.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.Result;

/** Compares an emitted event with the model's prediction, field by field, so a failure names the field. */
final class EventAssertions {

    private EventAssertions() {
    }

    /**
     * Balances compare exactly, scale included (they are kept at the currency's scale); the amount
     * compares by value (its scale is the subject of its own test); the wording of an
     * INVALID_COMMAND detail is free, but it must be there.
     */
    static void assertEventMatches(BalanceEvent actual, BalanceEvent expected, String where) {
        assertThat(actual.transactionId()).as(where + ": transaction id").isEqualTo(expected.transactionId());
        assertThat(actual.accountId()).as(where + ": account").isEqualTo(expected.accountId());
        assertThat(actual.currency()).as(where + ": currency").isEqualTo(expected.currency());
        assertThat(actual.type()).as(where + ": type").isEqualTo(expected.type());
        assertThat(actual.amount()).as(where + ": amount").isEqualByComparingTo(expected.amount());
        assertThat(actual.toAccountId()).as(where + ": to account").isEqualTo(expected.toAccountId());
        assertThat(actual.leg()).as(where + ": leg").isEqualTo(expected.leg());
        assertThat(actual.result()).as(where + ": result").isEqualTo(expected.result());
        assertThat(actual.replay()).as(where + ": replay").isEqualTo(expected.replay());
        assertThat(actual.availableBefore()).as(where + ": available before").isEqualTo(expected.availableBefore());
        assertThat(actual.frozenBefore()).as(where + ": frozen before").isEqualTo(expected.frozenBefore());
        assertThat(actual.availableAfter()).as(where + ": available after").isEqualTo(expected.availableAfter());
        assertThat(actual.frozenAfter()).as(where + ": frozen after").isEqualTo(expected.frozenAfter());
        assertThat(actual.version()).as(where + ": version").isEqualTo(expected.version());
        assertThat(actual.timestampMs()).as(where + ": timestamp").isEqualTo(expected.timestampMs());
        assertThat(actual.userId()).as(where + ": user id").isEqualTo(expected.userId());
        assertThat(actual.description()).as(where + ": description").isEqualTo(expected.description());
        if (expected.result() == Result.INVALID_COMMAND) {
            assertThat(actual.detail()).as(where + ": detail").isNotBlank();
        } else {
            assertThat(actual.detail()).as(where + ": detail").isNull();
        }
    }

    /** A stored balance equals the model's in value, scale, version and time of the last applied change. */
    static void assertBalanceMatches(Balance actual, Balance expected, String where) {
        assertThat(actual).as(where + ": stored balance").isNotNull();
        assertThat(actual.available()).as(where + ": stored available").isEqualTo(expected.available());
        assertThat(actual.frozen()).as(where + ": stored frozen").isEqualTo(expected.frozen());
        assertThat(actual.version()).as(where + ": stored version").isEqualTo(expected.version());
        assertThat(actual.updatedAtMs()).as(where + ": stored update time").isEqualTo(expected.updatedAtMs());
    }
}
