package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Currencies;
import dev.balance.topology.model.Validation;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CommandMixTest {

    private static final int COMMANDS = 200_000;
    private static final int ACCOUNTS = 20_000;

    @Test
    void shouldProduceTheSameStreamForTheSameSeed() {
        CommandMix first = new CommandMix(ACCOUNTS, 10, 42);
        CommandMix second = new CommandMix(ACCOUNTS, 10, 42);

        for (int i = 0; i < 1_000; i++) {
            CommandMix.Next a = first.next();
            CommandMix.Next b = second.next();
            assertThat(b.accountId()).isEqualTo(a.accountId());
            assertThat(b.value()).isEqualTo(a.value());
        }
    }

    @Test
    void shouldMakeValidCommandsKeyedByTheirAccountWithARealisticMix() {
        CommandMix mix = new CommandMix(ACCOUNTS, 10, 7);
        Set<String> transactionIds = new HashSet<>();
        Map<ChangeType, Integer> types = new HashMap<>();
        int repeats = 0;
        for (int i = 0; i < COMMANDS; i++) {
            CommandMix.Next next = mix.next();
            ChangeCommand command = Codecs.decodeCommand(next.value());
            assertThat(command.accountId()).isEqualTo(next.accountId()).isBetween(1L, (long) ACCOUNTS);
            assertThat(Validation.check(command, Currencies.defaults())).isEmpty();
            if (!transactionIds.add(command.transactionId())) {
                repeats++;
            } else {
                types.merge(command.type(), 1, Integer::sum);
            }
        }

        assertThat(repeats).isEqualTo((int) mix.duplicates());
        assertThat(repeats / (double) COMMANDS).isCloseTo(0.01, within(0.002));
        int fresh = COMMANDS - repeats;
        int depositsAndWithdrawals = types.get(ChangeType.DEPOSIT) + types.get(ChangeType.WITHDRAW);
        assertThat(depositsAndWithdrawals / (double) fresh).isGreaterThan(0.75);
        assertThat(types).containsKeys(ChangeType.FREEZE, ChangeType.UNFREEZE, ChangeType.SETTLE);
        assertThat(types).doesNotContainKey(ChangeType.TRANSFER);
        assertThat(mix.typeCounts().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(fresh);
    }

    @Test
    void shouldExpectAVerdictForEveryFreshCommandWithSomeRejections() {
        CommandMix mix = new CommandMix(ACCOUNTS, 10, 3);
        for (int i = 0; i < COMMANDS; i++) {
            mix.next();
        }

        Map<String, Long> expected = mix.expectedResults();
        long fresh = COMMANDS - mix.duplicates();
        assertThat(expected.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(fresh);
        assertThat(expected.get("INSUFFICIENT_FUNDS") / (double) fresh).isBetween(0.01, 0.2);
        assertThat(expected.get("APPLIED") / (double) fresh).isGreaterThan(0.8);
    }

    @Test
    void shouldExpectTheVerdictsAndBalancesOfANaiveReplayOfTheStream() {
        // Given: the stream replayed by a naive ledger in BigDecimal, repeated ids skipped
        CommandMix mix = new CommandMix(50, 20, 5);
        Map<Long, BigDecimal[]> ledger = new HashMap<>();
        Set<String> seen = new HashSet<>();
        Map<String, Long> verdicts = new HashMap<>();
        for (int i = 0; i < 20_000; i++) {
            ChangeCommand command = Codecs.decodeCommand(mix.next().value());
            if (seen.add(command.accountId() + "/" + command.transactionId())) {
                BigDecimal[] balance = ledger.computeIfAbsent(command.accountId(),
                        id -> new BigDecimal[] {BigDecimal.ZERO, BigDecimal.ZERO});
                verdicts.merge(naiveApply(balance, command), 1L, Long::sum);
            }
        }

        // Then: the model expected the same verdicts and holds the same balances, in minor units
        assertThat(mix.expectedResults()).isEqualTo(verdicts);
        ledger.forEach((account, balance) -> {
            int scale = account % 2 == 0 ? 8 : 6;
            assertThat(mix.available(account.intValue())).isEqualTo(balance[0].movePointRight(scale).longValueExact());
            assertThat(mix.frozen(account.intValue())).isEqualTo(balance[1].movePointRight(scale).longValueExact());
        });
    }

    @Test
    void shouldSendTheTransferShareToReceivingAccountsAndExpectACreditForEveryAppliedOne() {
        CommandMix mix = new CommandMix(ACCOUNTS, 0, 200, 11);
        long transfers = 0;
        long applied = 0;
        Map<Long, BigDecimal> available = new HashMap<>();
        for (int i = 0; i < COMMANDS; i++) {
            ChangeCommand command = Codecs.decodeCommand(mix.next().value());
            BigDecimal balance = available.getOrDefault(command.accountId(), BigDecimal.ZERO);
            if (command.type() == ChangeType.TRANSFER) {
                transfers++;
                assertThat(command.toAccountId()).isBetween(ACCOUNTS + 1L, (long) ACCOUNTS + CommandMix.RECEIVERS);
                if (balance.compareTo(command.amount()) >= 0) {
                    applied++;
                    available.put(command.accountId(), balance.subtract(command.amount()));
                }
            } else if (command.type() == ChangeType.DEPOSIT) {
                available.put(command.accountId(), balance.add(command.amount()));
            } else if (command.type() == ChangeType.WITHDRAW && balance.compareTo(command.amount()) >= 0) {
                available.put(command.accountId(), balance.subtract(command.amount()));
            } else if (command.type() == ChangeType.FREEZE && balance.compareTo(command.amount()) >= 0) {
                available.put(command.accountId(), balance.subtract(command.amount()));
            } else if (command.type() == ChangeType.UNFREEZE) {
                // Frozen funds are not tracked here; an unfreeze the mix makes is always covered.
                available.put(command.accountId(), balance.add(command.amount()));
            }
        }

        assertThat(transfers / (double) COMMANDS).isBetween(0.18, 0.22);
        assertThat(mix.typeCounts().get("TRANSFER")).isEqualTo(transfers);
        assertThat(mix.appliedTransfers()).isEqualTo(applied).isPositive();
        assertThat(mix.expectedResults().values().stream().mapToLong(Long::longValue).sum())
                .as("a verdict per command and a credit per applied transfer").isEqualTo(COMMANDS + applied);
    }

    private static String naiveApply(BigDecimal[] balance, ChangeCommand command) {
        BigDecimal amount = command.amount();
        boolean fromAvailable = command.type() == ChangeType.WITHDRAW || command.type() == ChangeType.FREEZE;
        boolean fromFrozen = command.type() == ChangeType.UNFREEZE || command.type() == ChangeType.SETTLE;
        if (fromAvailable && balance[0].compareTo(amount) < 0) {
            return "INSUFFICIENT_FUNDS";
        }
        if (fromFrozen && balance[1].compareTo(amount) < 0) {
            return "INSUFFICIENT_FROZEN";
        }
        switch (command.type()) {
            case DEPOSIT -> balance[0] = balance[0].add(amount);
            case WITHDRAW -> balance[0] = balance[0].subtract(amount);
            case FREEZE -> {
                balance[0] = balance[0].subtract(amount);
                balance[1] = balance[1].add(amount);
            }
            case UNFREEZE -> {
                balance[1] = balance[1].subtract(amount);
                balance[0] = balance[0].add(amount);
            }
            case SETTLE -> balance[1] = balance[1].subtract(amount);
            default -> throw new IllegalStateException("unexpected " + command.type());
        }
        return "APPLIED";
    }
}
