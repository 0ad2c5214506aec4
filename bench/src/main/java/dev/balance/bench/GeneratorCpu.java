package dev.balance.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * CPU time of the load generator's own threads (the main thread, which schedules the requests,
 * the HTTP client's selector and executor, the progress line), so a result can show that the
 * generator was not the bottleneck even when it shares the JVM with an in-process node. The
 * node's threads (Kafka, Streams, Jetty) are named otherwise and not counted.
 */
final class GeneratorCpu {

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();

    /** Total CPU nanoseconds used so far by the live threads of the generator. */
    long nanos() {
        long sum = 0;
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (isGenerator(thread.getName())) {
                long cpu = threads.getThreadCpuTime(thread.getId());
                sum += Math.max(cpu, 0);
            }
        }
        return sum;
    }

    static boolean isGenerator(String threadName) {
        return threadName.equals("main") || threadName.startsWith("loadgen-") || threadName.startsWith("HttpClient-");
    }
}
