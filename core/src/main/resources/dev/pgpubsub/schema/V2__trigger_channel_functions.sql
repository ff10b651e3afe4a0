-- pgpubsub schema, version 2: trigger channels (table changes as tasks).
--
-- Two generic trigger functions; each trigger passes its channel name as the argument. They run
-- as their owner (SECURITY DEFINER, with a fixed search_path), so that whoever writes a watched
-- table needs no rights on the notification table. They never fail the writer's statement on
-- account of its data: the optional context travels as text.

-- Row level: one task per changed row, with the row before and after the change.
CREATE FUNCTION ${schema}.capture_row_change() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO ${schema}.notification (channel, payload)
    VALUES (TG_ARGV[0], jsonb_build_object(
        'op', TG_OP,
        'table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
        'before', CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END,
        'after', CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END,
        'context', nullif(current_setting('pgpubsub.context', true), '')));
    RETURN NULL;
END
$$;

-- Statement level: one wake-up per statement (Postgres folds them to one per transaction), however
-- many rows changed.
CREATE FUNCTION ${schema}.wake_channel() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('${schema}.' || TG_ARGV[0], '');
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION ${schema}.capture_row_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION ${schema}.wake_channel() FROM PUBLIC;
