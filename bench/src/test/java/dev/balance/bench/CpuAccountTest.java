package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CpuAccountTest {

    @Test
    void threadsAreGroupedByTheirRoleInTheNode() {
        assertThat(CpuAccount.Role.of("b1a2b3-topology-8f0e-StreamThread-2")).isEqualTo(CpuAccount.Role.STREAM_THREADS);
        assertThat(CpuAccount.Role.of("kafka-producer-network-thread | b1-StreamThread-1-producer"))
                .isEqualTo(CpuAccount.Role.PRODUCER_NETWORK);
        assertThat(CpuAccount.Role.of("JettyServerThreadPool-31")).isEqualTo(CpuAccount.Role.HTTP);
        assertThat(CpuAccount.Role.of("answer-2")).isEqualTo(CpuAccount.Role.HTTP);
        assertThat(CpuAccount.Role.of("main")).isEqualTo(CpuAccount.Role.GENERATOR);
        assertThat(CpuAccount.Role.of("forward-12")).isEqualTo(CpuAccount.Role.FORWARDER);
        assertThat(CpuAccount.Role.of("HttpClient-1-SelectorManager")).isEqualTo(CpuAccount.Role.GENERATOR);
        assertThat(CpuAccount.Role.of("kafka-coordinator-heartbeat-thread | b1")).isEqualTo(CpuAccount.Role.OTHER);
    }

    @Test
    void theSinksThreadsAreTheirsThroughTheirGroupNames() {
        assertThat(CpuAccount.Role.of("sink-mysql-b1-sink-mysql")).isEqualTo(CpuAccount.Role.SINK_MYSQL);
        assertThat(CpuAccount.Role.of("sink-mysql-b1-sink-mysql housekeeper")).isEqualTo(CpuAccount.Role.SINK_MYSQL);
        assertThat(CpuAccount.Role.of("kafka-coordinator-heartbeat-thread | b1-sink-mysql"))
                .isEqualTo(CpuAccount.Role.SINK_MYSQL);
        assertThat(CpuAccount.Role.of("kafka-producer-network-thread | b1-sink-mysql-dlq"))
                .isEqualTo(CpuAccount.Role.SINK_MYSQL);
        assertThat(CpuAccount.Role.of("redis-sink")).isEqualTo(CpuAccount.Role.SINK_REDIS);
        assertThat(CpuAccount.Role.of("kafka-coordinator-heartbeat-thread | b1-sink-redis"))
                .isEqualTo(CpuAccount.Role.SINK_REDIS);
        assertThat(CpuAccount.Role.of("kafka-producer-network-thread | b1-api-127.0.0.1:8080"))
                .isEqualTo(CpuAccount.Role.PRODUCER_NETWORK);
    }

    @Test
    void sinkPartsAppearOnlyWhenTheSinksRanAndServerProcessesAreParts() {
        Map<CpuAccount.Role, Long> before = threads(0L, 0L);
        Map<CpuAccount.Role, Long> after = threads(1_000_000_000L, 0L);
        after.put(CpuAccount.Role.SINK_MYSQL, 500_000_000L);
        CpuAccount.Snapshot first = new CpuAccount.Snapshot(0, before, 0, -1, 0, 0,
                Map.of("mysql_server_process", 2_000_000_000L, "redis_server_process", -1L));
        CpuAccount.Snapshot second = new CpuAccount.Snapshot(1_000_000_000L, after, 2_000_000_000L, -1, 0, 0,
                Map.of("mysql_server_process", 2_750_000_000L, "redis_server_process", -1L));

        Map<String, Object> account = CpuAccount.between(first, second, 1_000, 2);

        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> parts = (Map<String, Map<String, Object>>) account.get("parts");
        assertThat(parts.get("sink_mysql").get("cpu_s")).isEqualTo(0.5);
        assertThat(parts).doesNotContainKey("sink_redis").containsKey("http");
        assertThat(parts.get("mysql_server_process").get("cpu_s")).isEqualTo(0.75);
        assertThat(parts.get("mysql_server_process").get("us_per_unit")).isEqualTo(750.0);
        assertThat(parts).as("an unreadable server is left out").doesNotContainKey("redis_server_process");
        assertThat(CpuAccount.describe(account, "events written", "event written"))
                .contains("events written (core-seconds, CPU microseconds per event written)").contains("sink_mysql");
    }

    @Test
    void aServerIsFoundByItsProcessName() throws Exception {
        String own = Files.readString(Path.of("/proc/self/comm")).trim();

        assertThat(CpuAccount.pidOf(Set.of(own))).isNotNull();
        assertThat(CpuAccount.pidOf(Set.of("no-such-process-name"))).isNull();
    }

    @Test
    void machineLineCountsIdleAndIowaitAsNotBusy() {
        // user nice system idle iowait irq softirq steal guest guest_nice
        long[] ticks = CpuAccount.parseMachineLine("cpu  100 5 20 800 50 3 2 0 40 0");
        assertThat(ticks[1]).isEqualTo(100 + 5 + 20 + 800 + 50 + 3 + 2);
        assertThat(ticks[0]).isEqualTo(100 + 5 + 20 + 3 + 2);
    }

    @Test
    void phaseIsSplitIntoPartsPerUnitAndTheRestOfTheProcessIsNativeOrTheJvmsOwn() {
        Map<CpuAccount.Role, Long> before = threads(1_000_000_000L, 0L);
        Map<CpuAccount.Role, Long> after = threads(3_000_000_000L, 1_000_000_000L);
        // 2 s of stream threads + 1 s of generator = 3 s in threads; the process used 4 s: 1 s is the JVM's.
        CpuAccount.Snapshot first = new CpuAccount.Snapshot(0, before, 10_000_000_000L, 5_000_000_000L, 1_000, 2_000);
        CpuAccount.Snapshot second = new CpuAccount.Snapshot(2_000_000_000L, after, 14_000_000_000L, 6_000_000_000L,
                1_300, 2_400);

        Map<String, Object> account = CpuAccount.between(first, second, 100_000, 2);

        assertThat(CpuAccount.seconds(account, CpuAccount.Role.STREAM_THREADS)).isEqualTo(2.0);
        assertThat(CpuAccount.seconds(account, CpuAccount.Role.GENERATOR)).isEqualTo(1.0);
        assertThat(CpuAccount.processSeconds(account)).isEqualTo(4.0);
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> parts = (Map<String, Map<String, Object>>) account.get("parts");
        assertThat(parts.get("stream_threads").get("us_per_unit")).isEqualTo(20.0);
        assertThat(parts.get("native_gc_jit_and_ended_threads").get("cpu_s")).isEqualTo(1.0);
        assertThat(parts.get("broker_process").get("cpu_s")).isEqualTo(1.0);
        assertThat(account.get("machine_busy_share")).isEqualTo(0.75);
        // 0.75 x 2 cores x 2 s = 3 core-seconds for 100,000 units: 30 us each, so 2 cores carry 66,667/s.
        assertThat(account.get("machine_cpu_us_per_unit")).isEqualTo(30.0);
        assertThat(account.get("ceiling_per_s_at_this_cost")).isEqualTo(66_667L);
    }

    @Test
    void brokerTimeIsReadFromProcForTheGivenPidAndGrowsWithWork() {
        CpuAccount account = new CpuAccount(Map.of("BENCH_BROKER_PID", Long.toString(ProcessHandle.current().pid())));
        long before = account.snapshot().brokerNanos();
        long sink = 0;
        long until = System.nanoTime() + 300_000_000L;
        while (System.nanoTime() < until) {
            sink += Long.numberOfTrailingZeros(sink + System.nanoTime());
        }
        long after = account.snapshot().brokerNanos();
        assertThat(before).isGreaterThanOrEqualTo(0);
        assertThat(after - before).as("CPU burnt: %d", sink).isGreaterThanOrEqualTo(100_000_000L);
    }

    @Test
    void withoutABrokerPidTheBrokerPartIsLeftOut() {
        CpuAccount account = new CpuAccount(Map.of());
        CpuAccount.Snapshot snapshot = account.snapshot();
        assertThat(snapshot.brokerNanos()).isEqualTo(-1);
        Map<String, Object> phase = CpuAccount.between(snapshot, account.snapshot(), 1, 2);
        assertThat(((Map<?, ?>) phase.get("parts")).containsKey("broker_process")).isFalse();
    }

    private static Map<CpuAccount.Role, Long> threads(long stream, long generator) {
        Map<CpuAccount.Role, Long> map = new EnumMap<>(CpuAccount.Role.class);
        for (CpuAccount.Role role : CpuAccount.Role.values()) {
            map.put(role, 0L);
        }
        map.put(CpuAccount.Role.STREAM_THREADS, stream);
        map.put(CpuAccount.Role.GENERATOR, generator);
        return map;
    }
}
