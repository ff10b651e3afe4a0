package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.status.Status;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.bridge.SLF4JBridgeHandler;
import tools.jackson.databind.json.JsonMapper;

/** The standalone process's logging, with its own {@code logback.xml}: one line per expected failure, one format. */
class ProcessLoggingTest {

    private static final String TIME_LEVEL_THREAD = "\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (WARN |ERROR|INFO |DEBUG) \\[[^]]+] ";

    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    private PrintStream stderr;

    @BeforeEach
    void configureAsTheProcessDoes() throws Exception {
        stderr = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        configure("logback.xml");
        ProcessLogging.install();
    }

    @AfterEach
    void restore() throws Exception {
        SLF4JBridgeHandler.uninstall();
        System.setErr(stderr);
        configure("logback-test.xml");
    }

    @Test
    void aWarningWithAnExceptionIsOneLine() {
        LoggerFactory.getLogger("com.zaxxer.hikari.pool.ProxyConnection").warn(
                "pgpubsub-1-workers - Connection marked as broken because of SQLSTATE(57P01)", terminated());
        List<String> lines = lines();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).matches(TIME_LEVEL_THREAD + ".*")
                .endsWith("marked as broken because of SQLSTATE(57P01) (SQLException: FATAL: terminating connection due to "
                        + "administrator command)");
    }

    @Test
    void aWrappedCauseIsNamedOnTheSameLine() {
        LoggerFactory.getLogger("dev.pgpubsub.listener.internal.claim.OutageBackoff").warn("claiming failed",
                new IllegalStateException("Connection is not available, request timed out after 10000ms", terminated()));
        List<String> lines = lines();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).endsWith("claiming failed (IllegalStateException: Connection is not available, request timed "
                + "out after 10000ms; caused by SQLException: FATAL: terminating connection due to administrator command)");
    }

    @Test
    void anErrorKeepsItsStack() {
        LoggerFactory.getLogger("dev.pgpubsub.listener.Listener").error("giving up", terminated());
        assertThat(lines()).hasSizeGreaterThan(3).anyMatch(line -> line.startsWith("\tat "));
    }

    @Test
    void aWarningsStackIsPrintedWhenItsLoggerIsAtDebug() {
        context.getLogger("dev.pgpubsub.listener").setLevel(Level.DEBUG);
        LoggerFactory.getLogger("dev.pgpubsub.listener.internal.claim.OutageBackoff").warn("claiming failed", terminated());
        assertThat(lines()).hasSizeGreaterThan(3).anyMatch(line -> line.startsWith("\tat "));
    }

    @Test
    void javaUtilLoggingRecordsShareTheProcesssFormat() {
        java.util.logging.Logger.getLogger("com.impossibl.postgres.jdbc.PGDirectConnection")
                .warning("Connection closed by the server");
        List<String> lines = lines();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).matches(TIME_LEVEL_THREAD + "c\\.i\\.p\\.j\\.PGDirectConnection - Connection closed by the server");
    }

    /** In JSON, a warning keeps its exception's classes and messages, causes included, but not its stack frames. */
    @Test
    void aJsonWarningKeepsItsExceptionWithoutItsFrames() {
        ProcessLogging.use(LoggingOptions.Format.json);
        MDC.put("pgpubsub.task.id", "42");
        try {
            LoggerFactory.getLogger("dev.pgpubsub.listener.internal.claim.OutageBackoff").warn("claiming failed",
                    new IllegalStateException("Connection is not available", terminated()));
        } finally {
            MDC.clear();
        }
        List<String> lines = lines();
        assertThat(lines).hasSize(1);
        Map<String, Object> line = json(lines.get(0));
        assertThat(line).containsEntry("level", "WARN").containsEntry("formattedMessage", "claiming failed")
                .containsEntry("loggerName", "dev.pgpubsub.listener.internal.claim.OutageBackoff")
                .containsEntry("mdc", Map.of("pgpubsub.task.id", "42")).containsKeys("timestamp", "threadName")
                .doesNotContainKeys("message", "arguments", "sequenceNumber", "context");
        Map<String, Object> thrown = object(line.get("throwable"));
        assertThat(thrown).containsEntry("className", "java.lang.IllegalStateException")
                .containsEntry("message", "Connection is not available").containsEntry("stepArray", List.of());
        assertThat(object(thrown.get("cause"))).containsEntry("className", "java.sql.SQLException")
                .containsEntry("stepArray", List.of());
    }

    @Test
    void aJsonErrorKeepsItsFramesAndSoDoesAWarningWhoseLoggerIsAtDebug() {
        ProcessLogging.use(LoggingOptions.Format.json);
        ProcessLogging.use(LoggingOptions.Format.json); // idempotent
        LoggerFactory.getLogger("dev.pgpubsub.listener.Listener").error("giving up", terminated());
        context.getLogger("dev.pgpubsub.listener").setLevel(Level.DEBUG);
        LoggerFactory.getLogger("dev.pgpubsub.listener.internal.claim.OutageBackoff").warn("claiming failed", terminated());
        List<String> lines = lines();
        assertThat(lines).hasSize(2).allSatisfy(text -> assertThat((List<?>) object(json(text).get("throwable"))
                .get("stepArray")).isNotEmpty());
        assertThat(json(lines.get(0))).containsEntry("mdc", Map.of());
    }

    private static Map<String, Object> json(String line) {
        return object(JsonMapper.builder().build().readValue(line, Map.class));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value) {
        return (Map<String, Object>) value;
    }

    private static SQLException terminated() {
        return new SQLException("FATAL: terminating connection due to administrator command\n  Where: a second line", "57P01");
    }

    private List<String> lines() {
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    /**
     * The process's configuration draws no warning from logback: one (a deprecated attribute) makes it
     * print its whole status, some 45 lines, on stdout at every start, into a script's
     * {@code ID=$(bin/pgpubsub publish ...)}.
     */
    @Test
    void theConfigurationDrawsNoWarningFromLogback() throws Exception {
        configure("logback.xml");
        assertThat(context.getStatusManager().getCopyOfStatusList()).filteredOn(s -> s.getLevel() >= Status.WARN)
                .extracting(Status::getMessage).isEmpty();
    }

    private void configure(String resource) throws Exception {
        context.reset();
        context.getStatusManager().clear();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(getClass().getClassLoader().getResource(resource));
    }
}
