package dev.balance.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resident memory of a process as Linux counts it (VmRSS in {@code /proc/<pid>/status}): heap,
 * RocksDB's native memory and the JVM's own, which the JVM's heap figures leave out.
 */
final class ResidentMemory {

    private static final String FIELD = "VmRSS:";

    private ResidentMemory() {
    }

    /** The resident bytes of the running process {@code pid}. */
    static long ofProcess(long pid) {
        Path status = Path.of("/proc", Long.toString(pid), "status");
        try {
            return vmRssBytes(Files.readString(status));
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + status, e);
        }
    }

    /** The VmRSS line of a status file ({@code VmRSS:     123456 kB}) in bytes. */
    static long vmRssBytes(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith(FIELD)) {
                String[] words = line.substring(FIELD.length()).trim().split("\\s+");
                if (words.length != 2 || !words[1].equals("kB")) {
                    throw new IllegalArgumentException("unexpected VmRSS line: " + line);
                }
                return Long.parseLong(words[0]) * 1024;
            }
        }
        throw new IllegalArgumentException("no VmRSS line in the process status (a kernel thread, or not Linux)");
    }
}
