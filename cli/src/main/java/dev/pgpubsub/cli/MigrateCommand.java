package dev.pgpubsub.cli;

import dev.pgpubsub.core.PgPubSub;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code pgpubsub migrate}: installs or upgrades the schema. */
@Command(name = "migrate", description = "Install or upgrade the pgpubsub schema (a no-op when up to date).",
        mixinStandardHelpOptions = true)
final class MigrateCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Mixin
    LoggingOptions logging;

    private final PrintStream out;

    MigrateCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        int applied = PgPubSub.migrate(connection.dataSource(), connection.schema);
        out.println("schema '" + connection.schema + "' is up to date (" + applied + " migration(s) applied)");
        return ExitCodes.OK;
    }
}
