-- pgpubsub schema, version 1.
--
-- Placeholders (Flyway substitutes them; teams with their own migration tool replace them by hand):
--   ${schema}             the installation's schema, e.g. pgpubsub (lower case letters, digits, _)
--   ${max_channel_bytes}  63 - length(schema) - 1: a channel's wake-up name, '<schema>.<channel>',
--                         must fit in Postgres's 63-byte identifier limit.

-- The table is the truth: one row per pending task. NOTIFY only wakes listeners up.
CREATE TABLE ${schema}.notification (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel     text        NOT NULL,
    payload     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Not to be run before this time: delayed publishing and retry backoff.
    run_at      timestamptz NOT NULL DEFAULT now(),
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text,
    CONSTRAINT notification_channel_name CHECK (
        channel ~ '^[A-Za-z_][A-Za-z0-9_]*$' AND octet_length(channel) <= ${max_channel_bytes}),
    CONSTRAINT notification_attempts CHECK (attempts >= 0)
);

COMMENT ON TABLE ${schema}.notification IS
    'pgpubsub: pending tasks. A listener claims a row, runs its handler and deletes the row in one transaction.';

-- Serves "the due rows of one channel, oldest first": WHERE channel = ? AND run_at <= now() ORDER BY run_at, id.
CREATE INDEX notification_channel_run_at_id ON ${schema}.notification (channel, run_at, id);

-- Publishes a task from any language, psql or a trigger: inserts the row and sends a wake-up.
-- The wake-up carries no payload, so Postgres folds all wake-ups of one channel in one transaction
-- into a single notification, delivered after commit. Its name is qualified by the schema, so two
-- installations in one database (or an application's own LISTEN channels) never wake each other.
CREATE FUNCTION ${schema}.publish(channel text, payload jsonb, run_at timestamptz DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    new_id bigint;
BEGIN
    INSERT INTO ${schema}.notification (channel, payload, run_at)
    VALUES (publish.channel, publish.payload, coalesce(publish.run_at, now()))
    RETURNING notification.id INTO new_id;
    PERFORM pg_notify('${schema}.' || publish.channel, '');
    RETURN new_id;
END
$$;

COMMENT ON FUNCTION ${schema}.publish(text, jsonb, timestamptz) IS
    'pgpubsub: inserts a task for channel (run_at defaults to now()) and wakes the channel''s listeners after commit; returns the task id.';
