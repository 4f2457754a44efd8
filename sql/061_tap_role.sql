-- 061: the read-only database role of the TAP server (Vollt), and TAP_UPLOAD.
--
-- assocdata_tap may read ivoa and TAP_SCHEMA (USAGE + SELECT) and call the
-- position functions; nothing else. TAP_UPLOAD is the schema where Vollt
-- creates the tables of uploaded VOTables: the role gets CREATE there only when
-- uploads are enabled (`assocdata tap config` with upload_enabled, see
-- etl/assocdata/tap/role.py). Roles belong to the whole server: the role is
-- created once, grants are per database. Its password (needed over TCP) is set
-- by `assocdata tap config`, never here.
DO $$
BEGIN
  CREATE ROLE assocdata_tap LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
  -- only on creation: updating a shared catalog row from concurrent migrations
  -- of several databases would fail with "tuple concurrently updated"
  COMMENT ON ROLE assocdata_tap IS 'assocdata: the TAP server (Vollt), read-only on ivoa and TAP_SCHEMA';
EXCEPTION
  -- already there, or created right now by a concurrent migration of another database
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
-- a role left by an older set-up keeps its name but gets these attributes
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'assocdata_tap'
              AND (NOT rolcanlogin OR rolsuper OR rolcreatedb OR rolcreaterole OR rolinherit
                   OR rolreplication OR rolbypassrls)) THEN
    ALTER ROLE assocdata_tap LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION
      NOBYPASSRLS;
  END IF;
END
$$;

DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO assocdata_tap', current_database());
  EXECUTE format('ALTER ROLE assocdata_tap IN DATABASE %I SET statement_timeout = %L',
                 current_database(), '10min');
END
$$;

CREATE SCHEMA IF NOT EXISTS "TAP_UPLOAD";
COMMENT ON SCHEMA "TAP_UPLOAD" IS 'Tables of VOTables uploaded to the TAP server (Vollt)';

GRANT USAGE ON SCHEMA ivoa, "TAP_SCHEMA", "TAP_UPLOAD" TO assocdata_tap;
GRANT SELECT ON ALL TABLES IN SCHEMA ivoa, "TAP_SCHEMA" TO assocdata_tap;
ALTER DEFAULT PRIVILEGES IN SCHEMA ivoa GRANT SELECT ON TABLES TO assocdata_tap;
ALTER DEFAULT PRIVILEGES IN SCHEMA "TAP_SCHEMA" GRANT SELECT ON TABLES TO assocdata_tap;
