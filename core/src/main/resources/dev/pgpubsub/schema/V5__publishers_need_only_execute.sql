-- pgpubsub schema, version 5: publishing needs no right on the notification table.
--
-- publish() ran with the rights of its caller, whose INSERT ... RETURNING needed SELECT on the
-- table: every publisher could read every task. Now it runs as its owner (SECURITY DEFINER), with a
-- fixed search_path (pg_catalog first, pg_temp last; every object of the schema is named with the
-- schema), as the trigger functions of version 2 do. publish_all() does the same for many payloads
-- at once (the Java publisher's batches). A publisher needs USAGE on the schema and EXECUTE on the
-- two functions, nothing else: it can add tasks but not read, change or delete them.

-- Same signature, so the function keeps its owner and its grants.
CREATE OR REPLACE FUNCTION ${schema}.publish(channel text, payload jsonb, run_at timestamptz DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
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

-- The payloads of a JSON array as tasks of one channel, inserted in the array's order (their ids
-- ascend with it), with one wake-up. Returns the ids in that order.
CREATE FUNCTION ${schema}.publish_all(channel text, payloads jsonb, run_at timestamptz DEFAULT NULL)
    RETURNS bigint[]
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    WITH inserted AS (
        INSERT INTO ${schema}.notification (channel, payload, run_at)
        SELECT publish_all.channel, e.value, coalesce(publish_all.run_at, now())
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

COMMENT ON FUNCTION ${schema}.publish(text, jsonb, timestamptz) IS
    'pgpubsub: inserts a task for channel (run_at defaults to now()) and wakes the channel''s listeners after commit; returns the task id. Runs as its owner: callers need only EXECUTE.';
COMMENT ON FUNCTION ${schema}.publish_all(text, jsonb, timestamptz) IS
    'pgpubsub: inserts a task for each element of the JSON array payloads, in order, and wakes the channel''s listeners once after commit; returns the task ids in that order. Runs as its owner: callers need only EXECUTE.';

-- A function is executable by PUBLIC unless revoked. That was harmless while publish() had its
-- caller's rights; running as its owner, it would let every role that may use the schema publish.
-- So only roles granted EXECUTE may call the two functions. Those who could publish before keep
-- publishing: roles that may insert into the notification table (they could add tasks anyway) are
-- granted EXECUTE on publish(), and whoever may then execute publish() may execute publish_all().
-- Grants of EXECUTE on publish() made before this migration are kept: it is replaced, not dropped.
DO $$
DECLARE
    role_oid oid;
    public_inserts boolean;
BEGIN
    SELECT count(*) > 0 INTO public_inserts
    FROM pg_catalog.pg_class t, pg_catalog.aclexplode(t.relacl) acl
    WHERE t.oid = '${schema}.notification'::regclass AND acl.privilege_type = 'INSERT' AND acl.grantee = 0;
    FOR role_oid IN
        SELECT DISTINCT acl.grantee
        FROM pg_catalog.pg_class t, pg_catalog.aclexplode(t.relacl) acl
        WHERE t.oid = '${schema}.notification'::regclass AND acl.privilege_type = 'INSERT' AND acl.grantee <> 0
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION ${schema}.publish(text, jsonb, timestamptz) TO %s',
            role_oid::regrole);
    END LOOP;
    IF NOT public_inserts THEN
        REVOKE EXECUTE ON FUNCTION ${schema}.publish(text, jsonb, timestamptz) FROM PUBLIC;
    END IF;

    REVOKE ALL ON FUNCTION ${schema}.publish_all(text, jsonb, timestamptz) FROM PUBLIC;
    FOR role_oid IN
        SELECT DISTINCT acl.grantee
        FROM pg_catalog.pg_proc f,
            pg_catalog.aclexplode(coalesce(f.proacl, pg_catalog.acldefault('f', f.proowner))) acl
        WHERE f.oid = '${schema}.publish(text, jsonb, timestamptz)'::regprocedure AND acl.privilege_type = 'EXECUTE'
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION ${schema}.publish_all(text, jsonb, timestamptz) TO %s',
            CASE WHEN role_oid = 0 THEN 'PUBLIC' ELSE role_oid::regrole::text END);
    END LOOP;
END
$$;
