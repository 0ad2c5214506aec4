package dev.balance.sink.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class SnapshotValueTest {

    @Test
    void shouldEncodeVersionFirstThenPlainAmountsAtTheirScaleThenTheTime() {
        SnapshotValue value = new SnapshotValue(7, new BigDecimal("1.50000000"), new BigDecimal("0.25000000"),
                1_732_350_000_000L);

        assertThat(value.encode()).isEqualTo("7|1.50000000|0.25000000|1732350000000");
    }

    @Test
    void shouldNeverWriteAnExponentEvenForTinyOrHugeAmounts() {
        SnapshotValue value = new SnapshotValue(1, new BigDecimal("0.000000000000000001"),
                new BigDecimal("99999999999999999999.000000"), 0);

        assertThat(value.encode()).isEqualTo("1|0.000000000000000001|99999999999999999999.000000|0");
    }

    @Test
    void shouldDecodeWhatItEncodesKeepingTheScale() {
        SnapshotValue value = new SnapshotValue(12, new BigDecimal("3.100000"), new BigDecimal("0.000000"), 5);

        SnapshotValue decoded = SnapshotValue.decode(value.encode());

        assertThat(decoded).isEqualTo(value);
        assertThat(decoded.available().scale()).isEqualTo(6);
    }

    @Test
    void shouldIgnorePartsAddedAfterTheKnownOnes() {
        assertThat(SnapshotValue.decode("3|1.0|2.0|99|something-new").version()).isEqualTo(3);
    }

    @Test
    void shouldRefuseAValueWithMissingOrMalformedParts() {
        assertThatThrownBy(() -> SnapshotValue.decode("3|1.0|2.0")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SnapshotValue.decode("x|1.0|2.0|4")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldNameTheHashAfterTheAccountBehindThePrefix() {
        assertThat(SnapshotValue.key("", 42)).isEqualTo("balance:42");
        assertThat(SnapshotValue.key("prod:", 42)).isEqualTo("prod:balance:42");
    }

    @Test
    void shouldFailLoudlyOnANegativeBalance() {
        assertThatThrownBy(() -> new SnapshotValue(1, new BigDecimal("-1"), BigDecimal.ZERO, 0))
                .isInstanceOf(IllegalStateException.class);
    }
}
