package dev.balance.api;

import java.io.StringWriter;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

/** The lines nodes of this JVM write on the audit logger, as the operator's log would hold them. */
final class AuditCapture {

    private static final String LOGGER = "dev.balance.audit";
    private final StringWriter lines = new StringWriter();

    private AuditCapture() {
    }

    /** Adds a writer to the audit logger; every node started in this JVM afterwards writes to it too. */
    static AuditCapture start() {
        AuditCapture capture = new AuditCapture();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration configuration = context.getConfiguration();
        WriterAppender appender = WriterAppender.newBuilder().setName("audit-capture-" + System.identityHashCode(capture))
                .setTarget(capture.lines).setLayout(PatternLayout.newBuilder().withPattern("%m%n").build()).build();
        appender.start();
        configuration.addAppender(appender);
        LoggerConfig audit = configuration.getLoggers().get(LOGGER);
        if (audit == null) {
            audit = new LoggerConfig(LOGGER, Level.INFO, true);
            configuration.addLogger(LOGGER, audit);
        }
        audit.addAppender(appender, Level.INFO, null);
        context.updateLoggers();
        return capture;
    }

    String text() {
        return lines.toString();
    }
}
