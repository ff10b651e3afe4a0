package dev.pgpubsub.cli;

import dev.pgpubsub.core.internal.Names;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pgpubsub publish CHANNEL JSON}: publishes one task, for scripts and operators. */
@Command(name = "publish", description = "Publish one task: pgpubsub publish orders '{\"orderId\": 42}'.",
        mixinStandardHelpOptions = true)
final class PublishCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Parameters(index = "0", paramLabel = "CHANNEL", description = "The channel.")
    String channel;

    @Parameters(index = "1", paramLabel = "JSON", description = "The payload, as JSON.")
    String json;

    @Option(names = "--run-at", paramLabel = "TIME", description = "Not before this time (ISO-8601, e.g. 2030-01-01T10:00:00Z).")
    OffsetDateTime runAt;

    private final PrintStream out;

    PublishCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws SQLException {
        Names.requireChannel(channel, Names.requireSchema(connection.schema));
        try (Connection c = connection.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT " + connection.schema + ".publish(?, ?::jsonb, ?)")) {
            ps.setString(1, channel);
            ps.setString(2, json);
            if (runAt == null) {
                ps.setNull(3, Types.TIMESTAMP_WITH_TIMEZONE);
            } else {
                ps.setObject(3, runAt, Types.TIMESTAMP_WITH_TIMEZONE);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                out.println(rs.getLong(1));
            }
        } catch (SQLException e) {
            if ("22P02".equals(e.getSQLState())) {
                throw new ConfigError("The payload is not valid JSON: " + e.getMessage(), e);
            }
            throw e;
        }
        return ExitCodes.OK;
    }
}
