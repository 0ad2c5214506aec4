package dev.balance.launcher;

import java.io.StringWriter;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

/**
 * Everything the project and the Kafka libraries log at INFO and above while it is open, as a
 * production log would hold it (the tests' own configuration keeps Kafka at WARN on the console;
 * Kafka's INFO lines go to this capture only).
 */
final class LogCapture implements AutoCloseable {

    private static final List<String> LOGGERS = List.of("dev.balance", "org.apache.kafka");
    private final StringWriter lines = new StringWriter();
    private final WriterAppender appender;
    private final List<String> added = new java.util.ArrayList<>();

    private LogCapture() {
        appender = WriterAppender.newBuilder().setName("log-capture-" + System.identityHashCode(this))
                .setTarget(lines).setLayout(PatternLayout.newBuilder().withPattern("%c{1}: %m%n").build()).build();
    }

    static LogCapture start() {
        LogCapture capture = new LogCapture();
        capture.appender.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration configuration = context.getConfiguration();
        configuration.addAppender(capture.appender);
        for (String name : LOGGERS) {
            LoggerConfig logger = configuration.getLoggers().get(name);
            if (logger == null) {
                // Not additive: Kafka's INFO lines reach this capture, not the console.
                logger = new LoggerConfig(name, Level.INFO, false);
                configuration.addLogger(name, logger);
                capture.added.add(name);
            }
            logger.addAppender(capture.appender, Level.INFO, null);
        }
        context.updateLoggers();
        return capture;
    }

    String text() {
        return lines.toString();
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration configuration = context.getConfiguration();
        for (String name : LOGGERS) {
            LoggerConfig logger = configuration.getLoggers().get(name);
            if (logger != null) {
                logger.removeAppender(appender.getName());
            }
        }
        added.forEach(configuration::removeLogger);
        context.updateLoggers();
        appender.stop();
    }
}
