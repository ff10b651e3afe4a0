-- pgpubsub schema, version 7: unique keys, and cancellation of pending tasks.
--
-- A task may carry a key, e.g. 'order-42:invoice'. While a task with that key is pending on its
-- channel, publishing the key again keeps the pending task (on_conflict 'keep', the default) or
-- replaces its payload, run_at and trace context ('replace'); either way the caller gets the pending
-- task's id. The key is free again once the task is done (its row deleted) or dead-lettered.
-- Races between publishers are settled by the unique index below, never by a client.
--
-- A running task's row is locked and deleted by its claim, which has not committed yet. Postgres's
-- unique check waits for such a row's transaction, and so would any insert of the same key. So a
-- publish looks for the key's row first (a plain read, which never waits, and sees that row until
-- the claim commits): keep returns the running task's id, and replace, which cannot change a task
-- whose handler has already read it, fails at once with SQLSTATE 55P03 instead of waiting for the
-- handler. See docs/tasks.md.

-- Nullable, without a default: adding the columns rewrites nothing and takes no time.
ALTER TABLE ${schema}.notification ADD COLUMN key text;
ALTER TABLE ${schema}.dead_letter ADD COLUMN key text;

-- NOT VALID: existing rows (all NULL) are not scanned; every new or changed row is checked.
ALTER TABLE ${schema}.notification ADD CONSTRAINT notification_key CHECK (
    key IS NULL OR (octet_length(key) BETWEEN 1 AND 256 AND key ~ '[^[:space:]]')) NOT VALID;

COMMENT ON COLUMN ${schema}.notification.key IS
    'pgpubsub: the task''s unique key on its channel while it is pending (NULL for none); free again once the task is done or dead-lettered.';
COMMENT ON COLUMN ${schema}.dead_letter.key IS
    'pgpubsub: the key the task was published with; given back to it when it is re-queued, if no pending task holds it.';

-- At most one pending task per key and channel. Building it reads the whole table (every row is
-- NULL in the new column, so the index itself stays empty) while this migration's ALTER TABLE holds
-- the table exclusively: publishes and claims wait for the scan, about a second per million pending
-- rows. Migrate when the queue is short.
CREATE UNIQUE INDEX notification_channel_key ON ${schema}.notification (channel, key)
    WHERE key IS NOT NULL;

-- One task with a key: inserts it, or keeps or replaces the pending task that holds the key, and
-- returns the id. Sends no wake-up (its callers do). Called by publish() and publish_all() only,
-- which run as the owner; nobody else may execute it.
CREATE FUNCTION ${schema}.publish_keyed(channel text, payload jsonb, run_at timestamptz, trace_context jsonb,
        key text, on_conflict text)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    found_id bigint;
    tries integer := 0;
BEGIN
    LOOP
        tries := tries + 1;
        -- The probe and the insert in one statement: a row the probe sees (pending, or deleted by a
        -- claim that has not committed) is never inserted against, so the unique check cannot wait
        -- on a running handler. It only waits on another publisher's uncommitted insert of the key.
        INSERT INTO ${schema}.notification (channel, payload, run_at, trace_context, key)
        SELECT publish_keyed.channel, publish_keyed.payload, coalesce(publish_keyed.run_at, now()),
            publish_keyed.trace_context, publish_keyed.key
        WHERE NOT EXISTS (SELECT 1 FROM ${schema}.notification n
                          WHERE n.channel = publish_keyed.channel AND n.key = publish_keyed.key)
        ON CONFLICT (channel, key) WHERE key IS NOT NULL DO NOTHING
        RETURNING notification.id INTO found_id;
        IF found_id IS NOT NULL THEN
            RETURN found_id;
        END IF;

        SELECT n.id INTO found_id FROM ${schema}.notification n
        WHERE n.channel = publish_keyed.channel AND n.key = publish_keyed.key;
        IF found_id IS NOT NULL THEN
            IF publish_keyed.on_conflict = 'keep' THEN
                RETURN found_id;
            END IF;
            -- Replace, unless another transaction holds the row: never wait for it.
            UPDATE ${schema}.notification n
            SET payload = publish_keyed.payload, run_at = coalesce(publish_keyed.run_at, now()),
                trace_context = publish_keyed.trace_context, attempts = 0, last_error = NULL, errors = '[]'
            WHERE n.id = (SELECT l.id FROM ${schema}.notification l WHERE l.id = found_id
                          FOR NO KEY UPDATE SKIP LOCKED)
            RETURNING n.id INTO found_id;
            IF found_id IS NOT NULL THEN
                RETURN found_id;
            END IF;
            SELECT n.id INTO found_id FROM ${schema}.notification n
            WHERE n.channel = publish_keyed.channel AND n.key = publish_keyed.key;
            IF found_id IS NOT NULL THEN
                RAISE EXCEPTION 'pgpubsub: task % with key "%" on channel "%" is held by another transaction: its '
                        'handler is running, or it is being cancelled, or another publisher is replacing it',
                        found_id, publish_keyed.key, publish_keyed.channel
                    USING ERRCODE = '55P03',
                          HINT = 'Its payload cannot be replaced now, and a publish does not wait for a handler. Roll '
                              'back and retry the transaction in a moment; once the task is done, the key is free.';
            END IF;
        END IF;
        -- The task was done (or cancelled) between two statements: the key is free, try again.
        IF tries >= 5 THEN
            RAISE EXCEPTION 'pgpubsub: key "%" on channel "%" changed hands 5 times during one publish',
                    publish_keyed.key, publish_keyed.channel
                USING ERRCODE = '40001', HINT = 'Roll back and retry the transaction.';
        END IF;
    END LOOP;
