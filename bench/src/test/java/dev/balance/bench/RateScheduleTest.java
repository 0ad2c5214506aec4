package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RateScheduleTest {

    @Test
    void shouldSpaceRequestsEvenlyFromTheStartWhateverHappenedBefore() {
        RateSchedule schedule = new RateSchedule(1_000, 4_000);

        assertThat(schedule.dueNanos(0)).isEqualTo(1_000);
        assertThat(schedule.dueNanos(1)).isEqualTo(1_000 + 250_000);
        assertThat(schedule.dueNanos(4_000)).isEqualTo(1_000 + 1_000_000_000L);
    }

    @Test
    void shouldKeepFractionalIntervalsWithoutDrift() {
        RateSchedule schedule = new RateSchedule(0, 3);

        assertThat(schedule.dueNanos(1)).isEqualTo(333_333_333L);
        assertThat(schedule.dueNanos(3_000)).isEqualTo(1_000_000_000_000L);
    }

    @Test
    void shouldCountTheRequestsDueWithinADuration() {
        RateSchedule schedule = new RateSchedule(0, 1_500);

        assertThat(schedule.countWithin(10_000_000_000L)).isEqualTo(15_000);
        assertThat(schedule.countWithin(1_000_000L)).isEqualTo(2);
        assertThat(schedule.countWithin(0)).isZero();
    }

    @Test
    void shouldRefuseARateThatIsNotPositive() {
        assertThatThrownBy(() -> new RateSchedule(0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateSchedule(0, Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }
}
