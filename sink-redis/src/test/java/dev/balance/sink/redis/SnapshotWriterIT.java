package dev.balance.sink.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The guarded write path against a real Redis: the shared one, or a private one where scripts get flushed. */
class SnapshotWriterIT {

    private RedisSnapshots redis;

    @BeforeEach
    void connect() {
        redis = new RedisSnapshots("127.0.0.1", 6379);
    }

    @AfterEach
    void clean() {
        redis.deleteAll();
        redis.close();
    }

    @Test
    void shouldRefuseAWriteOfAnEqualOrOlderVersion() {
        // Given a balance stored at version 5
        SnapshotWriter writer = new SnapshotWriter(redis.client(), redis.keyPrefix);
        assertThat(writer.write(List.of(applied(7, "BTC", 5, "1.00000000")))).isEqualTo(new SnapshotWriter.Outcome(1, 1, 0));

        // When versions 3 and 5 arrive again, then version 10 (more digits, compared exactly)
        SnapshotWriter.Outcome older = writer.write(List.of(applied(7, "BTC", 3, "9.00000000")));
        SnapshotWriter.Outcome same = writer.write(List.of(applied(7, "BTC", 5, "8.00000000")));
        SnapshotWriter.Outcome newer = writer.write(List.of(applied(7, "BTC", 10, "2.50000000")));

        // Then only the newer one is written
        assertThat(older).isEqualTo(new SnapshotWriter.Outcome(1, 0, 1));
        assertThat(same).isEqualTo(new SnapshotWriter.Outcome(1, 0, 1));
        assertThat(newer).isEqualTo(new SnapshotWriter.Outcome(1, 1, 0));
        assertThat(redis.client().hget(redis.keyPrefix + "balance:7", "BTC"))
                .isEqualTo("10|2.50000000|0.25000000|1700000000010");
    }

    @Test
    void shouldSendOnlyTheNewestVersionOfAFieldWithinABatch() {
        // Given a batch with several versions of one balance, out of order, and a rejection
        SnapshotWriter writer = new SnapshotWriter(redis.client(), redis.keyPrefix);
        BalanceEvent rejected = new BalanceEvent("tx-r", 8, "ETH", ChangeType.WITHDRAW, BigDecimal.ONE, 0,
                Result.INSUFFICIENT_FUNDS, false, BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.TEN, BigDecimal.TEN, 9,
                0, null, null, null);

        // When it is written
        SnapshotWriter.Outcome outcome = writer.write(List.of(applied(8, "ETH", 2, "1.000000000000000000"),
                applied(8, "ETH", 4, "4.000000000000000001"), applied(8, "ETH", 3, "3.000000000000000000"),
                rejected));

        // Then one field is sent, holding version 4
        assertThat(outcome).isEqualTo(new SnapshotWriter.Outcome(1, 1, 0));
        assertThat(SnapshotValue.decode(redis.client().hget(redis.keyPrefix + "balance:8", "ETH")).available())
                .isEqualTo(new BigDecimal("4.000000000000000001"));
    }

    @Test
    void shouldLoadTheGuardScriptAgainWhenRedisForgotIt() {
        assumeTrue(PrivateRedisServer.installed(), "redis-server is not installed");
        try (PrivateRedisServer server = PrivateRedisServer.start();
             RedisSnapshots privateRedis = new RedisSnapshots("127.0.0.1", server.port())) {
            // Given a writer that has loaded its script, and a Redis whose script cache was flushed
            SnapshotWriter writer = new SnapshotWriter(privateRedis.client(), privateRedis.keyPrefix);
            writer.write(List.of(applied(9, "BTC", 1, "1.00000000")));
            privateRedis.client().scriptFlush();

            // When the next batch is written
            SnapshotWriter.Outcome outcome = writer.write(List.of(applied(9, "BTC", 2, "2.00000000")));

            // Then it lands, through the reloaded script
            assertThat(outcome).isEqualTo(new SnapshotWriter.Outcome(1, 1, 0));
            assertThat(privateRedis.client().hget(privateRedis.keyPrefix + "balance:9", "BTC"))
                    .startsWith("2|2.00000000|");
        }
    }

    private static BalanceEvent applied(long account, String currency, long version, String available) {
        BigDecimal availableAfter = new BigDecimal(available);
        BigDecimal frozen = new BigDecimal("0.25").setScale(availableAfter.scale());
        return new BalanceEvent("tx-" + version, account, currency, ChangeType.DEPOSIT, BigDecimal.ONE, 0,
                Result.APPLIED, false, BigDecimal.ZERO, BigDecimal.ZERO, availableAfter, frozen, version,
                1_700_000_000_000L + version, null, null, null);
    }
}
