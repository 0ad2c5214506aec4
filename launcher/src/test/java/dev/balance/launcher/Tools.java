package dev.balance.launcher;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** External programs the checks use when they are installed (promtool, prometheus, docker, chromium). */
final class Tools {

    /** The monitoring folder of the repository (tests run in the launcher module's folder). */
    static final Path MONITORING = Path.of("..", "monitoring").toAbsolutePath().normalize();
    static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();

    private Tools() {
    }

    /** The program's path when it is on PATH and executable. */
    static Optional<Path> onPath(String name) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    record Run(int exitCode, String output) {
    }

    /** Runs a program to its end within the limit; output and errors together. */
    static Run run(List<String> command, Path workDir, Duration limit) {
        try {
            Path log = Files.createTempFile("tool", ".log");
            Process process = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(command + " did not finish within " + limit + ":\n" + Files.readString(log));
            }
            String output = Files.readString(log);
            Files.deleteIfExists(log);
            return new Run(process.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Prints why a check is skipped (the suite's output says so) and returns the reason. */
    static String skipping(String reason) {
        System.out.println("SKIPPED: " + reason);
        return reason;
    }
}
