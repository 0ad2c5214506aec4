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
}
