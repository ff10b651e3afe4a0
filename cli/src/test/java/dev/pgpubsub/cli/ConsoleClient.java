package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The console's tests' HTTP client: GET and form POSTs with a session cookie and extra headers, the CSRF field, a login. */
final class ConsoleClient {

    private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** A GET without a session. */
    HttpResponse<String> get(String url) throws Exception {
        return get(url, null);
    }

    /** A GET with the session cookie {@code cookie} ({@code name=value}), or none when null. */
    HttpResponse<String> get(String url, String cookie) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(url)).GET(), cookie);
    }

    /**
     * A form POST of {@code body} (already URL-encoded), with the session cookie when not null and the
     * headers given as name, value pairs.
     */
    HttpResponse<String> post(String url, String cookie, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return send(request, cookie);
    }

    /** Any request, with the session cookie when not null. */
    HttpResponse<String> send(HttpRequest.Builder request, String cookie) throws Exception {
        if (cookie != null) {
            request.header("Cookie", cookie);
        }
        return client.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Logs in to the console at {@code base} with {@link RunningConsole#TOKEN}; the session cookie. */
    String login(String base) throws Exception {
        String csrf = csrf(get(base + "/login").body());
        HttpResponse<String> login = post(base + "/login", null, "csrf=" + csrf + "&token=" + RunningConsole.TOKEN);
        assertThat(login.statusCode()).as(login.body()).isEqualTo(303);
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        return cookie.substring(0, cookie.indexOf(';'));
    }

    /** The value of the page's (first) CSRF field. */
    static String csrf(String page) {
        Matcher m = CSRF.matcher(page);
        assertThat(m.find()).as("a CSRF field in " + page).isTrue();
        return m.group(1);
    }
}
