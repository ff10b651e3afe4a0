package dev.pgpubsub.cli;

import dev.pgpubsub.core.DeadLetter;
import dev.pgpubsub.core.DeadLetters;
import dev.pgpubsub.core.internal.Printable;
import java.io.PrintStream;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pgpubsub dead-letters [list|requeue|purge]}: the tasks that will not run again on their
 * own. {@code list} shows them with their last error; {@code requeue} puts them back (same id,
 * attempts from zero) and wakes their listeners; {@code purge} deletes them. Requeue and purge need
 * {@code --channel} or {@code --id}, so that nothing is moved by accident.
 */
@Command(name = "dead-letters", mixinStandardHelpOptions = true,
        description = "List, re-queue or purge dead letters: tasks that failed their last attempt or could not be read.")
final class DeadLettersCommand implements Callable<Integer> {

    enum Action { list, requeue, purge }

    @Mixin
    ConnectionOptions connection;

    @Mixin
    LoggingOptions logging;

    @Parameters(index = "0", defaultValue = "list", paramLabel = "ACTION",
            description = "list (the default), requeue or purge.")
    Action action;

    @Option(names = "--channel", paramLabel = "NAME", description = "Only this channel's dead letters.")
    String channel;

    @Option(names = "--id", split = ",", paramLabel = "ID",
            description = "requeue or purge these dead letters (task ids); repeatable or comma-separated.")
    List<Long> ids;

    @Option(names = "--limit", defaultValue = "50", description = "At most this many listed, oldest first (default: ${DEFAULT-VALUE}).")
    int limit;

    private final PrintStream out;

    DeadLettersCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws SQLException {
        connection.connectInstalled().close(); // says in the command line's terms when it is not installed
        DeadLetters dead = DeadLetters.of(connection.dataSource(), connection.schema);
        if (action == Action.list) {
            if (ids != null) {
                throw new ConfigError("dead-letters list takes --channel NAME and --limit N; --id is for requeue and purge");
            }
            List<DeadLetter> letters = dead.list(channel, limit);
            out.printf("%-12s %-24s %8s %-20s %s%n", "id", "channel", "attempts", "dead at", "reason / last error");
            for (DeadLetter letter : letters) {
                out.printf("%-12d %-24s %8d %-20s %s%n", letter.id(), letter.channel(), letter.attempts(),
                        letter.deadAt().toString().substring(0, 19), Printable.escape(letter.reason()));
                if (!letter.errors().isEmpty()) {
                    // Rows written before errors were escaped, or by other writers, may hold control characters.
                    out.printf("%-12s %s%n", "", Printable.escape(letter.errors().get(letter.errors().size() - 1).error()));
                }
            }
            if (letters.isEmpty()) {
                out.println("(no dead letters" + (channel == null ? "" : " on channel '" + channel + "'") + ")");
            }
            return ExitCodes.OK;
        }
        if ((channel == null) == (ids == null)) {
            throw new ConfigError("dead-letters " + action + " needs exactly one of --channel NAME or --id ID[,ID...]: "
                    + "name what to " + action + " (list them first with: pgpubsub dead-letters list)");
        }
        long[] chosen = ids == null ? null : ids.stream().mapToLong(Long::longValue).toArray();
        int done = switch (action) {
            case requeue -> chosen != null ? dead.requeue(chosen) : dead.requeueChannel(channel);
            case purge -> chosen != null ? dead.purge(chosen) : dead.purgeChannel(channel);
            case list -> throw new IllegalStateException("unreachable");
        };
        out.println(done + " dead letter(s) " + (action == Action.requeue ? "re-queued" : "purged"));
        return ExitCodes.OK;
    }
}
