package dev.balance.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the time went, from a JFR recording: the top frames of the execution samples (threads
 * running Java code) and of the native-method samples (threads inside JNI, e.g. RocksDB, or
 * blocked in the OS), plus the share of samples that have a frame of a package anywhere on the
 * stack (inclusive time).
 */
final class JfrSummary {

    private static final List<String> INCLUSIVE_PREFIXES = List.of("dev.balance.", "org.rocksdb.", "java.math.",
            "org.apache.kafka.common.compress.", "net.jpountz.", "org.apache.kafka.streams.state.internals.",
            "org.apache.kafka.clients.producer.", "org.apache.kafka.clients.consumer.");

    record Counted(String name, long samples, double share) {
    }

    record Summary(long executionSamples, List<Counted> topJava, List<Counted> inclusive, long nativeSamples,
                   List<Counted> topNative, List<Counted> threads) {
    }

    private JfrSummary() {
    }

    static Summary read(Path recording, int top) {
        Map<String, Long> topFrames = new HashMap<>();
        Map<String, Long> nativeFrames = new HashMap<>();
        Map<String, Long> inclusive = new LinkedHashMap<>();
        Map<String, Long> threads = new HashMap<>();
        long execution = 0;
        long nativeCount = 0;
        try (RecordingFile file = new RecordingFile(recording)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
                String type = event.getEventType().getName();
                RecordedStackTrace stack = event.getStackTrace();
                if (stack == null || stack.getFrames().isEmpty()) {
                    continue;
                }
                if (type.equals("jdk.ExecutionSample")) {
                    execution++;
                    topFrames.merge(frame(stack.getFrames().get(0)), 1L, Long::sum);
                    threads.merge(threadGroup(event), 1L, Long::sum);
                    for (String prefix : INCLUSIVE_PREFIXES) {
                        if (stack.getFrames().stream().anyMatch(f -> frame(f).startsWith(prefix))) {
                            inclusive.merge(prefix + "*", 1L, Long::sum);
                        }
                    }
                } else if (type.equals("jdk.NativeMethodSample")) {
                    nativeCount++;
                    nativeFrames.merge(frame(stack.getFrames().get(0)), 1L, Long::sum);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + recording, e);
        }
        return new Summary(execution, ranked(topFrames, execution, top), ranked(inclusive, execution, top),
                nativeCount, ranked(nativeFrames, nativeCount, top), ranked(threads, execution, top));
    }

    private static String frame(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }

    /** Thread names without their numbers, so the two stream threads count as one group. */
    private static String threadGroup(RecordedEvent event) {
        var thread = event.getThread("sampledThread");
        String name = thread == null || thread.getJavaName() == null ? "?" : thread.getJavaName();
        return name.replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "<uuid>").replaceAll("\\d+", "N");
    }

    private static List<Counted> ranked(Map<String, Long> counts, long total, int top) {
        return counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(top)
                .map(entry -> new Counted(entry.getKey(), entry.getValue(),
                        total == 0 ? 0 : Math.round(1000.0 * entry.getValue() / total) / 10.0))
                .toList();
    }

    static void print(Summary summary, java.io.PrintStream out) {
        out.printf("profile: %,d Java execution samples, %,d native-method samples%n", summary.executionSamples(),
                summary.nativeSamples());
        out.println("  top frames (self time, Java code):");
        summary.topJava().forEach(c -> out.printf("    %5.1f%%  %s%n", c.share(), c.name()));
        out.println("  on the stack (inclusive):");
        summary.inclusive().forEach(c -> out.printf("    %5.1f%%  %s%n", c.share(), c.name()));
        out.println("  by thread:");
        summary.threads().forEach(c -> out.printf("    %5.1f%%  %s%n", c.share(), c.name()));
        out.println("  top native frames (threads in JNI or the OS):");
        summary.topNative().forEach(c -> out.printf("    %5.1f%%  %s%n", c.share(), c.name()));
    }
}
