package dev.balance.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.balance.topology.model.Balance;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class ResponsesTest {

    private final ObjectMapper mapper = new ObjectMapper();
    private final Responses responses = new Responses(mapper);

    /** The text written by hand for the hot read paths must be the tree's JSON, field for field. */
    @Test
    void shouldWriteABalanceAsTextExactlyAsTheTreeDoes() throws Exception {
        Balance touched = new Balance(new BigDecimal("12.500000"), new BigDecimal("0.000001"), 7, 1_795_476_193_870L);
        Balance untouched = Balance.zero(8);

        for (Balance balance : new Balance[] {touched, untouched}) {
            String text = Responses.appendBalance(new StringBuilder(), 42L, "USDT", balance).toString();

            assertThat(mapper.readTree(text).isObject()).isTrue();
            assertThat(text).isEqualTo(responses.balance(42L, "USDT", balance).toString());
        }
    }

    @Test
    void shouldWriteAmountsAsToPlainStringDoes() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        java.util.List<BigDecimal> values = new java.util.ArrayList<>(java.util.List.of(BigDecimal.ZERO,
                new BigDecimal("0.00000000"), new BigDecimal("-0.5"), new BigDecimal("1E+3"), new BigDecimal("123"),
                new BigDecimal("0.000000000000000001"), new BigDecimal("999999999999999999"),
                new BigDecimal("99999999999999999999.12345678"), new BigDecimal("0.1234567890123456789")));
        for (int i = 0; i < 20_000; i++) {
            long unscaled = random.nextLong() / POWERS[random.nextInt(POWERS.length)];
            values.add(BigDecimal.valueOf(unscaled, random.nextInt(0, 19)));
        }
        for (BigDecimal value : values) {
            assertThat(Responses.appendPlain(new StringBuilder("x"), value).toString()).as(value.toString())
                    .isEqualTo("x" + value.toPlainString());
        }
    }

    private static final long[] POWERS = {1L, 10L, 1_000L, 1_000_000L, 1_000_000_000L, 1_000_000_000_000L};

    @Test
    void shouldWriteTimesAsInstantToStringDoes() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        java.util.List<Long> times = new java.util.ArrayList<>(java.util.List.of(0L, 1L, 999L, 1000L, 86_399_999L,
                951_782_400_000L, 1_795_476_193_870L, 1_795_476_193_000L, 253_402_300_799_999L, 253_402_300_800_000L, -1L));
        for (int i = 0; i < 20_000; i++) {
            times.add(random.nextLong(0, 4_102_444_800_000L));
        }
        for (long ms : times) {
            assertThat(Responses.appendInstant(new StringBuilder(), ms).toString()).as(Long.toString(ms))
                    .isEqualTo(java.time.Instant.ofEpochMilli(ms).toString());
        }
    }
}
