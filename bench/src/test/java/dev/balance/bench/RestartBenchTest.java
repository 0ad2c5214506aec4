package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RestartBenchTest {

    private static String balance(String available, String frozen, long version) {
        return "{\"success\":true,\"balance\":{\"account_id\":7,\"currency_code\":\"USDT\",\"available\":\"" + available
                + "\",\"frozen\":\"" + frozen + "\",\"version\":" + version + ",\"updated_at\":\"2026-12-01T00:00:00Z\"}}";
    }

    @Test
    void theFundedBalanceAtTheCurrencysScaleIsRight() throws Exception {
        assertThat(RestartBench.problem(200, balance("1000000.000000", "0.000000", 1))).isNull();
    }

    @Test
    void oneMillionthTooMuchOrAnotherVersionIsWrong() throws Exception {
        assertThat(RestartBench.problem(200, balance("1000000.000001", "0.000000", 1))).contains("expected available");
        assertThat(RestartBench.problem(200, balance("1000000.000000", "0.000000", 2))).contains("expected available");
        assertThat(RestartBench.problem(200, balance("0.000000", "0.000000", 0))).contains("expected available");
    }

    @Test
    void anAnswerOtherThan200IsWrongWithItsBody() throws Exception {
        assertThat(RestartBench.problem(503, "{\"error\":\"NOT_READY\"}")).isEqualTo("HTTP 503 {\"error\":\"NOT_READY\"}");
    }

    @Test
    void theRocksDbBudgetIsPassedOnlyWhenGivenAndMustBePositive() {
        RestartBench.Settings given = RestartBench.Settings.from(
                Args.parse(new String[] {"restart", "--write-buffer-mb", "1", "--cache-mb", "64"}), Map.of());
        RestartBench.Settings defaults = RestartBench.Settings.from(Args.parse(new String[] {"restart"}), Map.of());

        assertThat(given.writeBufferMb()).isEqualTo(1);
        assertThat(given.cacheMb()).isEqualTo(64);
        assertThat(defaults.writeBufferMb()).isNull();
        assertThat(defaults.accounts()).isEqualTo(1_000_000);
        assertThatThrownBy(() -> RestartBench.Settings.from(Args.parse(new String[] {"restart", "--cache-mb", "0"}),
                Map.of())).hasMessageContaining("--cache-mb must be positive");
        assertThatThrownBy(() -> RestartBench.Settings.from(Args.parse(new String[] {"restart", "--url", "http://x"}),
                Map.of())).hasMessageContaining("--url");
    }

    @Test
    void theStateSizeCountsEveryFileUnderTheDirectory(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("CURRENT"), new byte[16]);
        Files.createDirectories(dir.resolve("0_1/rocksdb/accounts"));
        Files.write(dir.resolve("0_1/rocksdb/accounts/000012.sst"), new byte[4096]);

        assertThat(Directories.sizeOf(dir)).isEqualTo(16 + 4096);
    }
}
