package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class IdleBenchTest {

    @Test
    void shouldGiveCpuTimeAsAShareOfOneCore() {
        // 0.6 s of CPU over 60 s of wall time is 1% of a core; unknown CPU time stays unknown
        assertThat(IdleBench.share(600_000_000L, 60)).isEqualTo(1.0);
        assertThat(IdleBench.share(3_000_000_000L, 60)).isEqualTo(5.0);
        assertThat(IdleBench.share(-1, 60)).isNaN();
    }

    @Test
    void shouldSettleTwoMinutesAndMeasureOneByDefault() {
        IdleBench.Settings settings = IdleBench.Settings.from(Args.parse(new String[] {"idle"}), Map.of());

        assertThat(settings.settleS()).isEqualTo(120);
        assertThat(settings.measureS()).isEqualTo(60);
        assertThatThrownBy(() -> IdleBench.Settings.from(Args.parse(new String[] {"idle", "--measure-s", "0"}), Map.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> IdleBench.Settings.from(Args.parse(new String[] {"idle", "--nodes", "2"}), Map.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
