-- pgpubsub schema, version 9: priorities.
--
-- A task may carry a priority from 0 to 100 (default 0): among the due tasks of a channel, a higher
-- priority is claimed first, then, within a priority, the older run_at and the lower id, as before.
-- Tasks that all have the default keep today's order.
--
-- The claim stays an index scan that reads a bounded number of pages, however many tasks wait ahead
-- of the due ones (delayed tasks of a high priority, say). Tasks of priority 0 are found as before,
-- through the (channel, run_at, id) index. Tasks of a higher priority are also in a partial index,
-- (channel, priority DESC, run_at, id) WHERE priority > 0, which the claim walks one priority at a
-- time: one descent finds the next priority present, one range scan its due tasks. The cost of a
-- claim grows with the number of distinct priorities in use on the channel, which the range bounds.
-- See docs/tasks.md.

-- A constant default: adding the columns rewrites nothing and takes no time.
ALTER TABLE ${schema}.notification ADD COLUMN priority smallint NOT NULL DEFAULT 0;
ALTER TABLE ${schema}.dead_letter ADD COLUMN priority smallint NOT NULL DEFAULT 0;

-- NOT VALID: existing rows (all 0) are not scanned; every new or changed row is checked.
ALTER TABLE ${schema}.notification ADD CONSTRAINT notification_priority CHECK (priority BETWEEN 0 AND 100) NOT VALID;

COMMENT ON COLUMN ${schema}.notification.priority IS
    'pgpubsub: 0 to 100; among due tasks of a channel, a higher priority is claimed first (then run_at, id).';
COMMENT ON COLUMN ${schema}.dead_letter.priority IS
    'pgpubsub: the priority the task was published with; given back to it when it is re-queued.';

-- Building it reads the whole table (every row has priority 0, so the index itself stays empty)
-- while this migration's ALTER TABLE holds the table exclusively: publishes and claims wait for the
-- scan, about a second per million pending rows. Migrate when the queue is short.
CREATE INDEX notification_channel_priority ON ${schema}.notification (channel, priority DESC, run_at, id)
    WHERE priority > 0;

-- Hands the owner and the EXECUTE grants (with their grant option) of a function being replaced to
-- its replacement, then drops the old one: how a version changes a function's parameters while
-- every role keeps what it was given. Run by the migration only; nobody may execute it.
CREATE FUNCTION ${schema}.replace_function(old regprocedure, new regprocedure)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    g record;
    owner_name name;
BEGIN
    SELECT pg_catalog.pg_get_userbyid(f.proowner) INTO owner_name FROM pg_catalog.pg_proc f WHERE f.oid = old;
    EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO %I', new, owner_name);
    EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', new);
    FOR g IN
        SELECT acl.grantee, acl.is_grantable
        FROM pg_catalog.pg_proc f,
            pg_catalog.aclexplode(coalesce(f.proacl, pg_catalog.acldefault('f', f.proowner))) acl
        WHERE f.oid = old AND acl.privilege_type = 'EXECUTE' AND acl.grantee <> f.proowner
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', new,
            CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
            CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    EXECUTE pg_catalog.format('DROP FUNCTION %s', old);
END
$$;

REVOKE ALL ON FUNCTION ${schema}.replace_function(regprocedure, regprocedure) FROM PUBLIC;

