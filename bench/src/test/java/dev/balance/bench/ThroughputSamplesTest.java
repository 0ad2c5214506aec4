package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ThroughputSamplesTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void shouldCountOverallThroughputFromTheStartIncludingStartup() {
        ThroughputSamples samples = new ThroughputSamples(0);
        samples.add(2 * SECOND, 0);
        samples.add(12 * SECOND, 1_000);

        assertThat(samples.overallPerS()).isCloseTo(1_000 / 12.0, within(1e-9));
        assertThat(samples.firstProgressS()).isEqualTo(12.0);
    }

    @Test
    void shouldLeaveTheWarmUpAndTheTailOutOfTheSteadyState() {
        // Given: 3 s of startup, a slow first second, 100/s for 10 s, then a slow tail.
        ThroughputSamples samples = new ThroughputSamples(0);
        samples.add(3 * SECOND, 0);
        samples.add(4 * SECOND, 10);
        long done = 10;
        for (int s = 5; s <= 14; s++) {
            done += 100;
            samples.add(s * SECOND, done);
        }
        samples.add(20 * SECOND, 1_050);

        // When: the window starts 1 s after the first progress and ends at 95% of 1,050
        double steady = samples.steadyPerS(1_050, 1.0, 0.95);

        // Then: only the 100/s part counts
        assertThat(steady).isCloseTo(100, within(1e-9));
        assertThat(samples.overallPerS()).isCloseTo(1_050 / 20.0, within(1e-9));
    }

    @Test
    void shouldFallBackToOverallWhenTheRunIsTooShortForAWindow() {
        ThroughputSamples samples = new ThroughputSamples(0);
        samples.add(SECOND, 500);
        samples.add(2 * SECOND, 1_000);

        assertThat(samples.steadyPerS(1_000, 5.0, 0.95)).isEqualTo(samples.overallPerS());
    }

    @Test
    void shouldReportPerSecondRates() {
        ThroughputSamples samples = new ThroughputSamples(0);
        samples.add(SECOND / 2, 10);
        samples.add(SECOND, 40);
        samples.add(2 * SECOND, 100);

        assertThat(samples.ratesPerSecond()).containsExactly(40L, 60L);
    }

    @Test
    void shouldRefuseSamplesGoingBackwards() {
        ThroughputSamples samples = new ThroughputSamples(0);
        samples.add(SECOND, 10);

        assertThatThrownBy(() -> samples.add(2 * SECOND, 9)).isInstanceOf(IllegalArgumentException.class);
    }
}