END
$$;

-- Rejects a key or mode that is not valid, naming the value and the fix.
CREATE FUNCTION ${schema}.check_key(key text, on_conflict text)
    RETURNS void
    LANGUAGE plpgsql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF on_conflict IS NULL OR on_conflict NOT IN ('keep', 'replace') THEN
        RAISE EXCEPTION 'pgpubsub: on_conflict is "%", not keep or replace', on_conflict
            USING ERRCODE = '22023',
                  HINT = 'keep (the default) keeps the pending task with the key; replace replaces its payload and run_at.';
    END IF;
    IF key IS NULL THEN
        RETURN;
    END IF;
    IF key !~ '[^[:space:]]' THEN
        RAISE EXCEPTION 'pgpubsub: the key "%" is blank', key
            USING ERRCODE = '22023', HINT = 'Pass NULL for a task without a key, or a key such as ''order-42:invoice''.';
    END IF;
    IF octet_length(key) > 256 THEN
        RAISE EXCEPTION 'pgpubsub: the key "%..." is % bytes, more than 256', left(key, 40), octet_length(key)
            USING ERRCODE = '22023', HINT = 'Use a shorter key, e.g. a hash of the long one.';
    END IF;
END
$$;

-- publish() and publish_all() gain two last parameters, key and on_conflict, with defaults, so that
-- every call written before keeps working. As in version 6: the old functions are renamed out of the
-- way, the new ones take over their owner and grants (with grant option), and the old ones are dropped.
ALTER FUNCTION ${schema}.publish(text, jsonb, timestamptz, jsonb) RENAME TO publish_before_v7;
ALTER FUNCTION ${schema}.publish_all(text, jsonb, timestamptz, jsonb) RENAME TO publish_all_before_v7;

CREATE FUNCTION ${schema}.publish(channel text, payload jsonb, run_at timestamptz DEFAULT NULL,
        trace_context jsonb DEFAULT NULL, key text DEFAULT NULL, on_conflict text DEFAULT 'keep')
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    new_id bigint;
BEGIN
    PERFORM ${schema}.check_trace_context(publish.trace_context);
    PERFORM ${schema}.check_key(publish.key, publish.on_conflict);
    IF publish.key IS NULL THEN
        INSERT INTO ${schema}.notification (channel, payload, run_at, trace_context)
        VALUES (publish.channel, publish.payload, coalesce(publish.run_at, now()), publish.trace_context)
        RETURNING notification.id INTO new_id;
    ELSE
        new_id := ${schema}.publish_keyed(publish.channel, publish.payload, publish.run_at, publish.trace_context,
            publish.key, publish.on_conflict);
    END IF;
    PERFORM pg_notify('${schema}.' || publish.channel, '');
    RETURN new_id;
END
$$;

