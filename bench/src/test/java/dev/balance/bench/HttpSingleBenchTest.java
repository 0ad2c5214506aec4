package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HttpSingleBenchTest {

    @Test
    void aSearchCountsTheRequestsOfEveryStepAndAFixedRunThoseOfItsPhase() {
        Map<String, Object> search = Map.of("phase", Map.of("requests", 7L),
                "steps", List.of(Map.of("requests", 10L), Map.of("requests", 5L)));
        assertThat(HttpSingleBench.requestsIn(search)).isEqualTo(15);
        assertThat(HttpSingleBench.requestsIn(Map.of("phase", Map.of("requests", 7L)))).isEqualTo(7);
    }
}
