package dev.balance.sink.redis;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the Redis sink alone, configured from the environment, until the process is told to stop
 * (SIGTERM or Ctrl-C), when it closes the sink so the current batch is abandoned uncommitted rather
 * than half-acknowledged. Metrics stay in memory here; the service launcher passes its Prometheus
 * registry instead.
 */
public final class RedisSinkMain {

    private static final Logger log = LoggerFactory.getLogger(RedisSinkMain.class);

    private RedisSinkMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        RedisSink sink = new RedisSink(RedisSinkConfig.fromEnv(System.getenv()), new SimpleMeterRegistry());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stop requested, closing the Redis sink");
            sink.close();
        }, "redis-sink-shutdown"));
        sink.start();
        sink.awaitStopped();
        if (sink.failure().isPresent()) {
            // A supervisor restarting the process is the recovery for an error the sink cannot handle.
            System.exit(1);
        }
    }
}