-- keys, when given, runs parallel to payloads (one key per element, NULL for none). Keyed tasks are
-- taken in the order of their keys, so that two batches that share keys cannot deadlock; the ids
-- still come back in the order of payloads.
CREATE FUNCTION ${schema}.publish_all(channel text, payloads jsonb, run_at timestamptz DEFAULT NULL,
        trace_context jsonb DEFAULT NULL, keys text[] DEFAULT NULL, on_conflict text DEFAULT 'keep')
    RETURNS bigint[]
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    ids bigint[];
    one_id bigint;
    e record;
BEGIN
    PERFORM ${schema}.check_trace_context(publish_all.trace_context);
    PERFORM ${schema}.check_key(NULL, publish_all.on_conflict);
    IF publish_all.keys IS NULL THEN
        WITH inserted AS (
            INSERT INTO ${schema}.notification (channel, payload, run_at, trace_context)
            SELECT publish_all.channel, p.value, coalesce(publish_all.run_at, now()), publish_all.trace_context
            FROM jsonb_array_elements(publish_all.payloads) WITH ORDINALITY AS p(value, n)
            ORDER BY p.n
            RETURNING notification.id)
        SELECT coalesce(array_agg(inserted.id ORDER BY inserted.id), '{}') INTO ids FROM inserted;
    ELSE
        IF cardinality(publish_all.keys) <> jsonb_array_length(publish_all.payloads) THEN
            RAISE EXCEPTION 'pgpubsub: % keys for % payloads', cardinality(publish_all.keys),
                    jsonb_array_length(publish_all.payloads)
                USING ERRCODE = '22023', HINT = 'Pass one key per payload (NULL for none), in the same order.';
        END IF;
        ids := array_fill(NULL::bigint, ARRAY[jsonb_array_length(publish_all.payloads)]);
        FOR e IN
            SELECT p.value, p.n, publish_all.keys[p.n] AS key
            FROM jsonb_array_elements(publish_all.payloads) WITH ORDINALITY AS p(value, n)
            ORDER BY publish_all.keys[p.n] COLLATE "C" NULLS LAST, p.n
        LOOP
            PERFORM ${schema}.check_key(e.key, publish_all.on_conflict);
            IF e.key IS NULL THEN
                INSERT INTO ${schema}.notification (channel, payload, run_at, trace_context)
                VALUES (publish_all.channel, e.value, coalesce(publish_all.run_at, now()), publish_all.trace_context)
                RETURNING notification.id INTO one_id;
            ELSE
                one_id := ${schema}.publish_keyed(publish_all.channel, e.value, publish_all.run_at,
                    publish_all.trace_context, e.key, publish_all.on_conflict);
            END IF;
            ids[e.n] := one_id;
        END LOOP;
    END IF;
    IF cardinality(ids) > 0 THEN
        PERFORM pg_notify('${schema}.' || publish_all.channel, '');
    END IF;
    RETURN ids;
END
$$;

COMMENT ON FUNCTION ${schema}.publish(text, jsonb, timestamptz, jsonb, text, text) IS
    'pgpubsub: inserts a task for channel (run_at defaults to now(); trace_context, e.g. {"traceparent": "00-..."}, is continued by the handler; with a key, keeps (on_conflict keep) or replaces (replace) the pending task that holds it) and wakes the channel''s listeners after commit; returns the task id. Runs as its owner: callers need only EXECUTE.';
COMMENT ON FUNCTION ${schema}.publish_all(text, jsonb, timestamptz, jsonb, text[], text) IS
    'pgpubsub: inserts a task for each element of the JSON array payloads, all with one trace_context (and keys, parallel to payloads, taken in key order), and wakes the channel''s listeners once after commit; returns the task ids in the order of payloads. Runs as its owner: callers need only EXECUTE.';

