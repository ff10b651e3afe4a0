-- pgpubsub schema, version 8: recurring tasks.
--
-- A schedule (a cron expression in a time zone, or a fixed interval) publishes a payload to a
-- channel once per slot: the instant the schedule is due. Every listener that declares a schedule
-- computes its slots with its own clock, and all of them try to publish each slot; the database lets
-- exactly one of them. A slot is published only by the UPDATE that moves last_slot forward, in the
-- same transaction as the task's insert: the first listener's UPDATE changes the row, the others'
-- find last_slot already at that slot (the row lock makes them wait for the first one's commit and
-- then look again) and change nothing, so they publish nothing. No leader is elected, and a listener
-- that comes back late cannot publish a slot again, even after its task was done and deleted.

CREATE TABLE ${schema}.schedule (
    name         text PRIMARY KEY,
    channel      text NOT NULL,
    payload      jsonb NOT NULL,
    definition   text NOT NULL,
    last_slot    timestamptz,
    published_at timestamptz,
    next_slot    timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()  -- when a listener last wrote the row
);

COMMENT ON TABLE ${schema}.schedule IS
    'pgpubsub: recurring tasks, one row per schedule, written by the listeners that declare it; last_slot is the last slot published.';
COMMENT ON COLUMN ${schema}.schedule.definition IS
    'pgpubsub: the schedule as declared, for display, e.g. cron "0 6 * * *" in Europe/Paris, or every PT1S.';
COMMENT ON COLUMN ${schema}.schedule.last_slot IS
    'pgpubsub: the last slot published; a slot is published only by the UPDATE that moves it forward.';
COMMENT ON COLUMN ${schema}.schedule.next_slot IS
    'pgpubsub: the next slot, as the listener that last wrote the row computed it.';

-- Registers the schedule (the row is inserted, or its channel, payload and definition updated to
-- the caller's), then, when slot is given, publishes it if no listener has: the UPDATE below is the
-- only way a slot is published. Returns the task id, or NULL when the slot was published already
-- (or is not published: an overdue slot of a schedule that never published one, see below).
--
-- overdue: the slot is older than the listener's grace, and the schedule catches up (one run for
-- what downtime missed). A schedule that never published anything does not catch up: declaring a
-- daily schedule at 14:00 does not run the 06:00 slot of that day.
--
-- The task's run_at is the slot: it never runs before its slot (were a listener's clock ahead), and
-- a handler can tell which slot it serves. Runs as its owner, so that a listener needs EXECUTE on it
-- and no right to publish otherwise.
CREATE FUNCTION ${schema}.publish_slot(name text, channel text, payload jsonb, definition text,
        slot timestamptz DEFAULT NULL, next_slot timestamptz DEFAULT NULL, overdue boolean DEFAULT false)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    task_id bigint;
BEGIN
    INSERT INTO ${schema}.schedule AS s (name, channel, payload, definition, next_slot)
    VALUES (publish_slot.name, publish_slot.channel, publish_slot.payload, publish_slot.definition, publish_slot.next_slot)
    ON CONFLICT ON CONSTRAINT schedule_pkey DO UPDATE
        SET channel = excluded.channel, payload = excluded.payload, definition = excluded.definition,
            next_slot = coalesce(excluded.next_slot, s.next_slot), updated_at = now();
    IF publish_slot.slot IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE ${schema}.schedule AS s
    SET last_slot = publish_slot.slot, next_slot = publish_slot.next_slot, published_at = now()
    WHERE s.name = publish_slot.name
      AND (s.last_slot < publish_slot.slot OR (s.last_slot IS NULL AND NOT publish_slot.overdue));
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- Named arguments: a later version may give publish() more parameters, with defaults.
    task_id := ${schema}.publish(channel => publish_slot.channel, payload => publish_slot.payload,
        run_at => publish_slot.slot);
    RETURN task_id;
END
$$;

COMMENT ON FUNCTION ${schema}.publish_slot(text, text, jsonb, text, timestamptz, timestamptz, boolean) IS
    'pgpubsub: registers a schedule and publishes its slot (the task''s run_at) unless a listener did; returns the task id, or NULL. Runs as its owner: listeners need only EXECUTE.';

REVOKE ALL ON FUNCTION ${schema}.publish_slot(text, text, jsonb, text, timestamptz, timestamptz, boolean) FROM PUBLIC;

-- It runs as the owner of publish() and of the tables, as the other functions of the schema do,
-- whoever migrates; and so is the table owned.
DO $$
DECLARE
    owner_name name;
BEGIN
    SELECT pg_catalog.pg_get_userbyid(c.relowner) INTO owner_name FROM pg_catalog.pg_class c
    WHERE c.oid = '${schema}.notification'::regclass;
    EXECUTE pg_catalog.format('ALTER TABLE ${schema}.schedule OWNER TO %I', owner_name);
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION ${schema}.publish_slot(text, text, jsonb, text, timestamptz, timestamptz, boolean) OWNER TO %I',
        owner_name);
END
$$;

-- Listeners of an earlier version were granted the notification table; the schedules are theirs
-- too. Roles that may delete from the notification table (claims do) may execute publish_slot() and
-- read the schedules.
DO $$
DECLARE
    role_oid oid;
BEGIN
    FOR role_oid IN
        SELECT DISTINCT acl.grantee
        FROM pg_catalog.pg_class t, pg_catalog.aclexplode(t.relacl) acl
        WHERE t.oid = '${schema}.notification'::regclass AND acl.privilege_type = 'DELETE'
          AND acl.grantee <> 0 AND acl.grantee <> t.relowner
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION ${schema}.publish_slot(text, text, jsonb, text, timestamptz, timestamptz, boolean) TO %s',
            role_oid::regrole);
        EXECUTE pg_catalog.format('GRANT SELECT ON ${schema}.schedule TO %s', role_oid::regrole);
    END LOOP;
    -- Operators (roles that may read the dead letters) read them too: status lists them.
    FOR role_oid IN
        SELECT DISTINCT acl.grantee
        FROM pg_catalog.pg_class t, pg_catalog.aclexplode(t.relacl) acl
        WHERE t.oid = '${schema}.dead_letter'::regclass AND acl.privilege_type = 'SELECT'
          AND acl.grantee <> 0 AND acl.grantee <> t.relowner
    LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON ${schema}.schedule TO %s', role_oid::regrole);
    END LOOP;
END
$$;
