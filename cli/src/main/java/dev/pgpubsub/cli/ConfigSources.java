package dev.pgpubsub.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where a setting comes from when no flag gives it: the environment ({@code PGPUBSUB_<NAME>}), then
 * the configuration file ({@code <name>=value}, properties format), then the built-in default.
 * Flags win over the environment, the environment over the file.
 */
final class ConfigSources implements IDefaultValueProvider {

    /** The flag (and environment variable PGPUBSUB_CONFIG) naming the configuration file. */
    static final String CONFIG_FLAG = "--config";

    /** What the environment variables of settings start with. */
    private static final String PREFIX = "PGPUBSUB_";
    /** Variables read elsewhere: by the start script, the logging configuration, the error printing. */
    private static final Set<String> OTHER_VARIABLES = Set.of("PGPUBSUB_CLASSPATH", "PGPUBSUB_JAVA_OPTS",
            "PGPUBSUB_LOG_LEVEL", "PGPUBSUB_DEBUG");
    /** The variables Kubernetes sets for a service named pgpubsub. */
    private static final Pattern SERVICE_LINK = Pattern.compile("PGPUBSUB_(SERVICE_HOST|SERVICE_PORT.*|PORT|PORT_.*)");

    private final Map<String, String> env;
    private final Properties file;
    private final Path filePath;

    private ConfigSources(Map<String, String> env, Properties file, Path filePath) {
        this.env = env;
        this.file = file;
        this.filePath = filePath;
    }

    /** Finds and reads the configuration file named by {@code --config} or PGPUBSUB_CONFIG, if any. */
    static ConfigSources load(String[] args, Map<String, String> env) {
        String path = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(CONFIG_FLAG) && i + 1 < args.length) {
                path = args[i + 1];
            } else if (args[i].startsWith(CONFIG_FLAG + "=")) {
                path = args[i].substring(CONFIG_FLAG.length() + 1);
            }
        }
        if (path == null) {
            path = env.get(envName("config"));
        }
        Properties props = new Properties();
        Path filePath = null;
        if (path != null && !path.isBlank()) {
            filePath = Path.of(path);
            try (Reader reader = Files.newBufferedReader(filePath, StandardCharsets.UTF_8)) {
                props.load(reader);
            } catch (IOException e) {
                throw new ConfigError("Cannot read the configuration file '" + path + "': " + e.getMessage()
                        + ". Check the path given with --config or PGPUBSUB_CONFIG.", e);
            }
        }
        return new ConfigSources(env, props, filePath);
    }

    /** Refuses keys in the file that no option of the command knows, naming them and the known ones. */
    void checkFileKeys(Set<String> known) {
        Set<String> unknown = new TreeSet<>(file.stringPropertyNames());
        unknown.removeAll(known);
        unknown.remove("config");
        unknown.removeIf(key -> key.startsWith(ConfigSchedules.PREFIX)); // read by listen, which checks them
        if (!unknown.isEmpty()) {
            throw new ConfigError("Unknown setting(s) " + unknown + " in " + filePath + "; known settings: " + new TreeSet<>(known));
        }
    }

    /**
     * The schedules of the configuration file ({@code schedule.<name>.<field>}).
     *
     * @return the schedules; none without a file
     * @throws ConfigError when one is not valid, naming its key and the fix
     */
    List<dev.pgpubsub.listener.Schedule> schedules() {
        return ConfigSchedules.read(file, filePath);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option)) {
            return null;
        }
        String key = key(option);
        String fromEnv = env.get(envName(key));
        if (fromEnv != null) {
            return fromEnv;
        }
        return file.getProperty(key);
    }

    /** Where the value of {@code option} came from: flag, environment, file or default. */
    String sourceOf(OptionSpec option) {
        if (!option.originalStringValues().isEmpty()) {
            return "flag";
        }
        String key = key(option);
        if (env.containsKey(envName(key))) {
            return "env " + envName(key);
        }
        if (file.containsKey(key)) {
            return "file " + filePath;
        }
        return "default";
    }

    /**
     * The name the user gave an option's value by, for messages: the flag ({@code --batch-size}, also
     * when the value is the default), the environment variable ({@code PGPUBSUB_BATCH_SIZE}) or the
     * key in the file ({@code batch-size in /etc/pgpubsub.properties}).
     */
    String nameAsGiven(OptionSpec option) {
        if (option.originalStringValues().isEmpty()) {
            String key = key(option);
            if (env.containsKey(envName(key))) {
                return envName(key);
            }
            if (file.containsKey(key)) {
                return key + " in " + filePath;
            }
        }
        return option.longestName();
    }

    /**
     * One warning for each {@code PGPUBSUB_} variable of the environment that no setting reads,
     * naming the closest one that does. Such a variable is not refused: a deployment may share its
     * environment between versions. The variables Kubernetes derives from a service named pgpubsub
     * ({@code PGPUBSUB_SERVICE_HOST}, {@code PGPUBSUB_PORT_...}) are passed over in silence.
     *
     * @param keys the keys of every command's options, e.g. {@code jdbc-url}
     */
    List<String> unknownVariables(Set<String> keys) {
        Set<String> known = new TreeSet<>(OTHER_VARIABLES);
        keys.forEach(key -> known.add(envName(key)));
        List<String> warnings = new ArrayList<>();
        for (String name : new TreeSet<>(env.keySet())) {
            if (name.startsWith(PREFIX) && !known.contains(name) && !SERVICE_LINK.matcher(name).matches()) {
                String closest = known.stream().min(Comparator.comparingInt((String k) -> distance(name, k))
                        .thenComparing(Comparator.naturalOrder())).orElseThrow();
                warnings.add("unknown environment variable " + name + " is ignored; did you mean " + closest + "?");
            }
        }
        return warnings;
    }

    /** The edit (Levenshtein) distance between two names. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int replace = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(replace, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /** The name of an option without its dashes, e.g. {@code jdbc-url}. */
    static String key(OptionSpec option) {
        return option.longestName().replaceFirst("^--", "");
    }

    /** The environment variable of a setting, e.g. PGPUBSUB_JDBC_URL. */
    static String envName(String key) {
        return PREFIX + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }
}
