package dev.balance.sink.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void shouldDoubleFromTheMinimumUpToTheMaximum() {
        Backoff backoff = new Backoff(100, 1000);

        assertThat(backoff.delayMs(1)).isEqualTo(100);
        assertThat(backoff.delayMs(2)).isEqualTo(200);
        assertThat(backoff.delayMs(4)).isEqualTo(800);
        assertThat(backoff.delayMs(5)).isEqualTo(1000);
        assertThat(backoff.delayMs(Integer.MAX_VALUE)).isEqualTo(1000);
    }

    @Test
    void shouldRefuseABackoffWhoseMaximumIsBelowItsMinimum() {
        assertThatThrownBy(() -> new Backoff(500, 100)).isInstanceOf(IllegalArgumentException.class);
    }
}
