package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The console in a real browser: the system's Chromium, headless, through the system's chromedriver
 * (the Debian packages chromium and chromium-driver; nothing is downloaded), against consoles on a
 * real Postgres. One browser for the class. With CI=true a missing browser fails the class.
 */
@PostgresTest
class ConsoleBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration AWAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    private static TestDatabase db;
    private static WebDriver browser;
    private static RunningConsole operators;
    private static RunningConsole readOnly;

    @BeforeAll
    static void start(TestDatabase database) throws Exception {
        db = database;
        browser = browser();
        PgPubSub.migrate(db.dataSource());
        Files.createDirectories(dir.resolve("operators"));
        Files.createDirectories(dir.resolve("read-only"));
        operators = new RunningConsole(db, true, dir.resolve("operators"));
        readOnly = new RunningConsole(db, false, dir.resolve("read-only"));
        browser.get(operators.base() + "/login");
        browser.findElement(By.id("token")).sendKeys(RunningConsole.TOKEN);
        clickAndLoad(By.id("login-submit"));
        await().atMost(AWAIT).until(() -> !browser.findElements(By.id("logout")).isEmpty());
    }

    /**
     * Clicks what leads to another page (a link, a form's button), and waits until that page has
     * replaced this one and loaded: no assertion then reads the page it came from.
     */
    private static void clickAndLoad(By target) {
        WebElement before = browser.findElement(By.tagName("html"));
        browser.findElement(target).click();
        await().atMost(AWAIT).until(() -> stale(before)
                && "complete".equals(((JavascriptExecutor) browser).executeScript("return document.readyState")));
    }

    private static boolean stale(WebElement element) {
        try {
            element.isEnabled();
            return false;
        } catch (StaleElementReferenceException e) {
            return true;
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (operators != null) {
            operators.close();
        }
        if (readOnly != null) {
            readOnly.close();
        }
    }

    private static WebDriver browser() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String missing = "The console's browser test needs " + CHROMIUM + " and " + CHROMEDRIVER
                    + ": install the Debian packages chromium and chromium-driver (apt-get install chromium chromium-driver)";
            if ("true".equals(System.getenv("CI"))) {
                fail(missing);
            }
            Assumptions.abort(missing + "; skipped (it fails with CI=true)");
        }
        // Both paths given: Selenium Manager has nothing to find, and downloads nothing.
        System.setProperty(ChromeDriverService.CHROME_DRIVER_EXE_PROPERTY, CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    /** Publishes a task on {@code channel} and moves it to the dead letters at once; returns its id. */
    private static long deadLetter(String channel, String payload) throws Exception {
        long id;
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("SELECT pgpubsub.publish(?, ?::jsonb)")) {
            ps.setString(1, channel);
            ps.setString(2, payload);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        db.execute("WITH t AS (DELETE FROM pgpubsub.notification WHERE id = " + id + " RETURNING *)"
                + " INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, errors, reason, trace_context,"
                + " key, priority) SELECT id, channel, payload, created_at, 3, jsonb_build_array(jsonb_build_object('attempt', 3,"
                + " 'at', now(), 'error', 'boom <b>3</b>')), 'failed 3 of 3 attempts', trace_context, key, priority FROM t");
        return id;
    }

    private static long deadLetters(long id) throws Exception {
        return db.number("SELECT count(*) FROM pgpubsub.dead_letter WHERE id = " + id);
    }

    private static String cell(String channel, String column) {
        return browser.findElement(By.cssSelector("#channels tr[data-channel='" + channel + "'] td." + column)).getText();
    }

    @Test
    void theOverviewShowsEachChannelsCountsAfterPublishing() throws Exception {
        for (int i = 0; i < 3; i++) {
            db.execute("SELECT pgpubsub.publish('console_overview', '{}')");
        }
        db.execute("SELECT pgpubsub.publish('console_overview', '{}', now() + interval '1 hour')");
        long retrying = db.number("SELECT pgpubsub.publish('console_overview', '{}', now() + interval '1 hour')");
        db.execute("UPDATE pgpubsub.notification SET attempts = 1, last_error = 'boom' WHERE id = " + retrying);
        deadLetter("console_overview", "{}");
        deadLetter("console_overview", "{}");

        browser.get(operators.base() + "/");
        assertThat(cell("console_overview", "pending")).isEqualTo("5");
        assertThat(cell("console_overview", "due")).isEqualTo("3");
        assertThat(cell("console_overview", "retrying")).isEqualTo("1");
        assertThat(cell("console_overview", "dead")).isEqualTo("2");
        assertThat(cell("console_overview", "oldest-due")).matches("0:0\\d:\\d\\d");

        clickAndLoad(By.linkText("console_overview"));
        assertThat(browser.findElements(By.cssSelector("#tasks tbody tr"))).hasSize(5);
        assertThat(browser.findElement(By.cssSelector("#task-" + retrying + " td.attempts")).getText()).isEqualTo("1");
        assertThat(browser.findElement(By.cssSelector("#task-" + retrying + " td.last-error")).getText()).isEqualTo("boom");
    }

    @Test
    void requeueFromTheDeadLetterPageMovesTheTaskBackAndAListenerRunsIt() throws Exception {
        db.execute("CREATE TABLE IF NOT EXISTS handled (n bigint, attempt int)");
        long id = deadLetter("orders", "{\"n\": 4242}");
        try (Listener listener = Listener.builder().jdbcUrl(db.jdbcUrl()).user(db.user()).password(db.password())
                .handlers(new TestHandlers.Orders()).build()) {
            listener.start();
            browser.get(operators.base() + "/dead-letters?channel=orders");
            browser.findElement(By.cssSelector("#dead-" + id + " input.select")).click();
            clickAndLoad(By.id("requeue-selected"));
            assertThat(browser.findElement(By.id("question")).getText()).isEqualTo("Re-queue 1 dead letter(s)?");
            assertThat(deadLetters(id)).as("nothing moves before the confirmation").isEqualTo(1);
            clickAndLoad(By.id("confirm"));
            assertThat(browser.findElement(By.id("message")).getText()).isEqualTo("1 dead letter(s) re-queued.");
            assertThat(deadLetters(id)).isZero();
            await().atMost(AWAIT).until(() -> db.number("SELECT count(*) FROM handled WHERE n = 4242") == 1);
        }
    }

    /**
     * A real listener's heartbeat on the Listeners page: running, LISTEN on, its done counter after it
     * ran tasks; and the overview's throughput chart, an image the browser loads under the CSP.
     */
    @Test
    void theListenersPageShowsARunningListenerAndTheOverviewItsThroughputChart() throws Exception {
        db.execute("CREATE TABLE IF NOT EXISTS handled (n bigint, attempt int)");
        String row = "#listeners tr.state-running[data-pid='" + ProcessHandle.current().pid() + "']";
        try (Listener listener = Listener.builder().jdbcUrl(db.jdbcUrl()).user(db.user()).password(db.password())
                .heartbeatInterval(Duration.ofSeconds(1)).handlers(new TestHandlers.Orders()).build()) {
            listener.start();
            await().atMost(AWAIT).until(() -> {
                browser.get(operators.base() + "/listeners");
                return browser.findElements(By.cssSelector(row)).size() == 1;
            });
            assertThat(browser.findElement(By.cssSelector(row + " td.state")).getText()).isEqualTo("running");
            assertThat(browser.findElement(By.cssSelector(row + " td.listen")).getText()).isEqualTo("on");
            assertThat(browser.findElement(By.cssSelector(row + " td.channels")).getText()).contains("orders");

            for (int n = 1; n <= 3; n++) {
                db.execute("SELECT pgpubsub.publish('orders', '{\"n\": " + (700 + n) + "}')");
            }
            await().atMost(AWAIT).until(() -> {
                browser.get(operators.base() + "/listeners");
                List<WebElement> done = browser.findElements(By.cssSelector(row + " td.done"));
                return done.size() == 1 && Long.parseLong(done.get(0).getText().replace(",", "")) >= 3;
            });
        }

        browser.get(operators.base() + "/");
        WebElement chart = browser.findElement(By.id("throughput"));
        await().atMost(AWAIT).until(() -> ((Number) ((JavascriptExecutor) browser)
                .executeScript("return arguments[0].complete ? arguments[0].naturalWidth : 0", chart)).intValue() == 600);
    }

    @Test
    void purgeNeedsConfirmation() throws Exception {
        long id = deadLetter("console_purge", "{}");
        browser.get(operators.base() + "/dead-letters?channel=console_purge");
        clickAndLoad(By.cssSelector("#dead-" + id + " button.purge"));
        assertThat(browser.findElement(By.id("question")).getText()).isEqualTo("Delete for good 1 dead letter(s)?");
        clickAndLoad(By.id("cancel"));
        assertThat(browser.findElements(By.id("dead-" + id))).hasSize(1);
        assertThat(deadLetters(id)).as("cancelled: still there").isEqualTo(1);

        clickAndLoad(By.cssSelector("#dead-" + id + " button.purge"));
        clickAndLoad(By.id("confirm"));
        assertThat(browser.findElement(By.id("message")).getText()).isEqualTo("1 dead letter(s) purged.");
        assertThat(browser.findElements(By.id("none"))).hasSize(1);
        assertThat(deadLetters(id)).isZero();
    }

    @Test
    void aPayloadWithMarkupIsShownAsTextAndNoScriptRuns() throws Exception {
        String attack = "<script>document.title='pwned';window.pwned=1;</script><img src=x onerror=window.pwned=2>";
        String payloadText = "{\"html\": \"" + attack + "\", \"padding\": \"" + "x".repeat(60) + "\"}"; // cut on the page
        long id = deadLetter("console_xss", payloadText);
        browser.get(operators.base() + "/dead-letters?channel=console_xss");
        WebElement payload = browser.findElement(By.cssSelector("#dead-" + id + " td.payload"));
        assertThat(payload.getText()).contains(attack.substring(0, 60));
        payload.findElement(By.tagName("summary")).click(); // expands it: still text
        assertThat(payload.findElement(By.tagName("pre")).getText()).isEqualTo(payloadText);
        assertThat(browser.findElement(By.cssSelector("#dead-" + id + " td.last-error")).getText()).isEqualTo("boom <b>3</b>");
        assertThat(browser.findElements(By.cssSelector("#dead-letters script, #dead-letters img, #dead-letters b"))).isEmpty();
        assertThat(browser.getTitle()).isEqualTo("Dead letters · pgpubsub console");
        assertThat(((JavascriptExecutor) browser).executeScript("return typeof window.pwned")).isEqualTo("undefined");
    }

    @Test
    void aPostWithoutTheCsrfTokenIsRefused() throws Exception {
        long id = deadLetter("console_csrf", "{}");
        browser.get(operators.base() + "/dead-letters?channel=console_csrf");
        ((JavascriptExecutor) browser).executeScript("document.querySelector('#selection input[name=csrf]').remove()");
        clickAndLoad(By.cssSelector("#dead-" + id + " button.requeue"));
        assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Refused");
        assertThat(browser.findElement(By.id("message")).getText()).contains("CSRF token is missing");
        assertThat(deadLetters(id)).isEqualTo(1);
    }

    @Test
    void withoutCredentialsTheActionsAreAbsentAndRefused() throws Exception {
        long id = deadLetter("console_read_only", "{}");
        browser.get(readOnly.base() + "/dead-letters?channel=console_read_only");
        assertThat(browser.findElements(By.id("dead-" + id))).hasSize(1);
        assertThat(browser.findElements(By.id("read-only"))).hasSize(1);
        assertThat(browser.findElements(By.cssSelector("main button[type=submit]:not(#filter-apply), input[type=checkbox],"
                + " form[method=post]"))).isEmpty();

        HttpResponse<String> post = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(readOnly.base()
                        + "/dead-letters/requeue")).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("csrf=x&confirm=yes&id=" + id)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(403);
        assertThat(deadLetters(id)).isEqualTo(1);
        assertThat(List.of(browser.getCurrentUrl())).allMatch(url -> url.startsWith(readOnly.base()));
    }
}
