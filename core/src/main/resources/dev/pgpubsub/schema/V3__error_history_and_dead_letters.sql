-- pgpubsub schema, version 3: error history and dead letters.

-- The failures of a task's attempts, oldest first, at most the last 10:
-- [{"attempt": 1, "at": "2026-11-23T10:00:00+00:00", "error": "java.lang.IllegalStateException: ..."}, ...]
ALTER TABLE ${schema}.notification ADD COLUMN errors jsonb NOT NULL DEFAULT '[]';

-- Tasks that will not be run again on their own: their last attempt failed, their payload could
-- not be read, or it was too large to load. Nothing is lost: a dead letter keeps the task's id,
-- channel, payload and error history until it is re-queued (back into notification, same id,
-- attempts from zero) or purged.
CREATE TABLE ${schema}.dead_letter (
    id          bigint      PRIMARY KEY,
    channel     text        NOT NULL,
    payload     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    attempts    integer     NOT NULL,
    errors      jsonb       NOT NULL DEFAULT '[]',
    -- Why it is here, in one line: e.g. "failed 25 attempts", "payload does not map to ...".
    reason      text        NOT NULL,
    dead_at     timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE ${schema}.dead_letter IS
    'pgpubsub: tasks that failed their last attempt or could not be read; re-queue or purge them.';

CREATE INDEX dead_letter_channel_dead_at ON ${schema}.dead_letter (channel, dead_at, id);
