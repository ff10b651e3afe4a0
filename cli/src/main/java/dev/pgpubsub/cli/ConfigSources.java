package dev.pgpubsub.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
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
        if (!unknown.isEmpty()) {
            throw new ConfigError("Unknown setting(s) " + unknown + " in " + filePath + "; known settings: " + new TreeSet<>(known));
        }
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

    /** The name of an option without its dashes, e.g. {@code jdbc-url}. */
    static String key(OptionSpec option) {
        return option.longestName().replaceFirst("^--", "");
    }

    /** The environment variable of a setting, e.g. PGPUBSUB_JDBC_URL. */
    static String envName(String key) {
        return "PGPUBSUB_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }
}
