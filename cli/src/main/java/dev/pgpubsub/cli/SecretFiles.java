package dev.pgpubsub.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads a secret (a password, a token) from the file a flag names, with errors that say what is wrong with the file. */
final class SecretFiles {

    private SecretFiles() {
    }

    /**
     * The file's text, without its trailing line breaks.
     *
     * @param file the file
     * @param what what it holds, for the message, e.g. "console token file"
     * @param flag the flag that named it, for the message, e.g. "--console-token-file"
     * @throws ConfigError when the file is missing, unreadable, or cannot be read
     */
    static String read(Path file, String what, String flag) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).replaceFirst("\\R+\\z", "");
        } catch (NoSuchFileException e) {
            throw new ConfigError("The " + what + " '" + file + "' does not exist: create it, or give its path with "
                    + flag, e);
        } catch (AccessDeniedException e) {
            throw new ConfigError("The " + what + " '" + file + "' is not readable by this user ("
                    + System.getProperty("user.name") + "): let it read the file (e.g. chmod or chown), or run as its owner", e);
        } catch (IOException e) {
            throw new ConfigError("Cannot read the " + what + " '" + file + "': " + e, e);
        }
    }
}
