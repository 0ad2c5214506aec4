package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgsTest {

    @Test
    void shouldReadTheModeValuesAndFlags() {
        Args args = Args.parse(new String[] {"topology", "--commands", "500_000", "--profile", "--seed=9", "--skip-baseline"});

        assertThat(args.mode()).isEqualTo("topology");
        assertThat(args.longValue("commands", 1)).isEqualTo(500_000);
        assertThat(args.longValue("seed", 1)).isEqualTo(9);
        assertThat(args.flag("profile")).isTrue();
        assertThat(args.flag("skip-baseline")).isTrue();
        assertThat(args.flag("keep-topics")).isFalse();
        assertThat(args.intValue("accounts", 77)).isEqualTo(77);
    }

    @Test
    void shouldRefuseAnOptionTheModeDoesNotKnow() {
        Args args = Args.parse(new String[] {"http-batch", "--batchsize", "10"});

        assertThatThrownBy(() -> args.requireKnown(Set.of("batch-size")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--batchsize");
    }

    @Test
    void shouldRefuseANumberThatIsNotOne() {
        Args args = Args.parse(new String[] {"http-single", "--rate", "fast", "--duration-s", "1.5"});

        assertThatThrownBy(() -> args.doubleValue("rate", 0)).hasMessageContaining("--rate");
        assertThatThrownBy(() -> args.longValue("duration-s", 0)).hasMessageContaining("--duration-s");
    }

    @Test
    void shouldRefuseAMissingModeAndStrayValues() {
        assertThatThrownBy(() -> Args.parse(new String[] {"--commands", "5"})).hasMessageContaining("mode");
        assertThatThrownBy(() -> Args.parse(new String[] {"topology", "5"})).hasMessageContaining("'5'");
        assertThatThrownBy(() -> Args.parse(new String[] {"topology", "--profile", "maybe"}).flag("profile"))
                .hasMessageContaining("flag");
    }
}
