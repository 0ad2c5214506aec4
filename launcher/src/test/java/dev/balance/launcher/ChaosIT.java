package dev.balance.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.launcher.chaos.Chaos;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short form of {@code scripts/chaos}: a broker, three nodes and both sinks as processes of
 * their own (run from this test's classpath), 90 s of load while nodes, the broker and the sinks
 * are killed and MySQL and Redis cut; every check must pass. Needs MariaDB/MySQL on
 * 127.0.0.1:3306 and Redis on 127.0.0.1:6379, like the other integration tests. With CHAOS_PLANT
 * set (verdict, mysql) the run plants a fault before its checks, and this test fails.
 */
class ChaosIT {

    @Test
    @Timeout(value = 12, unit = TimeUnit.MINUTES)
    void shortChaosRunPassesEveryCheck() throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("CHAOS_BROKER_LOG4J", Path.of("..", "scripts", "kafka-broker", "log4j2.properties").toAbsolutePath().toString());
        env.put("CHAOS_OUT_DIR", Path.of("target", "chaos").toAbsolutePath().toString());
        String duration = System.getProperty("chaos.duration", "90");
        Chaos.Result result = Chaos.run(Chaos.parse(new String[] {"--duration", duration}, env), System.out);
        assertThat(result.passed()).as("every check of the chaos run passes (see %s)", result.folder().resolve("summary.json"))
                .isTrue();
    }
}
