package dev.balance.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws the account of each fresh command from 1..accounts: uniformly, or skewed by Zipf's law
 * (the account of rank k, account id k, is drawn with weight 1/k^s), as exchange load is: a few
 * market makers and hot wallets make most of the changes. Skewed draws use a table of the
 * cumulative weights (8 bytes per account) and a binary search.
 */
final class AccountDraw {

    private final int accounts;
    private final double exponent;
    /** Cumulative probability of ranks 1..k at index k-1; null for uniform draws. */
    private final double[] cumulative;

    private AccountDraw(int accounts, double exponent, double[] cumulative) {
        this.accounts = accounts;
        this.exponent = exponent;
        this.cumulative = cumulative;
    }

    static AccountDraw uniform(int accounts) {
        if (accounts <= 0) {
            throw new IllegalArgumentException("accounts must be positive");
        }
        return new AccountDraw(accounts, 0, null);
    }

    /** @param exponent Zipf's s; 0 is uniform, about 1 is the classic skew */
    static AccountDraw zipf(int accounts, double exponent) {
        if (exponent == 0) {
            return uniform(accounts);
        }
        if (accounts <= 0 || !(exponent > 0) || Double.isInfinite(exponent)) {
            throw new IllegalArgumentException("accounts must be positive and the Zipf exponent a positive number");
        }
        double[] cumulative = new double[accounts];
        double sum = 0;
        for (int rank = 1; rank <= accounts; rank++) {
            sum += Math.pow(rank, -exponent);
            cumulative[rank - 1] = sum;
        }
        for (int i = 0; i < accounts; i++) {
            cumulative[i] /= sum;
        }
        cumulative[accounts - 1] = 1.0;
        return new AccountDraw(accounts, exponent, cumulative);
    }

    int next(SplittableRandom random) {
        if (cumulative == null) {
            return 1 + random.nextInt(accounts);
        }
        int at = Arrays.binarySearch(cumulative, random.nextDouble());
        return 1 + (at >= 0 ? at : Math.min(-at - 1, accounts - 1));
    }

    /** The share of draws that go to the {@code hottest} accounts of highest rank. */
    double shareOfHottest(int hottest) {
        int top = Math.min(hottest, accounts);
        return cumulative == null ? (double) top / accounts : cumulative[top - 1];
    }

    String describe() {
        return cumulative == null ? "uniform over " + accounts + " accounts"
                : String.format("Zipf s=%.2f over %d accounts (the hottest 1%% get %.0f%% of the changes, the hottest 100 %.0f%%)",
                        exponent, accounts, 100 * shareOfHottest(Math.max(1, accounts / 100)), 100 * shareOfHottest(100));
    }
}
