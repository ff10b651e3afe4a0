-- pgpubsub schema, version 4: a claim writes nothing but the deletion of its rows.
--
-- A listener claims due rows by locking and deleting them in the transaction that runs their
-- handlers. If that transaction commits, the tasks are done. If it ends any other way, Postgres
-- leaves the claim's transaction id in each row's xmax, with that transaction aborted. The next claim
-- of such a row reads the id and decides what the attempt was:
--   * the listener rolled it back on purpose (a handler failed, a timeout, a shutdown) and said so
--     in claim_release before it did: the task is charged only if it is the one that failed;
--   * nobody said anything: the process died or lost its connection in the middle of the attempt,
--     which is charged as an attempt that never finished.
-- So the common path costs no write besides the DELETE, and a task whose handler kills its process
-- still reaches the dead letters after its last attempt.

-- What a listener says before it ends a claim transaction without committing it. Rows are
-- removed once the claim's rows were claimed again, and after 7 days in any case.
CREATE TABLE ${schema}.claim_release (
    -- The claim transaction's id (xid8, as a number).
    xid          bigint      PRIMARY KEY,
    -- The task whose failure ended it, if one did; the other tasks of the claim are not charged.
    failed_task  bigint,
    -- That task's error, as it goes into its history.
    error        text,
    at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX claim_release_at ON ${schema}.claim_release (at);

COMMENT ON TABLE ${schema}.claim_release IS
    'pgpubsub: claim transactions a listener rolled back on purpose, and which task (if any) failed in them.';

-- What an earlier claim of a row, whose transaction id is the row's xmax, means for the task: NULL
-- when it costs the task nothing (no earlier claim, it committed, or it was released without
-- blaming this task), else the error to record for the attempt it charges.
-- VOLATILE on purpose: it reads claim_release with a snapshot of its own, taken after the calling
-- claim locked the row. A claim that was released on purpose wrote its release before it rolled
-- back, so the release is seen even when it committed after the calling statement began.
CREATE FUNCTION ${schema}.claim_verdict(previous xid, task_id bigint)
    RETURNS text
    LANGUAGE sql
    VOLATILE
AS $$
    WITH next AS (
        SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS id
    ), earlier AS (
        -- The 64-bit id of the 32-bit xmax: the latest one not after the next id to be assigned.
        SELECT CASE WHEN ((next.id >> 32) << 32) + previous::text::bigint > next.id
                    THEN ((next.id >> 32) << 32) + previous::text::bigint - 4294967296
                    ELSE ((next.id >> 32) << 32) + previous::text::bigint END AS id
        FROM next
    )
    SELECT CASE
        WHEN previous = '0'::xid OR earlier.id < 3 THEN NULL
        WHEN pg_xact_status(earlier.id::text::xid8) IS DISTINCT FROM 'aborted' THEN NULL
        WHEN released.xid IS NULL THEN
            'the attempt never finished: its process died or lost its database connection'
        WHEN released.failed_task = task_id THEN released.error
        ELSE NULL
    END
    FROM earlier LEFT JOIN ${schema}.claim_release released ON released.xid = earlier.id
$$;

-- When a failed attempt is retried: initial * 2^(attempt - 1), at most max, cut at random by up to
-- jitter of itself. The one place the formula is written.
CREATE FUNCTION ${schema}.retry_delay(attempt integer, initial_seconds double precision,
        max_seconds double precision, jitter double precision)
    RETURNS interval
    LANGUAGE sql
    VOLATILE
AS $$
    SELECT make_interval(secs => least(initial_seconds * power(2, least(greatest(attempt, 1) - 1, 30)), max_seconds)
        * (1 - jitter * random()))
$$;

-- A task's error history with one more failure, keeping the last 10.
CREATE FUNCTION ${schema}.append_error(errors jsonb, attempt integer, error text)
    RETURNS jsonb
    LANGUAGE sql
    STABLE
AS $$
    SELECT (CASE WHEN jsonb_array_length(errors) >= 10 THEN errors - 0 ELSE errors END)
        || jsonb_build_array(jsonb_build_object('attempt', attempt, 'at', now(), 'error', error))
$$;
