package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class E2eBenchTest {

    @Test
    void defaultsAreFiveMinutesOfBatchesAndSingleChangesOverAHundredThousandAccounts() {
        E2eBench.Settings settings = settings("e2e");

        assertThat(settings.durationS()).isEqualTo(300);
        assertThat(settings.warmupS()).isEqualTo(30);
        assertThat(settings.drainTimeoutS()).isEqualTo(600);
        assertThat(settings.sampleS()).isEqualTo(10);
        assertThat(settings.accounts()).isEqualTo(100_000);
        assertThat(settings.batchSize()).isEqualTo(1000);
        assertThat(settings.batchConcurrency()).isEqualTo(4);
        assertThat(settings.singleConcurrency()).isEqualTo(8);
        assertThat(settings.keepStores()).isFalse();
        assertThat(settings.target().url()).isNull();
    }

    @Test
    void theMixAndTheDurationsCanBeChanged() {
        E2eBench.Settings settings = settings("e2e", "--duration-s", "20", "--warmup-s", "0", "--accounts", "2000",
                "--batch-concurrency", "0", "--single-concurrency", "16", "--drain-timeout-s", "60", "--sample-s", "5",
                "--keep-stores");

        assertThat(settings.durationS()).isEqualTo(20);
        assertThat(settings.warmupS()).isZero();
        assertThat(settings.accounts()).isEqualTo(2000);
        assertThat(settings.batchConcurrency()).isZero();
        assertThat(settings.singleConcurrency()).isEqualTo(16);
        assertThat(settings.drainTimeoutS()).isEqualTo(60);
        assertThat(settings.sampleS()).isEqualTo(5);
        assertThat(settings.keepStores()).isTrue();
        assertThat(settings.toMap()).containsEntry("single_concurrency", 16).containsEntry("batch_concurrency", 0);
    }

    @Test
    void aRemoteNodeOrASecondNodeIsRefused() {
        assertThatThrownBy(() -> settings("e2e", "--url", "http://127.0.0.1:8080"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--url");
        assertThatThrownBy(() -> settings("e2e", "--nodes", "2"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--nodes");
    }

    @Test
    void aLoadOfNothingOrANegativeSizeIsRefused() {
        assertThatThrownBy(() -> settings("e2e", "--batch-concurrency", "0", "--single-concurrency", "0"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot both be 0");
        assertThatThrownBy(() -> settings("e2e", "--single-concurrency", "-1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be negative");
        assertThatThrownBy(() -> settings("e2e", "--duration-s", "0"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive");
    }

    @Test
    void anOptionOfAnotherModeIsRefused() {
        assertThatThrownBy(() -> settings("e2e", "--concurrency", "4"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--concurrency");
    }

    private static E2eBench.Settings settings(String... argv) {
        return E2eBench.Settings.from(Args.parse(argv), Map.of());
    }
}
