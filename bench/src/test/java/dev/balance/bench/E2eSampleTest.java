package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class E2eSampleTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void anIntervalGivesTheNodesRateAndEachSinksLagChangeAndRates() {
        E2eReading before = reading(5 * SECOND, 0, 1_000, 100, 900, 800, 0, 1_000, -1);
        E2eReading after = reading(15 * SECOND, 400_000, 401_000, 150_000, 251_000, 250_000, 10, 400_990, -1);

        E2eSample sample = E2eSample.between("load", 0, before, after);

        assertThat(sample.elapsedS()).isEqualTo(15.0);
        assertThat(sample.intervalS()).isEqualTo(10.0);
        assertThat(sample.changesPerS()).isEqualTo(40_000.0);
        assertThat(sample.eventsPerS()).isEqualTo(40_000.0);
        E2eSample.Sink mysql = sample.sinks().get(0);
        assertThat(mysql.name()).isEqualTo("mysql");
        assertThat(mysql.lag()).isEqualTo(150_000);
        assertThat(mysql.lagChange()).isEqualTo(149_900);
        assertThat(mysql.eventsPerS()).isEqualTo(25_010.0);
        assertThat(mysql.writtenPerS()).isEqualTo(24_920.0);
        E2eSample.Sink redis = sample.sinks().get(1);
        assertThat(redis.eventsPerS()).isEqualTo(39_999.0);
        assertThat(redis.writtenPerS()).as("no meter, no rate").isNull();
    }

    @Test
    void theLineNamesThePhaseTheNodesRateAndEachSinksLagAndRate() {
        E2eReading before = reading(0, 0, 1_000, 100, 900, 800, 0, 1_000, 1_000);
        E2eReading after = reading(10 * SECOND, 400_000, 401_000, 150_000, 251_000, 250_000, 10, 400_990, 400_000);

        String line = E2eSample.between("load", 0, before, after).line();

        assertThat(line).isEqualTo("[load]    10 s  node 40,000 changes/s"
                + " | mysql lag 150,000 (+149,900) 25,010 events/s | redis lag 10 (+10) 39,999 events/s");
    }

    @Test
    void aFallingLagShowsAsANegativeChange() {
        E2eReading before = reading(0, 7, 500_000, 120_000, 380_000, 0, 0, 500_000, 0);
        E2eReading after = reading(2 * SECOND, 7, 500_000, 20_000, 480_000, 0, 0, 500_000, 0);

        E2eSample sample = E2eSample.between("drain", 0, before, after);

        assertThat(sample.changesPerS()).isZero();
        assertThat(sample.line()).contains("[drain]     2 s  node 0 changes/s")
                .contains("mysql lag 20,000 (-100,000) 50,000 events/s").contains("redis lag 0 (+0) 0 events/s");
    }

    @Test
    void theSeriesMeasuresEachSampleFromTheLastReadingOfItsPhaseAndPrintsIt() {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        E2eSample.Series series = new E2eSample.Series(new PrintStream(printed, true, StandardCharsets.UTF_8));

        series.begin("load", reading(0, 0, 0, 0, 0, 0, 0, 0, 0));
        series.add(reading(10 * SECOND, 100, 100, 50, 50, 50, 0, 100, 100));
        series.add(reading(20 * SECOND, 300, 300, 0, 300, 300, 0, 300, 300));
        series.begin("drain", reading(20 * SECOND, 300, 300, 0, 300, 300, 0, 300, 300));
        series.add(reading(25 * SECOND, 300, 300, 0, 300, 300, 0, 300, 300));

        assertThat(series.inPhase("load")).hasSize(2);
        assertThat(series.inPhase("load").get(1).changesPerS()).isEqualTo(20.0);
        assertThat(series.inPhase("load").get(1).elapsedS()).isEqualTo(20.0);
        assertThat(series.inPhase("drain")).singleElement()
                .satisfies(sample -> assertThat(sample.elapsedS()).isEqualTo(5.0));
        assertThat(series.toMaps()).hasSize(3);
        assertThat(printed.toString(StandardCharsets.UTF_8).lines()).hasSize(3);
        Map<String, Object> first = series.toMaps().get(0);
        assertThat(first.get("phase")).isEqualTo("load");
        assertThat(first.get("node_changes_per_s")).isEqualTo(10L);
        assertThat(((Map<?, ?>) first.get("mysql")).get("lag")).isEqualTo(50L);
    }

    private static E2eReading reading(long nanos, long changes, long events, long mysqlLag, long mysqlCommitted,
                                      long mysqlRows, long redisLag, long redisCommitted, long redisFields) {
        Map<String, E2eReading.Sink> sinks = new LinkedHashMap<>();
        sinks.put("mysql", new E2eReading.Sink(new GroupLag(mysqlLag, mysqlCommitted), mysqlRows));
        sinks.put("redis", new E2eReading.Sink(new GroupLag(redisLag, redisCommitted), redisFields));
        return new E2eReading(nanos, changes, events, new GroupLag(0, changes), sinks);
    }
}
