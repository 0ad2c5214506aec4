package dev.balance.topology.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class AmountsTest {

    private static final int BTC = 8;

    @ParameterizedTest(name = "\"{0}\" at scale {1} is {2}")
    @CsvSource({
            "1, 8, 1.00000000",
            "0.00000001, 8, 0.00000001",
            "1.5, 8, 1.50000000",
            "1.50000000, 8, 1.50000000",
            "007, 6, 7.000000",
            "99999999999999999999.99999999, 8, 99999999999999999999.99999999",
            "12345678901234567890.123456789012345678, 18, 12345678901234567890.123456789012345678",
            "0.000000000000000001, 18, 0.000000000000000001",
            "42, 0, 42"})
    void shouldAcceptAPositivePlainDecimalAndReturnItAtTheCurrencyScale(String text, int scale, String expected) {
        BigDecimal amount = Amounts.parse(text, scale);

        assertThat(amount).isEqualTo(new BigDecimal(expected));
        assertThat(amount.scale()).isEqualTo(scale);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"0", "0.0", "0.00000000", "-1", "1e5", "1E5", "NaN", "Infinity", " 1", "1 ", "1.", ".5",
            "+1", "1,5", "0x10", "١", "", "1.000000001", "0.000000001"})
    void shouldRefuseAnythingButAStrictlyPositivePlainDecimalWithinTheScale(String text) {
        assertThatThrownBy(() -> Amounts.parse(text, BTC)).isInstanceOf(Amounts.InvalidAmountException.class);
    }

    @Test
    void shouldRefuseNull() {
        assertThatThrownBy(() -> Amounts.parse(null, BTC)).isInstanceOf(Amounts.InvalidAmountException.class);
    }

    @Test
    void shouldNameTheScaleWhenThereAreTooManyDecimals() {
        assertThatThrownBy(() -> Amounts.parse("1.123456789", BTC)).hasMessageContaining("8 decimal places");
    }

    @Test
    void shouldRefuseThirtyNineSignificantDigits() {
        String thirtyNine = "1." + "2".repeat(38);
        String thirtyEight = "1." + "2".repeat(37);

        assertThatThrownBy(() -> Amounts.parse(thirtyNine, 38)).hasMessageContaining("significant digits");
        assertThat(Amounts.parse(thirtyEight, 38)).isEqualTo(new BigDecimal(thirtyEight + "0"));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"100000000000000000000", "100000000000000000000.00000000", "123456789012345678901"})
    void shouldRefuseAmountsAtOrAboveTenToTheTwenty(String text) {
        assertThatThrownBy(() -> Amounts.parse(text, BTC)).hasMessageContaining("10^20");
    }

    @Test
    void shouldRefuseATextLongerThanTheLimitBeforeParsingIt() {
        String longText = "1" + "0".repeat(Amounts.TEXT_LENGTH_MAX);

        assertThatThrownBy(() -> Amounts.parse(longText, BTC)).hasMessageContaining("characters");
    }

    @Test
    void shouldCheckAnAmountThatIsAlreadyANumberWithTheSameRules() {
        assertThat(Amounts.check(new BigDecimal("2.5"), BTC)).isEqualTo(new BigDecimal("2.50000000"));
        assertThat(Amounts.check(new BigDecimal("1E+2"), BTC)).isEqualTo(new BigDecimal("100.00000000"));
        assertThatThrownBy(() -> Amounts.check(BigDecimal.ZERO, BTC)).hasMessageContaining("greater than zero");
        assertThatThrownBy(() -> Amounts.check(new BigDecimal("-0.1"), BTC)).hasMessageContaining("greater than zero");
        assertThatThrownBy(() -> Amounts.check(new BigDecimal("0.123456789"), BTC)).hasMessageContaining("decimal");
        assertThatThrownBy(() -> Amounts.check(BigDecimal.TEN.pow(20), BTC)).hasMessageContaining("10^20");
    }
}
