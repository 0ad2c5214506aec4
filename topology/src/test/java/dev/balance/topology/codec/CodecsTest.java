package dev.balance.topology.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Leg;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CodecsTest {

    private static final long FUZZ_SEED = 0x5EED_C0DECL;
    private static final int FUZZ_ROUNDS = 30_000;
    private static final int FUZZ_LENGTH_MAX = 120;

    /** 10^28 - 1: far beyond 63 bits, as ETH balances in wei-scale are. */
    private static final BigDecimal HUGE = new BigDecimal("99999999999999999999.99999999");

    private static ChangeCommand fullCommand() {
        return new ChangeCommand("tx-1:a.b_c", Long.MAX_VALUE, "user-7", "ETH", ChangeType.TRANSFER,
                new BigDecimal("12345678901234567890.123456789012345678"), 9L, "déscription ✓", "{\"k\":[1,2]}");
    }

    private static BalanceEvent fullEvent() {
        return new BalanceEvent("tx-9", 7L, "BTC", ChangeType.SETTLE, HUGE, 0L, Result.BALANCE_LIMIT_EXCEEDED, true,
                HUGE, new BigDecimal("0.00000001"), new BigDecimal("0E-8"), HUGE, Long.MAX_VALUE, -1L, "u", "d",
                "detail");
    }

    @Test
    void shouldRoundTripACommandWithEveryField() {
        ChangeCommand command = fullCommand();

        assertThat(Codecs.decodeCommand(Codecs.encodeCommand(command))).isEqualTo(command);
    }

    @Test
    void shouldRoundTripTheLegsOfTwoAccountChanges() {
        ChangeCommand credit = new ChangeCommand("t1", 43L, null, "BTC", ChangeType.TRANSFER, new BigDecimal("4.00000000"),
                42L, "rent", null, Leg.CREDIT, 300_000_000_000L);
        BalanceEvent refund = new BalanceEvent("t1", 42L, "BTC", ChangeType.SETTLE, BigDecimal.ONE, 43L, Result.APPLIED,
                false, BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.ONE, 3L, 5L, null, null, null,
                Leg.REFUND);

        assertThat(Codecs.decodeCommand(Codecs.encodeCommand(credit))).isEqualTo(credit);
        assertThat(Codecs.decodeEvent(Codecs.encodeEvent(refund))).isEqualTo(refund);
    }

    /**
     * One-account changes are written in format 1, which the release before transfers reads (nodes
     * and sinks mid-upgrade), and format 1 reads back as a one-account change; only legs use format 2.
     */
    @Test
    void shouldWriteOneAccountChangesInFormatOneAndLegsInFormatTwo() {
        ChangeCommand command = ChangeCommand.of("t", 1L, "BTC", ChangeType.DEPOSIT, new BigDecimal("1.5"));
        BalanceEvent event = fullEvent();
        ChangeCommand credit = new ChangeCommand("t", 2L, null, "BTC", ChangeType.TRANSFER, BigDecimal.ONE, 1L, null,
                null, Leg.CREDIT, 3L);
        BalanceEvent debit = new BalanceEvent("t", 1L, "BTC", ChangeType.TRANSFER, BigDecimal.ONE, 2L, Result.APPLIED,
                false, BigDecimal.ONE, BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.ZERO, 3L, 5L, null, null, null,
                Leg.DEBIT);

        assertThat(Codecs.encodeCommand(command)[0]).isEqualTo((byte) Codecs.COMMAND_FORMAT_V1);
        assertThat(Codecs.encodeEvent(event)[0]).isEqualTo((byte) Codecs.EVENT_FORMAT_V1);
        assertThat(Codecs.encodeCommand(credit)[0]).isEqualTo((byte) Codecs.COMMAND_FORMAT_V2);
        assertThat(Codecs.encodeEvent(debit)[0]).isEqualTo((byte) Codecs.EVENT_FORMAT_V2);
        assertThat(Codecs.decodeCommand(Codecs.encodeCommand(command)).leg()).isEqualTo(Leg.NONE);
        assertThat(Codecs.decodeEvent(Codecs.encodeEvent(event))).isEqualTo(event);
        assertThat(Codecs.decodeEvent(Codecs.encodeEvent(debit))).isEqualTo(debit);
    }

    @Test
    void shouldRefuseAnUnknownLegAsMalformed() {
        byte[] bytes = Codecs.encodeEvent(new BalanceEvent("t", 1L, "BTC", ChangeType.TRANSFER, BigDecimal.ONE, 2L,
                Result.APPLIED, false, BigDecimal.ONE, BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.ZERO, 3L, 5L, null,
                null, null, Leg.DEBIT));
        bytes[bytes.length - 1] = 9;

        assertThatThrownBy(() -> Codecs.decodeEvent(bytes)).isInstanceOf(MalformedRecordException.class)
                .hasMessageContaining("leg");
    }

    @Test
    void shouldRoundTripACommandWithoutItsOptionalFields() {
        ChangeCommand command = ChangeCommand.of("t", 1L, "BTC", ChangeType.DEPOSIT, new BigDecimal("1.5"));

        ChangeCommand decoded = Codecs.decodeCommand(Codecs.encodeCommand(command));

        assertThat(decoded).isEqualTo(command);
        assertThat(decoded.userId()).isNull();
        assertThat(decoded.description()).isNull();
        assertThat(decoded.metadata()).isNull();
        assertThat(decoded.amount().scale()).as("the scale travels unchanged").isEqualTo(1);
    }

    @Test
    void shouldRoundTripAnEventWithAmountsBeyond63Bits() {
        BalanceEvent event = fullEvent();

        assertThat(Codecs.decodeEvent(Codecs.encodeEvent(event))).isEqualTo(event);
    }

    @Test
    void shouldRoundTripAnEventWithoutItsOptionalFields() {
        BalanceEvent event = new BalanceEvent("t", 1L, "USDT", ChangeType.DEPOSIT, BigDecimal.ONE, 0L, Result.APPLIED,
                false, BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.ONE, BigDecimal.ZERO, 1L, 0L, null, null, null);

        assertThat(Codecs.decodeEvent(Codecs.encodeEvent(event))).isEqualTo(event);
    }

    @Test
    void shouldRoundTripEveryResultAndEveryType() {
        for (Result result : Result.values()) {
            for (ChangeType type : ChangeType.values()) {
                BalanceEvent event = new BalanceEvent("t", 1L, "BTC", type, BigDecimal.ONE, 0L, result, false,
                        BigDecimal.ONE, BigDecimal.ZERO, BigDecimal.ONE, BigDecimal.ZERO, 3L, 5L, null, null, null);
                assertThat(Codecs.decodeEvent(Codecs.encodeEvent(event))).isEqualTo(event);
            }
        }
    }

    @Test
    void shouldRoundTripBalancesFromZeroToBeyond63Bits() {
        List<Balance> balances = List.of(Balance.zero(8), Balance.zero(0), Balance.zero(18),
                new Balance(HUGE, HUGE, Long.MAX_VALUE, Long.MIN_VALUE),
                new Balance(new BigDecimal("99999999999999999999.999999999999999999"), BigDecimal.ONE, 1, 1));

        for (Balance balance : balances) {
            assertThat(Codecs.decodeBalance(Codecs.encodeBalance(balance))).isEqualTo(balance);
        }
    }

    /** The decimal encoding switches form at 63 bits; both sides of the switch and both signs must survive. */
    @Test
    void shouldRoundTripDecimalsAroundThe63BitBoundaryExactlyWithTheirScale() {
        List<BigInteger> unscaled = List.of(BigInteger.ZERO, BigInteger.ONE, BigInteger.ONE.negate(),
                BigInteger.TWO.pow(62).subtract(BigInteger.ONE), BigInteger.TWO.pow(62),
                BigInteger.valueOf(Long.MAX_VALUE), BigInteger.valueOf(Long.MIN_VALUE),
                BigInteger.TWO.pow(63), BigInteger.TEN.pow(38), BigInteger.TEN.pow(38).negate());
        for (BigInteger value : unscaled) {
            for (int scale : new int[] {-3, 0, 8, 18, 64}) {
                BigDecimal amount = new BigDecimal(value, scale);
                Balance balance = new Balance(amount.abs(), BigDecimal.ZERO, 0, 0);
                BalanceEvent event = new BalanceEvent("t", 1L, "BTC", ChangeType.DEPOSIT, amount, 0L, Result.APPLIED,
                        false, amount, amount, amount, amount, 0L, 0L, null, null, null);

                assertThat(Codecs.decodeBalance(Codecs.encodeBalance(balance)).available())
                        .as("%s scale %d", value, scale).isEqualTo(balance.available());
                assertThat(Codecs.decodeEvent(Codecs.encodeEvent(event)).amount())
                        .as("%s scale %d", value, scale).isEqualTo(amount);
            }
        }
    }

    // ---- malformed input ----

    static Stream<Arguments> decoders() {
        return Stream.of(
                Arguments.of("command", (Function<byte[], Object>) Codecs::decodeCommand,
                        Codecs.encodeCommand(fullCommand())),
                Arguments.of("event", (Function<byte[], Object>) Codecs::decodeEvent, Codecs.encodeEvent(fullEvent())),
                Arguments.of("balance", (Function<byte[], Object>) Codecs::decodeBalance,
                        Codecs.encodeBalance(new Balance(HUGE, BigDecimal.ONE, 5, 6))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decoders")
    void shouldRefuseEveryTruncationAsMalformed(String what, Function<byte[], Object> decoder, byte[] valid) {
        for (int length = 0; length < valid.length; length++) {
            byte[] truncated = Arrays.copyOf(valid, length);
            assertThatThrownBy(() -> decoder.apply(truncated)).as("%s truncated to %d bytes", what, length)
                    .isInstanceOf(MalformedRecordException.class);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decoders")
    void shouldRefuseTrailingBytesAsMalformed(String what, Function<byte[], Object> decoder, byte[] valid) {
        byte[] longer = Arrays.copyOf(valid, valid.length + 1);

        assertThatThrownBy(() -> decoder.apply(longer)).isInstanceOf(MalformedRecordException.class)
                .hasMessageContaining("trailing");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decoders")
    void shouldRefuseAnUnknownFormatByteAsMalformed(String what, Function<byte[], Object> decoder, byte[] valid) {
        for (int format : new int[] {0, 3, 127, 255}) {
            byte[] other = valid.clone();
            other[0] = (byte) format;
            assertThatThrownBy(() -> decoder.apply(other)).as("format %d", format)
                    .isInstanceOf(MalformedRecordException.class).hasMessageContaining("format");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decoders")
    void shouldRefuseNullAndEmptyPayloadsAsMalformed(String what, Function<byte[], Object> decoder, byte[] valid) {
        assertThatThrownBy(() -> decoder.apply(null)).isInstanceOf(MalformedRecordException.class);
        assertThatThrownBy(() -> decoder.apply(new byte[0])).isInstanceOf(MalformedRecordException.class);
    }

    @Test
    void shouldRefuseAnUnknownChangeTypeAsMalformed() {
        byte[] bytes = Codecs.encodeCommand(ChangeCommand.of("t", 1L, "BTC", ChangeType.DEPOSIT, BigDecimal.ONE));
        // Format byte, "t" (length + 1 byte), account (8), null user id (1), "BTC" (length + 3): then the type.
        int typeAt = 1 + 2 + 8 + 1 + 4;
        assertThat(bytes[typeAt]).isEqualTo((byte) ChangeType.DEPOSIT.code());
        bytes[typeAt] = 6;

        assertThatThrownBy(() -> Codecs.decodeCommand(bytes)).isInstanceOf(MalformedRecordException.class)
                .hasMessageContaining("change type");
    }

    @Test
    void shouldRefuseAnEventWithAnUnknownResultCodeAsMalformed() {
        BalanceEvent event = new BalanceEvent("t", 1L, "BTC", ChangeType.DEPOSIT, BigDecimal.ONE, 0L, Result.APPLIED,
                false, BigDecimal.ONE, BigDecimal.ONE, BigDecimal.ONE, BigDecimal.ONE, 1L, 1L, null, null, null);
        byte[] bytes = Codecs.encodeEvent(event);
        // Format, "t", account, "BTC", type, amount (scale 1 byte, form 1 byte, value 1 byte), to account: then result.
        int resultAt = 1 + 2 + 8 + 4 + 1 + 3 + 8;
        assertThat(bytes[resultAt]).isEqualTo((byte) Result.APPLIED.code());
        bytes[resultAt] = 6;

        assertThatThrownBy(() -> Codecs.decodeEvent(bytes)).isInstanceOf(MalformedRecordException.class)
                .hasMessageContaining("result");
        bytes[resultAt] = 0;
        bytes[resultAt + 1] = 2;
        assertThatThrownBy(() -> Codecs.decodeEvent(bytes)).as("replay flag 2 is not a boolean")
                .isInstanceOf(MalformedRecordException.class).hasMessageContaining("boolean");
    }

    static Stream<Arguments> malformedBalances() {
        return Stream.of(
                Arguments.of("decimal scale beyond 64", new byte[] {1, (byte) 0x82, 0x01, 0, 0, 0, 0, 0, 0}),
                Arguments.of("unknown decimal form", new byte[] {1, 0, 2, 0, 0, 0, 0, 0, 0}),
                Arguments.of("decimal of zero bytes", new byte[] {1, 0, 1, 0, 0, 0, 0, 0, 0}),
                Arguments.of("decimal of 33 bytes", new byte[] {1, 0, 1, 33, 0, 0, 0, 0, 0}),
                Arguments.of("varint too long", new byte[] {1, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
                        (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0}),
                Arguments.of("negative available", new byte[] {1, 0, 0, 1, 0, 0, 0, 0, 0}),
                Arguments.of("negative version", new byte[] {1, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF,
                        (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 1, 0}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedBalances")
    void shouldRefuseACorruptBalanceAsMalformed(String what, byte[] bytes) {
        assertThatThrownBy(() -> Codecs.decodeBalance(bytes)).isInstanceOf(MalformedRecordException.class);
    }

    @Test
    void shouldRefuseAStringLengthBeyondThePayloadAsMalformed() {
        byte[] bytes = {1, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F, 'a'};

        assertThatThrownBy(() -> Codecs.decodeCommand(bytes)).isInstanceOf(MalformedRecordException.class);
    }

    /**
     * Random byte arrays (half of them starting with a valid format byte) and random edits of valid
     * encodings: a decoder may return a value or throw MalformedRecordException, nothing else. The
     * seed is printed in the failure so it can be replayed.
     */
    @Test
    void shouldLetOnlyMalformedRecordExceptionEscapeFromRandomInput() {
        Random random = new Random(FUZZ_SEED);
        List<byte[]> valid = List.of(Codecs.encodeCommand(fullCommand()), Codecs.encodeEvent(fullEvent()),
                Codecs.encodeBalance(new Balance(HUGE, BigDecimal.ONE, 5, 6)),
                Codecs.encodeBalance(Balance.zero(8)));
        int refused = 0;
        int decoded = 0;
        for (int round = 0; round < FUZZ_ROUNDS; round++) {
            byte[] bytes = round % 2 == 0 ? randomBytes(random) : mutate(random, valid.get(random.nextInt(valid.size())));
            for (Function<byte[], Object> decoder : List.<Function<byte[], Object>>of(Codecs::decodeCommand,
                    Codecs::decodeEvent, Codecs::decodeBalance)) {
                try {
                    decoder.apply(bytes);
                    decoded++;
                } catch (MalformedRecordException expected) {
                    refused++;
                } catch (RuntimeException other) {
                    fail("seed %d round %d: %s escaped for bytes %s", FUZZ_SEED, round, other,
                            HexFormat.of().formatHex(bytes));
                }
            }
        }
        assertThat(refused).as("seed %d: random input is mostly refused", FUZZ_SEED).isGreaterThan(FUZZ_ROUNDS);
        assertThat(decoded).as("seed %d: some edits still decode", FUZZ_SEED).isPositive();
    }

    private static byte[] randomBytes(Random random) {
        byte[] bytes = new byte[random.nextInt(FUZZ_LENGTH_MAX)];
        random.nextBytes(bytes);
        if (bytes.length > 0 && random.nextBoolean()) {
            bytes[0] = 1;
        }
        return bytes;
    }

    private static byte[] mutate(Random random, byte[] valid) {
        byte[] bytes = valid.clone();
        int edits = 1 + random.nextInt(2);
        for (int e = 0; e < edits && bytes.length > 1; e++) {
            int at = 1 + random.nextInt(bytes.length - 1);
            switch (random.nextInt(3)) {
                case 0 -> bytes[at] = (byte) random.nextInt(256);
                case 1 -> bytes[at] = (byte) (bytes[at] ^ (1 << random.nextInt(8)));
                default -> bytes = Arrays.copyOf(bytes, at);
            }
        }
        return bytes;
    }
}
