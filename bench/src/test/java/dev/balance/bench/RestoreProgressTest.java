package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RestoreProgressTest {

    @Test
    void eachPartitionCountsTheLargestRangeSeenRestoringOnce() {
        RestoreProgress progress = new RestoreProgress();

        progress.seen("""
                {"status":"NOT_READY","state":"REBALANCING","partitions":[0,1,2],"not_serving":[0,1],
                 "restoring":[{"partition":0,"restored_records":24,"total_records":27},
                              {"partition":1,"restored_records":0,"total_records":1000}]}""");
        progress.seen("""
                {"status":"NOT_READY","state":"REBALANCING","partitions":[0,1,2],"not_serving":[1],
                 "restoring":[{"partition":1,"restored_records":500,"total_records":1000}]}""");
        progress.seen("""
                {"status":"READY","state":"RUNNING","partitions":[0,1,2]}""");

        assertThat(progress.polledOffsets()).isEqualTo(27 + 1000);
        assertThat(progress.polledRanges()).isEqualTo(Map.of(0, 27L, 1, 1000L));
    }

    @Test
    void aNodeThatWasReadyAtOnceRestoredNothingSeen() {
        RestoreProgress progress = new RestoreProgress();

        progress.seen("{\"status\":\"READY\",\"state\":\"RUNNING\",\"partitions\":[0]}");

        assertThat(progress.polledOffsets()).isZero();
        assertThat(progress.polledRanges()).isEmpty();
    }

    @Test
    void restoredRecordsSumTheRestoreConsumersTakingEachClientOnce() {
        // Micrometer shows a client's total and, once it read a topic, the same count by topic; both may show.
        String metrics = """
                # TYPE kafka_consumer_fetch_manager_records_consumed_total counter
                kafka_consumer_fetch_manager_records_consumed_total{client_id="b1-x-StreamThread-1-consumer",kafka_version="4.4.0"} 999.0
                kafka_consumer_fetch_manager_records_consumed_total{client_id="b1-x-StateUpdater-1-restore-consumer",kafka_version="4.4.0"} 210.0
                kafka_consumer_fetch_manager_records_consumed_total{client_id="b1-x-StateUpdater-1-restore-consumer",kafka_version="4.4.0",topic="b1-accounts-changelog"} 210.0
                kafka_consumer_fetch_manager_records_consumed_total{client_id="b1-x-StateUpdater-2-restore-consumer",kafka_version="4.4.0",topic="b1-accounts-changelog"} 1.9E7
                kafka_consumer_fetch_manager_records_consumed_rate{client_id="b1-x-StateUpdater-2-restore-consumer",kafka_version="4.4.0"} 55.0
                """;

        assertThat(RestoreProgress.restoredRecords(metrics)).isEqualTo(210 + 19_000_000);
    }

    @Test
    void metricsWithoutRestoreConsumersSayUnknownNotZero() {
        assertThat(RestoreProgress.restoredRecords("balance_node_ready 1.0\n")).isEqualTo(-1);
    }
}