REVOKE ALL ON FUNCTION ${schema}.publish(text, jsonb, timestamptz, jsonb, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ${schema}.publish_all(text, jsonb, timestamptz, jsonb, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ${schema}.publish_keyed(text, jsonb, timestamptz, jsonb, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ${schema}.check_key(text, text) FROM PUBLIC;

DO $$
DECLARE
    pair record;
    g record;
    owner_name name;
BEGIN
    FOR pair IN
        SELECT * FROM (VALUES
            ('${schema}.publish_before_v7(text, jsonb, timestamptz, jsonb)'::regprocedure,
             '${schema}.publish(text, jsonb, timestamptz, jsonb, text, text)'::regprocedure),
            ('${schema}.publish_all_before_v7(text, jsonb, timestamptz, jsonb)'::regprocedure,
             '${schema}.publish_all(text, jsonb, timestamptz, jsonb, text[], text)'::regprocedure)) AS p(old, new)
    LOOP
        SELECT pg_catalog.pg_get_userbyid(f.proowner) INTO owner_name FROM pg_catalog.pg_proc f WHERE f.oid = pair.old;
        EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO %I', pair.new, owner_name);
        FOR g IN
            SELECT acl.grantee, acl.is_grantable
            FROM pg_catalog.pg_proc f,
                pg_catalog.aclexplode(coalesce(f.proacl, pg_catalog.acldefault('f', f.proowner))) acl
            WHERE f.oid = pair.old AND acl.privilege_type = 'EXECUTE' AND acl.grantee <> f.proowner
        LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', pair.new,
                CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
                CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
        EXECUTE pg_catalog.format('DROP FUNCTION %s', pair.old);
    END LOOP;
    -- publish() calls them as its owner: the same owner, and nobody else may call them.
    EXECUTE pg_catalog.format('ALTER FUNCTION ${schema}.publish_keyed(text, jsonb, timestamptz, jsonb, text, text) OWNER TO %I',
        owner_name);
    EXECUTE pg_catalog.format('ALTER FUNCTION ${schema}.check_key(text, text) OWNER TO %I', owner_name);
END
$$;

-- Cancels a pending task: deletes it, unless another transaction holds its row (its handler is
-- running: a task cannot be stopped in the middle of its transaction). Never waits. Returns
-- 'cancelled', 'running' (held by another transaction; nothing done) or 'not_found' (no such
-- pending task: unknown, done, or dead-lettered).
CREATE FUNCTION ${schema}.cancel(id bigint)
    RETURNS text
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    gone bigint;
BEGIN
    DELETE FROM ${schema}.notification n
    WHERE n.id = (SELECT l.id FROM ${schema}.notification l WHERE l.id = cancel.id FOR UPDATE SKIP LOCKED)
    RETURNING n.id INTO gone;
    IF gone IS NOT NULL THEN
        RETURN 'cancelled';
    END IF;
    IF EXISTS (SELECT 1 FROM ${schema}.notification n WHERE n.id = cancel.id) THEN
        RETURN 'running';
    END IF;
    RETURN 'not_found';
END
$$;

-- The same, for the pending task that holds key on channel.
CREATE FUNCTION ${schema}.cancel(channel text, key text)
    RETURNS text
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    found_id bigint;
BEGIN
    SELECT n.id INTO found_id FROM ${schema}.notification n WHERE n.channel = cancel.channel AND n.key = cancel.key;
    IF found_id IS NULL THEN
        RETURN 'not_found';
    END IF;
    RETURN ${schema}.cancel(found_id);
END
$$;

COMMENT ON FUNCTION ${schema}.cancel(bigint) IS
    'pgpubsub: deletes the pending task id unless its handler is running; never waits. Returns cancelled, running or not_found.';
COMMENT ON FUNCTION ${schema}.cancel(text, text) IS
    'pgpubsub: deletes the pending task that holds key on channel unless its handler is running; never waits. Returns cancelled, running or not_found.';

REVOKE ALL ON FUNCTION ${schema}.cancel(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION ${schema}.cancel(text, text) FROM PUBLIC;

-- They run as the owner of publish(), as the other functions of the schema do, whoever migrates.
DO $$
DECLARE
    owner_name name;
BEGIN
    SELECT pg_catalog.pg_get_userbyid(f.proowner) INTO owner_name FROM pg_catalog.pg_proc f
    WHERE f.oid = '${schema}.publish(text, jsonb, timestamptz, jsonb, text, text)'::regprocedure;
    EXECUTE pg_catalog.format('ALTER FUNCTION ${schema}.cancel(bigint) OWNER TO %I', owner_name);
    EXECUTE pg_catalog.format('ALTER FUNCTION ${schema}.cancel(text, text) OWNER TO %I', owner_name);
END
$$;