-- Rejects a priority out of range, naming the value and the fix.
CREATE FUNCTION ${schema}.check_priority(priority integer)
    RETURNS void
    LANGUAGE plpgsql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF priority IS NULL OR priority NOT BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION 'pgpubsub: the priority is %, not between 0 and 100', coalesce(priority::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Pass 0 (the default) to 100; among due tasks of a channel, a higher priority is claimed first.';
    END IF;
END
$$;

REVOKE ALL ON FUNCTION ${schema}.check_priority(integer) FROM PUBLIC;

-- publish(), publish_all() and publish_keyed() gain a last parameter, priority, with a default, so
-- that every call written before keeps working.
ALTER FUNCTION ${schema}.publish(text, jsonb, timestamptz, jsonb, text, text) RENAME TO publish_before_v9;
ALTER FUNCTION ${schema}.publish_all(text, jsonb, timestamptz, jsonb, text[], text) RENAME TO publish_all_before_v9;
ALTER FUNCTION ${schema}.publish_keyed(text, jsonb, timestamptz, jsonb, text, text) RENAME TO publish_keyed_before_v9;

-- One task with a key: inserts it, or keeps or replaces the pending task that holds the key, and
-- returns the id (version 7 says why it never waits on a running handler). Replace replaces the
-- priority too; keep keeps the pending task as it is. Called by publish() and publish_all() only.
CREATE FUNCTION ${schema}.publish_keyed(channel text, payload jsonb, run_at timestamptz, trace_context jsonb,
        key text, on_conflict text, priority integer)
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
        INSERT INTO ${schema}.notification (channel, payload, run_at, trace_context, key, priority)
        SELECT publish_keyed.channel, publish_keyed.payload, coalesce(publish_keyed.run_at, now()),
            publish_keyed.trace_context, publish_keyed.key, publish_keyed.priority
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
            UPDATE ${schema}.notification n
            SET payload = publish_keyed.payload, run_at = coalesce(publish_keyed.run_at, now()),
                trace_context = publish_keyed.trace_context, priority = publish_keyed.priority,
                attempts = 0, last_error = NULL, errors = '[]'
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
        IF tries >= 5 THEN
            RAISE EXCEPTION 'pgpubsub: key "%" on channel "%" changed hands 5 times during one publish',
                    publish_keyed.key, publish_keyed.channel
                USING ERRCODE = '40001', HINT = 'Roll back and retry the transaction.';
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION ${schema}.publish(channel text, payload jsonb, run_at timestamptz DEFAULT NULL,
        trace_context jsonb DEFAULT NULL, key text DEFAULT NULL, on_conflict text DEFAULT 'keep',
        priority integer DEFAULT 0)
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
    PERFORM ${schema}.check_priority(publish.priority);
    IF publish.key IS NULL THEN
        INSERT INTO ${schema}.notification (channel, payload, run_at, trace_context, priority)
        VALUES (publish.channel, publish.payload, coalesce(publish.run_at, now()), publish.trace_context,
            publish.priority)
        RETURNING notification.id INTO new_id;
    ELSE
        new_id := ${schema}.publish_keyed(publish.channel, publish.payload, publish.run_at, publish.trace_context,
            publish.key, publish.on_conflict, publish.priority);
    END IF;
    PERFORM pg_notify('${schema}.' || publish.channel, '');
    RETURN new_id;
END
$$;

-- All the tasks of one call share the priority, as they share run_at and the trace context.
CREATE FUNCTION ${schema}.publish_all(channel text, payloads jsonb, run_at timestamptz DEFAULT NULL,
        trace_context jsonb DEFAULT NULL, keys text[] DEFAULT NULL, on_conflict text DEFAULT 'keep',
        priority integer DEFAULT 0)
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
    PERFORM ${schema}.check_priority(publish_all.priority);
    IF publish_all.keys IS NULL THEN
        WITH inserted AS (
            INSERT INTO ${schema}.notification (channel, payload, run_at, trace_context, priority)
            SELECT publish_all.channel, p.value, coalesce(publish_all.run_at, now()), publish_all.trace_context,
                publish_all.priority
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
                INSERT INTO ${schema}.notification (channel, payload, run_at, trace_context, priority)
                VALUES (publish_all.channel, e.value, coalesce(publish_all.run_at, now()), publish_all.trace_context,
                    publish_all.priority)
                RETURNING notification.id INTO one_id;
            ELSE
                one_id := ${schema}.publish_keyed(publish_all.channel, e.value, publish_all.run_at,
                    publish_all.trace_context, e.key, publish_all.on_conflict, publish_all.priority);
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

COMMENT ON FUNCTION ${schema}.publish(text, jsonb, timestamptz, jsonb, text, text, integer) IS
    'pgpubsub: inserts a task for channel (run_at defaults to now(); trace_context, e.g. {"traceparent": "00-..."}, is continued by the handler; with a key, keeps (on_conflict keep) or replaces (replace) the pending task that holds it; priority 0 to 100, higher first) and wakes the channel''s listeners after commit; returns the task id. Runs as its owner: callers need only EXECUTE.';
COMMENT ON FUNCTION ${schema}.publish_all(text, jsonb, timestamptz, jsonb, text[], text, integer) IS
    'pgpubsub: inserts a task for each element of the JSON array payloads, all with one trace_context and priority (and keys, parallel to payloads, taken in key order), and wakes the channel''s listeners once after commit; returns the task ids in the order of payloads. Runs as its owner: callers need only EXECUTE.';

SELECT ${schema}.replace_function('${schema}.publish_before_v9(text, jsonb, timestamptz, jsonb, text, text)',
    '${schema}.publish(text, jsonb, timestamptz, jsonb, text, text, integer)');
SELECT ${schema}.replace_function('${schema}.publish_all_before_v9(text, jsonb, timestamptz, jsonb, text[], text)',
    '${schema}.publish_all(text, jsonb, timestamptz, jsonb, text[], text, integer)');
SELECT ${schema}.replace_function('${schema}.publish_keyed_before_v9(text, jsonb, timestamptz, jsonb, text, text)',
    '${schema}.publish_keyed(text, jsonb, timestamptz, jsonb, text, text, integer)');

-- The new helpers run as the owner of publish(), as the other functions of the schema do, whoever migrates.
DO $$
DECLARE
    owner_name name;
BEGIN
    SELECT pg_catalog.pg_get_userbyid(f.proowner) INTO owner_name FROM pg_catalog.pg_proc f
    WHERE f.oid = '${schema}.publish(text, jsonb, timestamptz, jsonb, text, text, integer)'::regprocedure;
    EXECUTE pg_catalog.format('ALTER FUNCTION ${schema}.check_priority(integer) OWNER TO %I', owner_name);
    EXECUTE pg_catalog.format('ALTER FUNCTION ${schema}.replace_function(regprocedure, regprocedure) OWNER TO %I',
        owner_name);
END
$$;
