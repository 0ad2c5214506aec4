package dev.balance.topology;

import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Currencies;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A seeded stream of valid change commands: fresh commands of every rule, exact and re-written
 * duplicates of earlier ones (replays), earlier ids reused with another payload (conflicts) and
 * two-account changes (TRANSFER, and SETTLE to another account). The same seed gives the same stream.
 */
final class CommandGenerator {

    /** One command with its record timestamp and how it was made, for failure messages. */
    record Step(int index, ChangeCommand command, long timestampMs, String kind) {
    }

    /**
     * @param accounts         accounts 1..accounts are used
     * @param currencies       codes drawn uniformly
     * @param duplicateShare   share of steps that resend an earlier command (same id, same value)
     * @param conflictShare    share of steps that reuse an earlier id with another payload
     * @param transferShare    share of fresh two-account changes: TRANSFER, and SETTLE with a destination, half each
     * @param lateShare        share of steps whose timestamp lies a little behind stream time
     */
    record Mix(int accounts, List<String> currencies, double duplicateShare, double conflictShare,
               double transferShare, double lateShare) {
    }

    /** In the past: a broker refuses record timestamps more than an hour ahead of its clock. */
    private static final long TIMESTAMP_START_MS = 1_700_000_000_000L;
    private static final int LATE_BY_MAX_MS = 50;
    private static final int INTEGER_DIGITS_MAX = 3;

    private final Random random;
    private final Currencies registry;
    private final Mix mix;
    private final List<Step> steps = new ArrayList<>();
    private long clockMs = TIMESTAMP_START_MS;

    CommandGenerator(long seed, Currencies registry, Mix mix) {
        this.random = new Random(seed);
        this.registry = registry;
        this.mix = mix;
    }

    List<Step> generate(int count) {
        for (int i = 0; i < count; i++) {
            steps.add(next(i));
        }
        return List.copyOf(steps);
    }

    private Step next(int index) {
        long timestampMs = nextTimestamp();
        double roll = random.nextDouble();
        if (!steps.isEmpty() && roll < mix.duplicateShare()) {
            return new Step(index, duplicate(earlier().command()), timestampMs, "duplicate");
        }
        if (!steps.isEmpty() && roll < mix.duplicateShare() + mix.conflictShare()) {
            return new Step(index, conflicting(earlier().command()), timestampMs, "conflict");
        }
        return new Step(index, fresh(index), timestampMs, "fresh");
    }

    private long nextTimestamp() {
        if (random.nextDouble() < mix.lateShare()) {
            return clockMs - random.nextInt(LATE_BY_MAX_MS);
        }
        clockMs += 1 + random.nextInt(3);
        return clockMs;
    }

    private Step earlier() {
        return steps.get(random.nextInt(steps.size()));
    }

    private ChangeCommand fresh(int index) {
        long account = 1 + random.nextInt(mix.accounts());
        String currency = mix.currencies().get(random.nextInt(mix.currencies().size()));
        String transactionId = "tx-" + index;
        if (random.nextDouble() < mix.transferShare()) {
            long target = 1 + random.nextInt(mix.accounts() - 1);
            if (target >= account) {
                target++;
            }
            ChangeType type = random.nextBoolean() ? ChangeType.TRANSFER : ChangeType.SETTLE;
            return new ChangeCommand(transactionId, account, null, currency, type, amount(currency), target, null, null);
        }
        return ChangeCommand.of(transactionId, account, currency, freshType(), amount(currency));
    }

    /** Deposits outweigh each way out so balances grow, yet every rule is often refused too. */
    private ChangeType freshType() {
        int roll = random.nextInt(100);
        if (roll < 30) {
            return ChangeType.DEPOSIT;
        }
        if (roll < 50) {
            return ChangeType.WITHDRAW;
        }
        if (roll < 70) {
            return ChangeType.FREEZE;
        }
        return roll < 85 ? ChangeType.UNFREEZE : ChangeType.SETTLE;
    }

    /** A decimal string with 0..scale fractional digits and a value from the smallest unit to just under 1000. */
    private BigDecimal amount(String currency) {
        int scale = registry.scale(currency);
        int fractionDigits = random.nextInt(scale + 1);
        int integerPart = random.nextInt(3) == 0 ? 0 : random.nextInt((int) Math.pow(10, INTEGER_DIGITS_MAX));
        StringBuilder text = new StringBuilder(Integer.toString(integerPart));
        if (fractionDigits > 0) {
            text.append('.');
            for (int i = 0; i < fractionDigits; i++) {
                text.append((char) ('0' + random.nextInt(10)));
            }
        }
        BigDecimal amount = new BigDecimal(text.toString());
        if (amount.signum() == 0) {
            return BigDecimal.ONE.movePointLeft(fractionDigits);
        }
        return amount;
    }

    /** The same command; a third of the time with its amount written with more trailing zeros. */
    private ChangeCommand duplicate(ChangeCommand original) {
        if (random.nextInt(3) != 0) {
            return original;
        }
        int scale = registry.scale(original.currency());
        int shortest = Math.max(0, original.amount().stripTrailingZeros().scale());
        BigDecimal rewritten = original.amount().setScale(shortest + random.nextInt(scale - shortest + 1));
        return new ChangeCommand(original.transactionId(), original.accountId(), original.userId(),
                original.currency(), original.type(), rewritten, original.toAccountId(), original.description(),
                original.metadata());
    }

    /** The same account and id with a different amount, type or currency. */
    private ChangeCommand conflicting(ChangeCommand original) {
        String currency = original.currency();
        ChangeType type = original.type();
        BigDecimal amount = original.amount();
        long target = original.toAccountId();
        switch (random.nextInt(3)) {
            case 0 -> amount = amount.add(BigDecimal.ONE.movePointLeft(registry.scale(currency)));
            case 1 -> {
                type = type == ChangeType.DEPOSIT ? ChangeType.WITHDRAW : ChangeType.DEPOSIT;
                target = 0;
            }
            default -> {
                currency = otherCurrency(currency);
                amount = amount.setScale(Math.min(Math.max(amount.scale(), 0), registry.scale(currency)),
                        RoundingMode.DOWN);
                if (amount.signum() == 0) {
                    amount = BigDecimal.ONE;
                }
            }
        }
        return new ChangeCommand(original.transactionId(), original.accountId(), null, currency, type, amount,
                target, null, null);
    }

    private String otherCurrency(String currency) {
        List<String> codes = mix.currencies();
        return codes.get((codes.indexOf(currency) + 1) % codes.size());
    }
}
