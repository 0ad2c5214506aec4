package dev.balance.sink.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void shouldDoubleEachWaitUpToTheMaximum() {
        Backoff backoff = new Backoff(100, 500);
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            waits.add(backoff.nextMs());
        }

        assertThat(waits).containsExactly(100L, 200L, 400L, 500L, 500L);
    }
}
