package dev.balance.bench;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A deterministic stream of encoded change commands with a realistic mix: mostly deposits and
 * withdrawals, some freezes, unfreezes and settles, withdrawals beyond the balance (rejected) and
 * a share of exact duplicates of recent commands (replays). It keeps a model of every balance, so
 * it knows the verdict each command must get; the benchmark compares the topology's events with
 * these expected counts after the run.
 *
 * <p>Even accounts hold BTC (8 decimals), odd accounts USDT (6 decimals); amounts are kept in
 * minor units, exact.
 *
 * <p>With a transfer share, that share of the fresh commands are TRANSFERs from a client account
 * to one of {@link #RECEIVERS} receiving accounts (ids above the client accounts: an exchange's
 * fee and settlement accounts). Receivers are only ever credited, so every verdict stays
 * predictable although credits reach their partition at a time that depends on the run: each
 * applied transfer adds one APPLIED credit event.
 */
final class CommandMix {

    /** The encoded command and its key, as produced to {@code balance-changes}. */
    record Next(long accountId, byte[] value) {
    }

    static final int RECENT_COMMANDS_MAX = 4096;
    static final long DEPOSIT_MINOR_UNITS_MAX = 100_000_000L;
    private static final int WITHDRAW_BEYOND_BALANCE_PERCENT = 15;
    static final int RECEIVERS = 1_000;

    private final int accounts;
    private final AccountDraw draw;
    private final int duplicatePerMille;
    private final int transferPerMille;
    private final SplittableRandom random;
    private final long[] available;
    private final long[] frozen;
    private final long[] recentAccounts = new long[RECENT_COMMANDS_MAX];
    private final byte[][] recentValues = new byte[RECENT_COMMANDS_MAX][];
    private final Map<ChangeType, Long> typeCounts = new EnumMap<>(ChangeType.class);
    private final Map<Result, Long> expectedResults = new EnumMap<>(Result.class);
    private long recentCount;
    private long sequence;
    private long duplicates;
    private long appliedTransfers;

    /**
     * @param accounts          account ids are 1..accounts
     * @param duplicatePerMille exact repeats of a recent command per 1000 commands
     * @param seed              the same seed gives the same stream
     */
    CommandMix(int accounts, int duplicatePerMille, long seed) {
        this(accounts, duplicatePerMille, 0, seed);
    }

    /** @param transferPerMille TRANSFERs to a receiving account per 1000 fresh commands */
    CommandMix(int accounts, int duplicatePerMille, int transferPerMille, long seed) {
        this(AccountDraw.uniform(accounts), accounts, duplicatePerMille, transferPerMille, seed);
    }

    /** @param draw how the account of each fresh command is drawn from 1..accounts */
    CommandMix(AccountDraw draw, int accounts, int duplicatePerMille, int transferPerMille, long seed) {
        if (accounts <= 0 || duplicatePerMille < 0 || duplicatePerMille > 1000 || transferPerMille < 0
                || transferPerMille > 1000) {
            throw new IllegalArgumentException("accounts must be positive, duplicates and transfers 0..1000 per mille");
        }
        this.accounts = accounts;
        this.draw = draw;
        this.duplicatePerMille = duplicatePerMille;
        this.transferPerMille = transferPerMille;
        this.random = new SplittableRandom(seed);
        this.available = new long[accounts + 1];
        this.frozen = new long[accounts + 1];
    }

    Next next() {
        if (recentCount > 0 && random.nextInt(1000) < duplicatePerMille) {
            int slot = (int) (random.nextLong(Math.min(recentCount, RECENT_COMMANDS_MAX)));
            duplicates++;
            return new Next(recentAccounts[slot], recentValues[slot]);
        }
        int account = draw.next(random);
        ChangeCommand command = fresh(account);
        byte[] value = Codecs.encodeCommand(command);
        int slot = (int) (recentCount++ % RECENT_COMMANDS_MAX);
        recentAccounts[slot] = account;
        recentValues[slot] = value;
        return new Next(account, value);
    }

