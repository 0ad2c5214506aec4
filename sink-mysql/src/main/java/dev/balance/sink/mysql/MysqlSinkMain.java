package dev.balance.sink.mysql;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Runs the MySQL sink alone, configured from the environment, until the process is told to stop
 * (SIGTERM or SIGINT run the shutdown hook, which closes the sink). Exits with status 1 when the
 * sink stops by itself because of an unexpected error.
 */
public final class MysqlSinkMain {

    private MysqlSinkMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        MysqlSinkConfig config = MysqlSinkConfig.fromEnv(System.getenv());
        // Standalone runs keep meters in memory; the launcher of the full service exports them.
        MysqlSink sink = new MysqlSink(config, new SimpleMeterRegistry());
        Runtime.getRuntime().addShutdownHook(new Thread(sink::close, "sink-mysql-shutdown"));
        sink.start();
        sink.awaitTermination();
        if (sink.failure().isPresent()) {
            System.exit(1);
        }
    }
}
