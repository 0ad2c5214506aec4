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
            String text = new JsonText(8).balance(42L, "USDT", balance).toString();

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
            assertThat(new JsonText(1).append('x').plain(value).toString()).as(value.toString())
                    .isEqualTo("x" + value.toPlainString());
        }
    }

    @Test
    void shouldWriteNumbersAndTextAsTheirStringsAre() {
        JsonText text = new JsonText(1);
        for (long value : new long[] {0, 7, -7, 10, 999_999_999_999_999_999L, 1_000_000_000_000_000_000L, Long.MAX_VALUE,
                Long.MIN_VALUE}) {
            text.append(value).append(' ');
        }
        text.append("é ü").append('!');
        assertThat(text.toString()).isEqualTo("0 7 -7 10 999999999999999999 1000000000000000000 " + Long.MAX_VALUE + " "
                + Long.MIN_VALUE + " é ü!");
        int kept = text.length();
        text.append("more");
        text.truncate(kept);
        assertThat(new String(text.toBytes("[", "]"), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo("[" + text + "]");
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
            assertThat(new JsonText(1).instant(ms).toString()).as(Long.toString(ms))
                    .isEqualTo(java.time.Instant.ofEpochMilli(ms).toString());
        }
    }
}