    private ChangeCommand fresh(int account) {
        if (transferPerMille > 0 && random.nextInt(1000) < transferPerMille) {
            return transfer(account);
        }
        int roll = random.nextInt(100);
        ChangeType type;
        long amount;
        if (roll < 40 || available[account] + frozen[account] == 0) {
            type = ChangeType.DEPOSIT;
            amount = 1 + random.nextLong(DEPOSIT_MINOR_UNITS_MAX);
        } else if (roll < 75 || (roll < 87 && available[account] == 0)) {
            type = ChangeType.WITHDRAW;
            amount = random.nextInt(100) < WITHDRAW_BEYOND_BALANCE_PERCENT || available[account] == 0
                    ? available[account] + 1 + random.nextLong(DEPOSIT_MINOR_UNITS_MAX)
                    : 1 + random.nextLong(available[account]);
        } else if (roll < 87) {
            type = ChangeType.FREEZE;
            amount = 1 + random.nextLong(available[account]);
        } else if (frozen[account] == 0) {
            type = ChangeType.DEPOSIT;
            amount = 1 + random.nextLong(DEPOSIT_MINOR_UNITS_MAX);
        } else {
            type = roll < 94 ? ChangeType.UNFREEZE : ChangeType.SETTLE;
            amount = 1 + random.nextLong(frozen[account]);
        }
        typeCounts.merge(type, 1L, Long::sum);
        expectedResults.merge(apply(account, type, amount), 1L, Long::sum);
        String currency = account % 2 == 0 ? "BTC" : "USDT";
        int scale = account % 2 == 0 ? 8 : 6;
        String transactionId = "tx-" + Long.toString(sequence++, 36) + "-" + Long.toHexString(random.nextLong() | Long.MIN_VALUE);
        return new ChangeCommand(transactionId, account, "user-" + account, currency, type,
                BigDecimal.valueOf(amount, scale), 0L, null, null);
    }

    private ChangeCommand transfer(int account) {
        // From an empty account (most of a million accounts early in a run) the transfer is refused.
        long amount = random.nextInt(100) < WITHDRAW_BEYOND_BALANCE_PERCENT || available[account] == 0
                ? available[account] + 1 + random.nextLong(DEPOSIT_MINOR_UNITS_MAX)
                : 1 + random.nextLong(available[account]);
        long receiver = accounts + 1 + random.nextInt(RECEIVERS);
        typeCounts.merge(ChangeType.TRANSFER, 1L, Long::sum);
        Result result = apply(account, ChangeType.WITHDRAW, amount);
        expectedResults.merge(result, 1L, Long::sum);
        if (result == Result.APPLIED) {
            // The credit on the receiver: always applied (receivers stay far below the balance limit).
            appliedTransfers++;
            expectedResults.merge(Result.APPLIED, 1L, Long::sum);
        }
        String currency = account % 2 == 0 ? "BTC" : "USDT";
        int scale = account % 2 == 0 ? 8 : 6;
        String transactionId = "tx-" + Long.toString(sequence++, 36) + "-" + Long.toHexString(random.nextLong() | Long.MIN_VALUE);
        return new ChangeCommand(transactionId, account, "user-" + account, currency, ChangeType.TRANSFER,
                BigDecimal.valueOf(amount, scale), receiver, null, null);
    }

    /** Credit legs the topology writes for the applied transfers: records the run processes on top of the commands. */
    long appliedTransfers() {
        return appliedTransfers;
    }

    /** The rules of the topology for these types, on minor units; returns the verdict. */
    private Result apply(int account, ChangeType type, long amount) {
        switch (type) {
            case DEPOSIT -> available[account] += amount;
            case WITHDRAW, FREEZE -> {
                if (available[account] < amount) {
                    return Result.INSUFFICIENT_FUNDS;
                }
                available[account] -= amount;
                if (type == ChangeType.FREEZE) {
                    frozen[account] += amount;
                }
            }
            case UNFREEZE, SETTLE -> {
                if (frozen[account] < amount) {
                    return Result.INSUFFICIENT_FROZEN;
                }
                frozen[account] -= amount;
                if (type == ChangeType.UNFREEZE) {
                    available[account] += amount;
                }
            }
            default -> throw new IllegalStateException("the mix never makes " + type);
        }
        return Result.APPLIED;
    }

    long duplicates() {
        return duplicates;
    }

    /** Commands of each type, duplicates not counted. */
    Map<String, Long> typeCounts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        typeCounts.forEach((type, count) -> counts.put(type.name(), count));
        return counts;
    }

    /** The verdict every first (non-duplicate) command must get, and every credit leg, counted by result. */
    Map<String, Long> expectedResults() {
        Map<String, Long> counts = new LinkedHashMap<>();
        expectedResults.forEach((result, count) -> counts.put(result.name(), count));
        return counts;
    }

    long available(int account) {
        return available[account];
    }

    long frozen(int account) {
        return frozen[account];
    }
}
