package dev.pgpubsub.cli;

import dev.pgpubsub.core.Tasks;
import java.io.PrintStream;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pgpubsub cancel --id ID | --channel NAME --key KEY}: removes a pending task, without waiting
 * for a running one. Exit code 0 when it was cancelled, 7 when its handler is running (nothing is
 * done), 8 when no pending task has that id or key.
 */
@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = {"Cancel a pending task: pgpubsub cancel --id 42, or pgpubsub cancel --channel orders --key order-42:invoice.",
            "Exit code 0: cancelled; 7: its handler is running (nothing done); 8: no such pending task."})
final class CancelCommand implements Callable<Integer> {

    @Mixin
    ConnectionOptions connection;

    @Mixin
    LoggingOptions logging;

    @Option(names = "--id", paramLabel = "ID", description = "The task's id.")
    Long id;

    @Option(names = "--channel", paramLabel = "NAME", description = "The channel of the task with --key.")
    String channel;

    @Option(names = "--key", paramLabel = "KEY", description = "The task's unique key on --channel.")
    String key;

    @Option(names = "--wait", paramLabel = "DURATION", defaultValue = "0s", converter = DurationConverter.class,
            description = "While its handler runs, try again until it has ended, for at most this long (e.g. 30s). "
                    + "Default: 0s, do not wait.")
    java.time.Duration wait;

    private final PrintStream out;

    CancelCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws SQLException {
        boolean byKey = channel != null || key != null;
        if ((id == null) == !byKey || (byKey && (channel == null || key == null))) {
            throw new ConfigError("cancel needs either --id ID, or --channel NAME with --key KEY: name the task to cancel");
        }
        connection.connectInstalled().close(); // says in the command line's terms when it is not installed
        Tasks tasks = Tasks.of(connection.dataSource(), connection.schema);
        String what = id != null ? "task " + id : "the task with key \"" + key + "\" on channel '" + channel + "'";
        return switch (id != null ? tasks.cancel(id, wait) : tasks.cancel(channel, key, wait)) {
            case CANCELLED -> {
                out.println("cancelled " + what);
                yield ExitCodes.OK;
            }
            case RUNNING -> {
                out.println("not cancelled: " + what + " is running (its claim holds it; a task cannot be stopped in the "
                        + "middle of its transaction). If its handler fails, it is pending again and may be cancelled then.");
                yield ExitCodes.TASK_RUNNING;
            }
            case NOT_FOUND -> {
                out.println("not found: no pending task is " + what + " (unknown, done, or in the dead letters)");
                yield ExitCodes.TASK_NOT_FOUND;
            }
        };
    }
}
