package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AccountDrawTest {

    private static int[] counts(AccountDraw draw, int accounts, int draws, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] counts = new int[accounts + 1];
        for (int i = 0; i < draws; i++) {
            int account = draw.next(random);
            assertThat(account).isBetween(1, accounts);
            counts[account]++;
        }
        return counts;
    }

    @Test
    void shouldDrawUniformlyWithoutAnExponent() {
        int[] counts = counts(AccountDraw.zipf(10, 0), 10, 100_000, 1);
        for (int account = 1; account <= 10; account++) {
            assertThat(counts[account] / 100_000.0).as("account " + account).isCloseTo(0.1, within(0.01));
        }
    }

    @Test
    void shouldDrawTheAccountOfRankKWithWeightOneOverKToTheS() {
        int accounts = 1_000;
        double harmonic = 0;
        for (int k = 1; k <= accounts; k++) {
            harmonic += 1.0 / k;
        }
        int[] counts = counts(AccountDraw.zipf(accounts, 1.0), accounts, 400_000, 7);

        assertThat(counts[1] / 400_000.0).isCloseTo(1 / harmonic, within(0.005));
        assertThat(counts[2] / 400_000.0).isCloseTo(1 / (2 * harmonic), within(0.004));
        assertThat(counts[10] / 400_000.0).isCloseTo(1 / (10 * harmonic), within(0.002));
        assertThat(counts[1]).isGreaterThan(counts[2]).isGreaterThan(counts[10]);
        assertThat(counts[accounts]).isGreaterThan(0);
    }

    @Test
    void shouldSayWhatShareTheHottestAccountsGet() {
        AccountDraw zipf = AccountDraw.zipf(1_000_000, 1.0);

        assertThat(zipf.shareOfHottest(1_000_000)).isEqualTo(1.0);
        assertThat(zipf.shareOfHottest(10_000)).isBetween(0.65, 0.75);
        assertThat(AccountDraw.uniform(1_000).shareOfHottest(10)).isEqualTo(0.01);
        assertThat(zipf.describe()).startsWith("Zipf s=1.00 over 1000000 accounts");
    }

    @Test
    void shouldDrawTheSameAccountsFromTheSameSeed() {
        AccountDraw zipf = AccountDraw.zipf(5_000, 1.1);
        assertThat(counts(zipf, 5_000, 10_000, 3)).isEqualTo(counts(zipf, 5_000, 10_000, 3));
    }

    @Test
    void shouldRefuseANegativeExponent() {
        assertThatThrownBy(() -> AccountDraw.zipf(10, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AccountDraw.uniform(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
