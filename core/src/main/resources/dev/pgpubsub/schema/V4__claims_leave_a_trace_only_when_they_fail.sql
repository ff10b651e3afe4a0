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

-- What a listener says before it ends a claim transaction without committing it. Kept for a day
-- (each new note deletes a slice of the old ones): a row the claim only locked keeps the claim's id
-- in its xmax until it is claimed again, at the latest when its run_at comes.
CREATE TABLE ${schema}.claim_release (
    -- The id (xid8, as a number) of the transaction that deleted the claim's rows: the claim's, or
    -- the subtransaction it ran in.
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

-- The 64-bit id of a 32-bit transaction id seen now (e.g. a row's xmax): the one nearest to the
-- current snapshot's horizon. That horizon may lie below transactions still running (this one, its
-- subtransactions), hence nearest, not "not after". Good within 2^31 transactions of now.
CREATE FUNCTION ${schema}.full_xid(short_id xid)
    RETURNS bigint
    LANGUAGE sql
    VOLATILE
AS $$
    WITH horizon AS (
        SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS h
    )
    SELECT h + ((((short_id::text::bigint - (h & 4294967295)) + 2147483648) % 4294967296 + 4294967296)
        % 4294967296 - 2147483648)
    FROM horizon
$$;

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
    WITH earlier AS (
        SELECT ${schema}.full_xid(previous) AS id
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
