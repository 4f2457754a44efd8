-- Extensions the project needs.  pg_sphere is created by the migration itself
-- (migrations/versions/0001_*.py), because the version to create depends on the
-- server: our corrected '1.2.0.assocdata1' on Debian 12 + PostgreSQL >= 15.20
-- (see etl/assocdata/pgsphere.py and docs/setup.md), the packaged default elsewhere.
CREATE EXTENSION IF NOT EXISTS q3c;
CREATE EXTENSION IF NOT EXISTS plpython3u;
CREATE SCHEMA IF NOT EXISTS assocdata;
COMMENT ON SCHEMA assocdata IS 'assocdata: functions shared by the staging and derivation layers';
