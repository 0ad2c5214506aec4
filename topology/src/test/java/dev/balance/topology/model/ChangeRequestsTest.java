package dev.balance.topology.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ChangeRequestsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Currencies CURRENCIES = Currencies.defaults();

    private static ObjectNode validBody() {
        ObjectNode body = JSON.createObjectNode();
        body.put("transaction_id", "tx-1");
        body.put("account_id", 42);
        body.put("currency_code", "BTC");
        body.put("type", "DEPOSIT");
        body.put("amount", "1.5");
        return body;
    }

    private static ChangeRequests.Parsed parse(Consumer<ObjectNode> edit) {
        ObjectNode body = validBody();
        edit.accept(body);
        return ChangeRequests.parse(body, CURRENCIES);
    }

    @Test
    void shouldParseAValidRequestWithTheAmountAtTheCurrencyScale() {
        ChangeRequests.Parsed parsed = parse(body -> { });

        assertThat(parsed.valid()).isTrue();
        assertThat(parsed.errors()).isEmpty();
        assertThat(parsed.command()).isEqualTo(ChangeCommand.of("tx-1", 42L, "BTC", ChangeType.DEPOSIT,
                new BigDecimal("1.50000000")));
    }

    @Test
    void shouldParseTheOptionalFields() throws Exception {
        JsonNode body = JSON.readTree("""
                {"transaction_id":"tx-2","account_id":7,"currency_code":"USDT","type":"TRANSFER","amount":"3",
                 "to_account_id":8,"user_id":"u-1","description":"rent","metadata":{"order":17}}""");

        ChangeRequests.Parsed parsed = ChangeRequests.parse(body, CURRENCIES);

        assertThat(parsed.command()).isEqualTo(new ChangeCommand("tx-2", 7L, "u-1", "USDT", ChangeType.TRANSFER,
                new BigDecimal("3.000000"), 8L, "rent", "{\"order\":17}"));
    }

    @ParameterizedTest(name = "type {0}")
    @CsvSource({"0, DEPOSIT", "1, WITHDRAW", "2, FREEZE", "3, UNFREEZE", "5, SETTLE"})
    void shouldAcceptTheTypeAsANumber(int code, ChangeType expected) {
        assertThat(parse(body -> body.put("type", code)).command().type()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "type \"{0}\"")
    @CsvSource({"DEPOSIT, DEPOSIT", "withdraw, WITHDRAW", "Freeze, FREEZE", "UNFREEZE, UNFREEZE", "settle, SETTLE"})
    void shouldAcceptTheTypeAsAName(String name, ChangeType expected) {
        assertThat(parse(body -> body.put("type", name)).command().type()).isEqualTo(expected);
    }

    @Test
    void shouldRefuseAnUnknownType() {
        assertThat(parse(body -> body.put("type", 6)).errors()).containsKey("type");
        assertThat(parse(body -> body.put("type", -1)).errors()).containsKey("type");
        assertThat(parse(body -> body.put("type", "BURN")).errors()).containsKey("type");
        assertThat(parse(body -> body.put("type", 1.0)).errors()).containsKey("type");
    }

    @Test
    void shouldRefuseTheAmountAsAJsonNumber() {
        assertThat(parse(body -> body.put("amount", 1.5)).errors()).containsEntry("amount", "must be a string");
        assertThat(parse(body -> body.put("amount", 2)).errors()).containsKey("amount");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"0", "-1", "1e3", "1.123456789", "NaN", ""})
    void shouldRefuseAnInvalidAmountNamingTheField(String amount) {
        ChangeRequests.Parsed parsed = parse(body -> body.put("amount", amount));

        assertThat(parsed.valid()).isFalse();
        assertThat(parsed.errors()).containsOnlyKeys("amount");
    }

    @Test
    void shouldAcceptTheAccountIdAsAStringOfDigits() {
        assertThat(parse(body -> body.put("account_id", "9223372036854775807")).command().accountId())
                .isEqualTo(Long.MAX_VALUE);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"9223372036854775808", "99999999999999999999", "0", "-5", "12a", "", " 1", "1.0"})
    void shouldRefuseAnAccountIdStringThatIsNotAPositive64BitInteger(String accountId) {
        assertThat(parse(body -> body.put("account_id", accountId)).errors()).containsOnlyKeys("account_id");
    }

    @Test
    void shouldRefuseAnAccountIdNumberThatOverflowsOrIsNotAPositiveInteger() {
        assertThat(parse(body -> body.put("account_id", new java.math.BigInteger("9223372036854775808"))).errors())
                .containsOnlyKeys("account_id");
        assertThat(parse(body -> body.put("account_id", 0)).errors()).containsOnlyKeys("account_id");
        assertThat(parse(body -> body.put("account_id", -1)).errors()).containsOnlyKeys("account_id");
        assertThat(parse(body -> body.put("account_id", 4.5)).errors()).containsOnlyKeys("account_id");
        assertThat(parse(body -> body.put("to_account_id", new java.math.BigInteger("9223372036854775808")))
                .errors()).containsKey("to_account_id");
    }

    @Test
    void shouldRefuseMetadataThatIsNotAnObject() {
        assertThat(parse(body -> body.put("metadata", "text")).errors()).containsOnlyKeys("metadata");
        assertThat(parse(body -> body.putArray("metadata").add(1)).errors()).containsOnlyKeys("metadata");
        assertThat(parse(body -> body.put("metadata", 5)).errors()).containsOnlyKeys("metadata");
        assertThat(parse(body -> body.putNull("metadata")).valid()).isTrue();
    }

    @Test
    void shouldIgnoreUnknownFields() {
        ChangeRequests.Parsed parsed = parse(body -> {
            body.put("colour", "blue");
            body.putObject("nested").put("x", 1);
        });

        assertThat(parsed.valid()).isTrue();
    }

    @Test
    void shouldNameEveryMissingField() {
        ChangeRequests.Parsed parsed = ChangeRequests.parse(JSON.createObjectNode(), CURRENCIES);

        assertThat(parsed.errors()).containsOnlyKeys("transaction_id", "account_id", "currency_code", "type",
                "amount");
    }

    @Test
    void shouldRefuseABodyThatIsNotAnObject() throws Exception {
        assertThat(ChangeRequests.parse(JSON.readTree("[1]"), CURRENCIES).errors()).containsOnlyKeys("body");
        assertThat(ChangeRequests.parse(null, CURRENCIES).errors()).containsOnlyKeys("body");
    }

    @Test
    void shouldRefuseAnUnknownCurrencyAndABadTransactionId() {
        assertThat(parse(body -> body.put("currency_code", "DOGE")).errors()).containsOnlyKeys("currency_code");
        assertThat(parse(body -> body.put("currency_code", "btc")).errors()).containsOnlyKeys("currency_code");
        assertThat(parse(body -> body.put("transaction_id", "a b")).errors()).containsOnlyKeys("transaction_id");
        assertThat(parse(body -> body.put("transaction_id", 12)).errors()).containsOnlyKeys("transaction_id");
    }

    @Test
    void shouldRefuseAToAccountIdOnAnythingButATransfer() {
        assertThat(parse(body -> body.put("to_account_id", 43)).errors()).containsOnlyKeys("to_account_id");
    }

    @Test
    void shouldRefuseATransferWithoutATargetOrToItself() {
        assertThat(parse(body -> body.put("type", "TRANSFER")).errors()).containsOnlyKeys("to_account_id");
        assertThat(parse(body -> {
            body.put("type", 4);
            body.put("to_account_id", 42);
        }).errors()).containsOnlyKeys("to_account_id");
    }
}
