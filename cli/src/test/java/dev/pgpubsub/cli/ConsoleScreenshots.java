package dev.pgpubsub.cli;

import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.testing.PostgresServer;
import dev.pgpubsub.testing.TestDatabase;
import dev.pgpubsub.testing.TestServers;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Takes the console's screenshots in docs: a test Postgres (as the tests get theirs), seeded like
 * the demo (channels with pending, due and retrying tasks; several hundred dead letters with reasons
 * and error histories, one payload with a {@code <script>} element; a running listener with a
 * minute of throughput), a console with a token, and headless Chromium at 1280x900, as in
 * {@link ConsoleBrowserTest}. Writes {@code overview.png}, {@code dead-letters.png} and
 * {@code listeners.png} to the directory given as the argument. Not a test: run it with
 * {@code exec:java} (docs/console.md says how).
 */
public final class ConsoleScreenshots {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private ConsoleScreenshots() {
    }

    /** Takes the screenshots into the directory {@code args[0]}. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ConsoleScreenshots DIRECTORY");
            System.exit(2);
        }
        Path out = Files.createDirectories(Path.of(args[0]));
        Path work = Files.createTempDirectory("console-screenshots");
        try (PostgresServer server = TestServers.start(TestServers.chooseSource(System::getenv, System::getProperty,
                TestServers::dockerAnswers));
                TestDatabase db = server.createDatabase("ConsoleScreenshots")) {
            seed(db);
            try (Listener listener = Listener.builder().jdbcUrl(db.jdbcUrl()).user(db.user()).password(db.password())
                    .heartbeatInterval(Duration.ofSeconds(1)).handlers(new TestHandlers.Orders()).build();
                    RunningConsole console = new RunningConsole(db, true, work)) {
                listener.start();
                System.out.println("Publishing orders for 90 s, for the throughput chart");
                ScheduledExecutorService orders = Executors.newSingleThreadScheduledExecutor();
                AtomicInteger second = new AtomicInteger();
                orders.scheduleAtFixedRate(() -> {
                    int s = second.getAndIncrement();
                    int rate = 40 + (int) (30 * Math.sin(s / 9.0)) + (s > 45 ? 40 : 0);
                    try {
                        db.execute("SELECT pgpubsub.publish('orders', jsonb_build_object('n', n)) FROM generate_series(1, "
                                + rate + ") n");
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                }, 0, 1, TimeUnit.SECONDS);
                TimeUnit.SECONDS.sleep(90);
                WebDriver browser = browser(work);
                try {
                    browser.get(console.base() + "/login");
                    browser.findElement(By.id("token")).sendKeys(RunningConsole.TOKEN);
                    browser.findElement(By.id("login-submit")).click();
                    shoot(browser, console.base() + "/", out.resolve("overview.png"));
                    shoot(browser, console.base() + "/dead-letters", out.resolve("dead-letters.png"));
                    shoot(browser, console.base() + "/listeners", out.resolve("listeners.png"));
                } finally {
                    browser.quit();
                    orders.shutdownNow();
                }
            }
        }
        System.out.println("Screenshots in " + out);
        System.exit(0); // the browser's and the driver's client threads would keep exec:java waiting
    }

    private static void shoot(WebDriver browser, String url, Path file) throws Exception {
        browser.get(url);
        TimeUnit.SECONDS.sleep(1); // the chart image
        Files.write(file, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        System.out.println(file + " (" + Files.size(file) / 1024 + " KB)");
    }

    /** Channels with pending, due and retrying tasks, and 640 dead letters. */
    private static void seed(TestDatabase db) throws Exception {
        PgPubSub.migrate(db.dataSource());
        db.execute("CREATE TABLE IF NOT EXISTS handled (n bigint, attempt int)");
        String[][] channels = {{"emails", "37", "12", "4"}, {"shipping", "8", "120", "2"}, {"invoices", "215", "0", "9"},
            {"search_index", "3", "40", "0"}};
        for (String[] c : channels) {
            db.execute("SELECT pgpubsub.publish('" + c[0] + "', jsonb_build_object('id', n), now() - n * interval '3 seconds')"
                    + " FROM generate_series(1, " + c[1] + ") n");
            db.execute("SELECT pgpubsub.publish('" + c[0] + "', jsonb_build_object('id', n), now() + n * interval '1 minute')"
                    + " FROM generate_series(1, " + c[2] + ") n");
            db.execute("WITH r AS (SELECT id FROM pgpubsub.notification WHERE channel = '" + c[0] + "' AND run_at > now()"
                    + " ORDER BY id LIMIT " + c[3] + ") UPDATE pgpubsub.notification n SET attempts = 2,"
                    + " last_error = 'java.net.ConnectException: Connection refused'"
                    + " FROM r WHERE n.id = r.id");
        }
        db.execute("WITH kind (k, channel, attempts, error, reason) AS (VALUES"
                + " (0, 'invoices', 5, 'java.net.SocketTimeoutException: Read timed out after 10000 ms"
                + " (POST https://payments.example/v1/charges)', 'failed 5 of 5 attempts'),"
                + " (1, 'orders', 3, 'java.lang.IllegalStateException: customer has no billing address',"
                + " 'failed 3 of 3 attempts'),"
                + " (2, 'emails', 4, 'jakarta.mail.MessagingException: 421 4.7.0 Try again later, closing connection',"
                + " 'failed 4 of 4 attempts'),"
                + " (3, 'shipping', 2, 'org.postgresql.util.PSQLException: ERROR: canceling statement due to statement"
                + " timeout', 'attempt 2 of 2 never finished (its process died or lost its connection)'),"
                + " (4, 'shipping', 1, 'com.fasterxml.jackson.databind.exc.InvalidFormatException: Cannot deserialize"
                + " value of type `long` from String \"12-a\"', 'payload unreadable: Cannot deserialize value of type"
                + " `long` from String \"12-a\"')),"
                + " d AS (SELECT i, kind.*, now() - i * interval '97 seconds' AS dead_at"
                + " FROM generate_series(1, 640) i JOIN kind ON kind.k = i % 5)"
                + " INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, errors, reason, dead_at)"
                + " SELECT nextval(pg_get_serial_sequence('pgpubsub.notification', 'id')), channel,"
                + " CASE WHEN i = 3 THEN jsonb_build_object('orderId', 1000000 + i, 'giftNote',"
                + " '<script>alert(''Happy birthday!'')</script><b>From Ada</b>')"
                + " WHEN channel = 'emails' THEN jsonb_build_object('to', 'customer' || i || '@example.com',"
                + " 'template', 'invoice', 'orderId', 1000000 + i)"
                + " WHEN k = 4 THEN jsonb_build_object('orderId', '12-a', 'carrier', 'DHL')"
                + " ELSE jsonb_build_object('orderId', 1000000 + i, 'amount', round((i * 37 % 100000) / 100.0, 2)) END,"
                + " dead_at - attempts * interval '1 minute', attempts,"
                + " (SELECT jsonb_agg(jsonb_build_object('attempt', a, 'at', dead_at - (attempts - a) * interval '1 minute',"
                + " 'error', CASE WHEN k = 3 AND a = attempts THEN 'the attempt never finished' ELSE error END) ORDER BY a)"
                + " FROM generate_series(1, attempts) a),"
                + " reason, dead_at FROM d");
    }

    private static WebDriver browser(Path work) throws Exception {
        System.setProperty(ChromeDriverService.CHROME_DRIVER_EXE_PROPERTY, CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900", "--hide-scrollbars",
                "--user-data-dir=" + Files.createDirectories(work.resolve("chromium-profile")));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }
}
