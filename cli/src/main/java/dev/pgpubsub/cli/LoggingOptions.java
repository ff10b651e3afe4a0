package dev.pgpubsub.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/** How the process logs, shared by every subcommand. */
final class LoggingOptions {

    /** The formats of the process's log lines. */
    enum Format { text, json }

    /** The flag choosing the format. */
    static final String FORMAT_FLAG = "--log-format";

    @Option(names = FORMAT_FLAG, paramLabel = "FORMAT",
            description = "Log lines as text or json, one JSON object per line (env PGPUBSUB_LOG_FORMAT; default: "
                    + "${DEFAULT-VALUE}).")
    Format format = Format.text;

    /** Whether log lines are JSON. */
    boolean json() {
        return format == Format.json;
    }

    /** The format the command that runs was given (its flag, variable or file key, or the default). */
    static Format of(ParseResult parsed) {
        ParseResult command = parsed;
        while (command.hasSubcommand()) {
            command = command.subcommand();
        }
        return of(command.commandSpec());
    }

    private static Format of(CommandSpec spec) {
        OptionSpec option = spec.findOption(FORMAT_FLAG);
        return option != null && option.getValue() instanceof Format format ? format : Format.text;
    }
}
