-- pgpubsub schema, version 6: a task carries the trace context of the code that published it.
--
-- trace_context holds the propagation headers of the publisher's span as a JSON object of strings,
-- e.g. {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"} (W3C Trace
-- Context; a tracer set up for B3 writes "b3" instead). The listener continues that trace in the
-- handler. NULL when the task was published outside a trace. A nullable column without a default:
-- adding it rewrites nothing and takes no time on a large table.
ALTER TABLE ${schema}.notification ADD COLUMN trace_context jsonb;
ALTER TABLE ${schema}.dead_letter ADD COLUMN trace_context jsonb;

COMMENT ON COLUMN ${schema}.notification.trace_context IS
    'pgpubsub: the publisher''s trace context headers (W3C traceparent, tracestate), continued by the handler; NULL outside a trace.';
COMMENT ON COLUMN ${schema}.dead_letter.trace_context IS
    'pgpubsub: the trace context the task was published with; kept when the dead letter is re-queued.';

-- Rejects a trace context that no tracer could read, naming the value and the fix: a JSON object
-- of strings (header name to value), at most 4 kB, whose traceparent, when present, has the W3C form.
CREATE FUNCTION ${schema}.check_trace_context(trace_context jsonb)
    RETURNS void
    LANGUAGE plpgsql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hint constant text := 'Pass the publishing span''s propagation headers as a JSON object of strings, e.g. '
        '{"traceparent": "00-<32 hex digits of trace id>-<16 hex digits of span id>-01"}, or NULL for none.';
BEGIN
    IF trace_context IS NULL THEN
        RETURN;
    END IF;
    IF jsonb_typeof(trace_context) <> 'object'
            OR EXISTS (SELECT 1 FROM jsonb_each(trace_context) e WHERE jsonb_typeof(e.value) <> 'string') THEN
        RAISE EXCEPTION 'pgpubsub: trace_context % is not a JSON object of strings', left(trace_context::text, 200)
            USING ERRCODE = '22023', HINT = hint;
    END IF;
    IF octet_length(trace_context::text) > 4096 THEN
        RAISE EXCEPTION 'pgpubsub: trace_context is % bytes, more than 4096', octet_length(trace_context::text)
            USING ERRCODE = '22023',
                  HINT = 'Carry only traceparent and tracestate; data the handler needs belongs in the payload.';
    END IF;
    IF trace_context ? 'traceparent'
            AND trace_context->>'traceparent' !~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' THEN
        RAISE EXCEPTION 'pgpubsub: traceparent "%" is not a W3C traceparent', left(trace_context->>'traceparent', 200)
            USING ERRCODE = '22023', HINT = hint;
    END IF;
END
$$;

-- publish() and publish_all() gain a last parameter, trace_context (default NULL), so that every
-- call written before keeps working. A changed parameter list makes a new function, and two
-- functions that differ only in a defaulted parameter would make calls ambiguous: the old ones are
-- renamed out of the way, the new ones take over their owner (they run as it) and their grants (with
-- the grant option where it was given), and the old ones are dropped. No temporary table: a role
-- without TEMP on the database migrates too. Apply this file in one transaction (Flyway does): the
-- functions are replaced at once for every other session.
ALTER FUNCTION ${schema}.publish(text, jsonb, timestamptz) RENAME TO publish_before_v6;
ALTER FUNCTION ${schema}.publish_all(text, jsonb, timestamptz) RENAME TO publish_all_before_v6;

CREATE FUNCTION ${schema}.publish(channel text, payload jsonb, run_at timestamptz DEFAULT NULL,
        trace_context jsonb DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM ${schema}.check_trace_context(publish.trace_context);
    INSERT INTO ${schema}.notification (channel, payload, run_at, trace_context)
    VALUES (publish.channel, publish.payload, coalesce(publish.run_at, now()), publish.trace_context)
    RETURNING notification.id INTO new_id;
    PERFORM pg_notify('${schema}.' || publish.channel, '');
    RETURN new_id;
END
$$;

CREATE FUNCTION ${schema}.publish_all(channel text, payloads jsonb, run_at timestamptz DEFAULT NULL,
        trace_context jsonb DEFAULT NULL)
    RETURNS bigint[]
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    PERFORM ${schema}.check_trace_context(publish_all.trace_context);
    WITH inserted AS (
        INSERT INTO ${schema}.notification (channel, payload, run_at, trace_context)
        SELECT publish_all.channel, e.value, coalesce(publish_all.run_at, now()), publish_all.trace_context
        FROM jsonb_array_elements(publish_all.payloads) WITH ORDINALITY AS e(value, n)
        ORDER BY e.n
        RETURNING notification.id)
    SELECT coalesce(array_agg(inserted.id ORDER BY inserted.id), '{}') INTO ids FROM inserted;
    IF cardinality(ids) > 0 THEN
        PERFORM pg_notify('${schema}.' || publish_all.channel, '');
    END IF;
    RETURN ids;
END
$$;

COMMENT ON FUNCTION ${schema}.publish(text, jsonb, timestamptz, jsonb) IS
    'pgpubsub: inserts a task for channel (run_at defaults to now(); trace_context, e.g. {"traceparent": "00-..."}, is continued by the handler) and wakes the channel''s listeners after commit; returns the task id. Runs as its owner: callers need only EXECUTE.';
COMMENT ON FUNCTION ${schema}.publish_all(text, jsonb, timestamptz, jsonb) IS
    'pgpubsub: inserts a task for each element of the JSON array payloads, in order, all with one trace_context, and wakes the channel''s listeners once after commit; returns the task ids in that order. Runs as its owner: callers need only EXECUTE.';

DO $$
DECLARE
    pair record;
    g record;
    owner_name name;
BEGIN
    FOR pair IN
        SELECT * FROM (VALUES
            ('${schema}.publish_before_v6(text, jsonb, timestamptz)'::regprocedure,
             '${schema}.publish(text, jsonb, timestamptz, jsonb)'::regprocedure),
            ('${schema}.publish_all_before_v6(text, jsonb, timestamptz)'::regprocedure,
             '${schema}.publish_all(text, jsonb, timestamptz, jsonb)'::regprocedure)) AS p(old, new)
    LOOP
        SELECT pg_catalog.pg_get_userbyid(f.proowner) INTO owner_name FROM pg_catalog.pg_proc f WHERE f.oid = pair.old;
        EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO %I', pair.new, owner_name);
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', pair.new);
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
    -- publish() calls it as its owner: the same owner, and nobody else may call it.
    EXECUTE pg_catalog.format('ALTER FUNCTION ${schema}.check_trace_context(jsonb) OWNER TO %I', owner_name);
    REVOKE ALL ON FUNCTION ${schema}.check_trace_context(jsonb) FROM PUBLIC;
END
$$;
