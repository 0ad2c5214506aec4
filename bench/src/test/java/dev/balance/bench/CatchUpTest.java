package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CatchUpTest {

    private static final long LOAD_END = 1_000_000_000L;

    @Test
    void eachSinkCatchesUpAtTheFirstReadingWithItsLagAndTheNodesAtZero() {
        CatchUp catchUp = new CatchUp(LOAD_END, List.of("mysql", "redis"));

        catchUp.observe(reading(LOAD_END, 0, 500, 0));
        assertThat(catchUp.seconds("redis")).isEqualTo(0.0);
        assertThat(catchUp.seconds("mysql")).isNull();
        assertThat(catchUp.complete()).isFalse();

        catchUp.observe(reading(LOAD_END + 2_500_000_000L, 0, 0, 0));
        catchUp.observe(reading(LOAD_END + 3_000_000_000L, 0, 0, 0));

        assertThat(catchUp.seconds("mysql")).isEqualTo(2.5);
        assertThat(catchUp.seconds("redis")).isEqualTo(0.0);
        assertThat(catchUp.complete()).isTrue();
    }

    @Test
    void aSinkAtZeroDoesNotCountWhileTheNodeStillHasInputToCommit() {
        CatchUp catchUp = new CatchUp(LOAD_END, List.of("mysql", "redis"));

        catchUp.observe(reading(LOAD_END + 1_000_000_000L, 7, 0, 0));

        assertThat(catchUp.seconds("mysql")).isNull();
        assertThat(catchUp.complete()).isFalse();
        assertThat(catchUp.all()).isEmpty();
    }

    private static E2eReading reading(long nanos, long nodeLag, long mysqlLag, long redisLag) {
        Map<String, E2eReading.Sink> sinks = new LinkedHashMap<>();
        sinks.put("mysql", new E2eReading.Sink(new GroupLag(mysqlLag, 1_000), 900));
        sinks.put("redis", new E2eReading.Sink(new GroupLag(redisLag, 1_000), 950));
        return new E2eReading(nanos, 0, 1_000 + mysqlLag, new GroupLag(nodeLag, 1_000), sinks);
    }
}
