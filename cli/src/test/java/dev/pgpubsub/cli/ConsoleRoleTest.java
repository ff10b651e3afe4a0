package dev.pgpubsub.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.core.PgPubSub;
import dev.pgpubsub.testing.DocumentedRoles;
import dev.pgpubsub.testing.PostgresTest;
import dev.pgpubsub.testing.TestDatabase;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The console as the documented {@code pgpubsub_operator} role of docs/operations.md, and nothing
 * more: every page reads, and re-queue and purge work. The schema is migrated by the documented
 * owner, as in production.
 */
@PostgresTest
class ConsoleRoleTest {

    private final ConsoleClient http = new ConsoleClient();

    @Test
    void theOperatorsRoleReadsEveryPageAndRequeuesAndPurges(TestDatabase db) throws Exception {
        try (DocumentedRoles roles = new DocumentedRoles(db)) {
            PgPubSub.migrate(roles.dataSource(roles.role("owner")));
            roles.grant();
            String operator = roles.login("operator");
            db.execute("INSERT INTO pgpubsub.notification (channel, payload, attempts, run_at)"
                    + " VALUES ('role_orders', '{\"n\": 1}', 1, now() + interval '1 hour')");
            db.execute("INSERT INTO pgpubsub.dead_letter (id, channel, payload, created_at, attempts, reason) VALUES"
                    + " (9101, 'role_orders', '{\"n\": 2}', now(), 3, 'failed 3 of 3 attempts'),"
                    + " (9102, 'role_orders', '{\"n\": 3}', now(), 3, 'failed 3 of 3 attempts')");
            db.execute("INSERT INTO pgpubsub.listener_heartbeat (listener, host, pid, channels, state, listening,"
                    + " tasks_done, tasks_failed, started_at, beat_at, expires_at) VALUES ('pgpubsub-1', 'app-1', 42,"
                    + " '{role_orders}', 'running', true, 7, 0, now(), now(), now() + interval '30 s')");
            try (HikariDataSource pool = ConsoleCommand.pool(roles.dataSource(operator));
                    ConsoleServer server = new ConsoleServer(pool, "pgpubsub", RunningConsole.TOKEN, ConsoleServer.PAGES_AT_ONCE)) {
                InetSocketAddress bound = server.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                String base = "http://127.0.0.1:" + bound.getPort();
                String session = http.login(base);

                HttpResponse<String> overview = http.get(base + "/", session);
                assertThat(overview.statusCode()).as(overview.body()).isEqualTo(200);
                assertThat(overview.body()).contains("<tr data-channel=\"role_orders\">")
                        .contains("<td class=\"retrying\">1</td>").contains("<td class=\"dead\">");
                assertThat(http.get(base + "/channel?name=role_orders", session).statusCode()).isEqualTo(200);
                assertThat(http.get(base + "/listeners", session).body()).contains("data-pid=\"42\"");
                HttpResponse<String> dead = http.get(base + "/dead-letters?channel=role_orders", session);
                assertThat(dead.body()).contains("id=\"dead-9101\"").contains("id=\"dead-9102\"");
                String actions = ConsoleClient.csrf(dead.body());

                assertThat(http.post(base + "/dead-letters/requeue", session, "csrf=" + actions + "&confirm=yes&id=9101")
                        .statusCode()).isEqualTo(303);
                assertThat(http.post(base + "/dead-letters/purge", session, "csrf=" + actions + "&confirm=yes&id=9102")
                        .statusCode()).isEqualTo(303);
                assertThat(db.strings("SELECT id || ' ' || attempts FROM pgpubsub.notification WHERE id = 9101"))
                        .containsExactly("9101 0");
                assertThat(db.number("SELECT count(*) FROM pgpubsub.dead_letter")).isZero();
            }
        }
    }
}
