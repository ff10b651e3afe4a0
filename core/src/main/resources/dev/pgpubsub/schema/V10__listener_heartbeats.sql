-- pgpubsub schema, version 10: listener heartbeats, and the dead letters newest first.
--
-- Another session's LISTEN state cannot be read from SQL without extra privileges, and done tasks
-- are deleted, so neither which listeners serve nor how many tasks they did can be read afterwards.
-- Each listener therefore upserts one row about itself at a fixed interval (its state, whether its
-- LISTEN is on, recovery's progress, cumulative counters); a row that is not renewed expires, and
-- any listener deletes expired rows, a few at a time, so that the table stays as small as the
-- number of live listeners. Operators (bin/pgpubsub console) read it.

CREATE TABLE ${schema}.listener_heartbeat (
    listener           text        NOT NULL,  -- the listener's name in its process, e.g. pgpubsub-1
    host               text        NOT NULL,
    pid                bigint      NOT NULL,
    channels           text[]      NOT NULL,
    state              text        NOT NULL,
    listening          boolean     NOT NULL,
    recovery_done      bigint,                -- NULL unless start-up recovery runs or ran
    recovery_estimated bigint,
    tasks_done         bigint      NOT NULL DEFAULT 0,
    tasks_failed       bigint      NOT NULL DEFAULT 0,
    started_at         timestamptz NOT NULL,
    beat_at            timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    PRIMARY KEY (host, pid, listener),
    CONSTRAINT listener_heartbeat_state
        CHECK (state IN ('starting', 'running', 'recovering', 'degraded', 'stopping', 'stopped'))
);

CREATE INDEX listener_heartbeat_expires_at ON ${schema}.listener_heartbeat (expires_at);

COMMENT ON TABLE ${schema}.listener_heartbeat IS
    'pgpubsub: one row per running listener, upserted by it at a fixed interval; a row past expires_at is stale and deleted by any listener.';
COMMENT ON COLUMN ${schema}.listener_heartbeat.tasks_done IS
    'pgpubsub: tasks done by this listener since it started (cumulative): the console''s throughput is its growth.';

-- The dead letters of all channels, newest first (bin/pgpubsub console's first page and the pages
-- after it, by keyset on (dead_at, id)): an index scan backwards that stops after a page, where
-- without it every page sorted the whole table. Building it reads the table once.
CREATE INDEX dead_letter_dead_at ON ${schema}.dead_letter (dead_at, id);

-- Owned as the other tables are, whoever migrates.
DO $$
DECLARE
    owner_name name;
BEGIN
    SELECT pg_catalog.pg_get_userbyid(c.relowner) INTO owner_name FROM pg_catalog.pg_class c
    WHERE c.oid = '${schema}.notification'::regclass;
    EXECUTE pg_catalog.format('ALTER TABLE ${schema}.listener_heartbeat OWNER TO %I', owner_name);
END
$$;

-- Listeners (roles that may delete from the notification table: claims do) write their heartbeats
-- and delete expired ones, which needs reading them; operators (roles that may read the dead
-- letters) read them.
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
        EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON ${schema}.listener_heartbeat TO %s',
            role_oid::regrole);
    END LOOP;
    FOR role_oid IN
        SELECT DISTINCT acl.grantee
        FROM pg_catalog.pg_class t, pg_catalog.aclexplode(t.relacl) acl
        WHERE t.oid = '${schema}.dead_letter'::regclass AND acl.privilege_type = 'SELECT'
          AND acl.grantee <> 0 AND acl.grantee <> t.relowner
    LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON ${schema}.listener_heartbeat TO %s', role_oid::regrole);
    END LOOP;
END
$$;
