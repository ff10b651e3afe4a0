package dev.pgpubsub.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The standalone process: {@code pgpubsub [COMMAND] [options]}, the commands being those {@link #run} adds
 * ({@code listen} when none is named). Settings come
 * from flags, then environment variables ({@code PGPUBSUB_*}), then a properties file
 * ({@code --config}); see docs/configuration.md. Exit codes: 0 done, 1 failure, 2 bad configuration,
 * 3 database unreachable for longer than the outage limit, 4 login refused, 5 unknown database, 6 pgpubsub not
 * installed, 7 and 8 a task not cancelled (running, not found), 130 a second stop signal (docs/configuration.md).
 */
public final class Main {

    @Command(name = "pgpubsub", mixinStandardHelpOptions = true, versionProvider = BuildVersion.class,
            description = "Postgres as a reliable task bus. Without a command: listen.")
    static final class Root {
    }

    /** The command that runs when none is named. */
    private static final String LISTEN = "listen";

    private Main() {
    }

    /**
     * Runs the process; exits with the command's exit code.
     *
     * @param args an optional command ({@code listen} when none is named) and its options, e.g.
     *             {@code migrate --jdbc-url jdbc:postgresql://localhost:5432/shop}
     */
    public static void main(String[] args) {
        ProcessLogging.install();
        int code = run(args, System.getenv(), System.in, System.out, System.err, StopSignal::installed,
                Thread.currentThread().getContextClassLoader());
        System.exit(code);
    }

    /** Runs a command and returns its exit code; never throws. */
    static int run(String[] args, Map<String, String> env, InputStream in, PrintStream out, PrintStream err,
            Supplier<StopSignal> signals, ClassLoader loader) {
        ConfigSources sources;
        try {
            sources = ConfigSources.load(args, env);
        } catch (ConfigError e) {
            err.println("pgpubsub: " + Failures.message(e));
            return ExitCodes.BAD_CONFIGURATION;
        }
        CommandLine cli = new CommandLine(new Root())
                .addSubcommand(LISTEN, new ListenCommand(sources, err, signals, loader))
                .addSubcommand("migrate", new MigrateCommand(out))
                .addSubcommand("status", new StatusCommand(out))
                .addSubcommand("publish", new PublishCommand(out, in))
                .addSubcommand("dead-letters", new DeadLettersCommand(out))
                .addSubcommand("cancel", new CancelCommand(out))
                .addSubcommand("console", new ConsoleCommand(signals));
        cli.setDefaultValueProvider(sources);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        Set<String> keys = cli.getSubcommands().values().stream().flatMap(sub -> sub.getCommandSpec().options().stream())
                .map(ConfigSources::key).collect(Collectors.toSet());
        sources.unknownVariables(keys).forEach(warning -> err.println("pgpubsub: WARN " + warning));
        cli.setParameterExceptionHandler((e, arguments) -> {
            String message = Failures.message(e);
            if (e.getArgSpec() instanceof OptionSpec option) {
                // A bad value from the environment or the file: name it as the user wrote it, not as the flag.
                message = message.replace("option '" + option.longestName() + "'", sources.nameAsGiven(option));
            }
            err.println("pgpubsub: " + message + " (see: pgpubsub "
                    + e.getCommandLine().getCommandName().replace("pgpubsub", "").trim() + " --help)");
            return ExitCodes.BAD_CONFIGURATION;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            boolean debug = env.containsKey("PGPUBSUB_DEBUG");
            if (LoggingOptions.of(parseResult) == LoggingOptions.Format.json) {
                // A line among the others, for whatever reads them.
                LoggerFactory.getLogger(Main.class).error(Failures.message(e), debug ? e : null);
                return Failures.exitCode(e);
            }
            err.println("pgpubsub: " + Failures.message(e));
            if (debug) {
                e.printStackTrace(err);
            }
            return Failures.exitCode(e);
        });
        cli.setExecutionStrategy(parseResult -> {
            LoggingOptions.Format format = LoggingOptions.of(parseResult);
            ProcessLogging.use(format);
            warn(parseResult, format, err);
            return new CommandLine.RunLast().execute(parseResult);
        });
        String[] effective = withDefaultCommand(args, cli.getSubcommands().keySet());
        try {
            CommandLine sub = cli.getSubcommands().get(effective.length > 0 ? effective[0] : "");
            if (sub != null) {
                Set<String> known = sub.getCommandSpec().options().stream().map(ConfigSources::key).collect(Collectors.toSet());
                sources.checkFileKeys(known);
            }
        } catch (ConfigError e) {
            err.println("pgpubsub: " + Failures.message(e));
            return ExitCodes.BAD_CONFIGURATION;
        }
        return cli.execute(effective);
    }

    /** One line on stderr (a log line, in JSON) for each setting that works but should be given otherwise. */
    private static void warn(ParseResult parsed, LoggingOptions.Format format, PrintStream err) {
        ParseResult command = parsed;
        while (command.hasSubcommand()) {
            command = command.subcommand();
        }
        if (command.hasMatchedOption(ConnectionOptions.PASSWORD_FLAG)) {
            String warning = ConnectionOptions.PASSWORD_FLAG + " shows the password to every user of this machine (in the "
                    + "process list): give it with --password-file FILE or " + ConfigSources.envName("password") + " instead";
            if (format == LoggingOptions.Format.json) {
                LoggerFactory.getLogger(Main.class).warn(warning);
            } else {
                err.println("pgpubsub: WARN " + warning);
            }
        }
    }

    /** {@code listen} when no command is named. */
    static String[] withDefaultCommand(String[] args, Set<String> commands) {
        boolean named = args.length > 0 && commands.contains(args[0]);
        boolean rootHelp = args.length > 0 && Set.of("-h", "--help", "-V", "--version").contains(args[0]);
        if (named || rootHelp) {
            return args;
        }
        String[] withListen = new String[args.length + 1];
        withListen[0] = LISTEN;
        System.arraycopy(args, 0, withListen, 1, args.length);
        return withListen;
    }
}
