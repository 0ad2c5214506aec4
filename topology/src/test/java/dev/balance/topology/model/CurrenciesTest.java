package dev.balance.topology.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CurrenciesTest {

    private static final Map<String, Integer> DEFAULTS = Map.of("BTC", 8, "ETH", 18, "USDT", 6, "USDC", 6);

    @Test
    void shouldRegisterBtcEthUsdtAndUsdcByDefault() {
        assertThat(Currencies.defaults().scales()).isEqualTo(DEFAULTS);
        assertThat(Currencies.defaults().contains("DOGE")).isFalse();
        assertThat(Currencies.defaults().contains(null)).isFalse();
    }

    @Test
    void shouldAddConfiguredCurrenciesToTheDefaults() {
        Currencies currencies = Currencies.defaultsPlus("SOL:9, XRP : 6");

        assertThat(currencies.scale("SOL")).isEqualTo(9);
        assertThat(currencies.scale("XRP")).isEqualTo(6);
        assertThat(currencies.scales()).containsAllEntriesOf(DEFAULTS).hasSize(6);
    }

    @Test
    void shouldLetAConfiguredScaleOverrideADefault() {
        assertThat(Currencies.defaultsPlus("BTC:6").scale("BTC")).isEqualTo(6);
    }

    @Test
    void shouldGiveTheDefaultsForABlankOrMissingSpec() {
        assertThat(Currencies.defaultsPlus("").scales()).isEqualTo(DEFAULTS);
        assertThat(Currencies.defaultsPlus("  ").scales()).isEqualTo(DEFAULTS);
        assertThat(Currencies.defaultsPlus(null).scales()).isEqualTo(DEFAULTS);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"SOL", "SOL:", "SOL:x", "SOL:9:1", "sol:9", "S:2", "SOL:-1", "SOL:19",
            "ABCDEFGHIJKLMNOPQ:2", "SO L:2", "SOL:9,,XRP:6"})
    void shouldRefuseAMalformedSpec(String spec) {
        assertThatThrownBy(() -> Currencies.defaultsPlus(spec)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldTreatAskingForTheScaleOfAnUnknownCurrencyAsABug() {
        assertThatThrownBy(() -> Currencies.defaults().scale("DOGE")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldNotBeChangeableFromOutside() {
        assertThatThrownBy(() -> Currencies.defaults().scales().put("DOGE", 8))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
