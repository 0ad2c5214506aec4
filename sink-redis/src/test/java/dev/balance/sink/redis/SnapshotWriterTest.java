package dev.balance.sink.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.topology.model.BalanceEvent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SnapshotWriterTest {

    @Test
    void shouldKeepOnlyTheNewestAppliedEventPerAccountAndCurrency() {
        // A naive model: the applied event with the highest version per field wins.
        EventStream stream = new EventStream(3, 1, 5);
        List<BalanceEvent> events = new ArrayList<>(stream.next(2_000));
        java.util.Collections.shuffle(events, new java.util.Random(9));
        Map<String, BalanceEvent> model = new HashMap<>();
        for (BalanceEvent event : events) {
            if (event.movedBalance()) {
                model.merge(event.accountId() + "/" + event.currency(), event,
                        (a, b) -> a.version() >= b.version() ? a : b);
            }
        }

        Collection<BalanceEvent> newest = SnapshotWriter.newestPerField(events);

        assertThat(newest).containsExactlyInAnyOrderElementsOf(model.values());
        assertThat(newest).allMatch(BalanceEvent::movedBalance);
    }

    @Test
    void shouldLoadTheGuardScriptFromTheClasspath() {
        assertThat(SnapshotWriter.GUARD_SCRIPT).contains("HSET").contains("return 0");
    }
}
