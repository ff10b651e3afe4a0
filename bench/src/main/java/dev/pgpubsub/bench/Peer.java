package dev.pgpubsub.bench;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgpubsub.testing.TestDatabase;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * The peer measured side by side: db-scheduler (lock-and-fetch polling) burning down the same number
 * of due no-op one-time tasks on the same server, with its own table (its documented Postgres schema).
 */
final class Peer {

    private Peer() {
    }

    /** Tasks per second of db-scheduler with {@code threads} threads over {@code n} due tasks. */
    static double dbSchedulerBurnDown(TestDatabase db, long n, int threads) throws Exception {
        db.execute("CREATE TABLE scheduled_tasks (task_name text NOT NULL, task_instance text NOT NULL, task_data bytea, "
                + "execution_time timestamptz NOT NULL, picked boolean NOT NULL, picked_by text, last_success timestamptz, "
                + "last_failure timestamptz, consecutive_failures int, last_heartbeat timestamptz, version bigint NOT NULL, "
                + "priority smallint, PRIMARY KEY (task_name, task_instance))");
        db.execute("CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time)");
        db.execute("CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat)");
        db.execute("CREATE INDEX priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time ASC)");
        db.execute("INSERT INTO scheduled_tasks (task_name, task_instance, execution_time, picked, version) "
                + "SELECT 'bench', g::text, now(), false, 1 FROM generate_series(1, " + n + ") g");
        db.execute("VACUUM ANALYZE scheduled_tasks");
        LongAdder done = new LongAdder();
        OneTimeTask<Void> task = Tasks.oneTime("bench").execute((instance, context) -> done.increment());
        // A pool, as db-scheduler is meant to be run (it takes a connection per operation).
        HikariConfig config = new HikariConfig();
        config.setDataSource(db.dataSource());
        config.setMaximumPoolSize(threads + 2);
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Scheduler scheduler = Scheduler.create(pool, task).threads(threads)
                    .pollUsingLockAndFetch(0.5, 3.0).pollingInterval(Duration.ofSeconds(1)).build();
            long start = System.nanoTime();
            scheduler.start();
            try {
                Scenarios.awaitDone(() -> done.sum() >= n && db.number("SELECT count(*) FROM scheduled_tasks") == 0);
            } finally {
                scheduler.stop();
            }
            return n / Scenarios.seconds(System.nanoTime() - start);
        }
    }
}
