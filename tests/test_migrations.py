"""Schema changes only through Alembic; upgrading twice is a no-op."""

from __future__ import annotations

from assocdata import migrate


def test_database_is_at_head_and_upgrade_is_idempotent(dbname, db):
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert migrate.current(dbname) == head
    migrate.upgrade(dbname)
    assert migrate.current(dbname) == head


def test_staging_tables_exist(db):
    tables = {r[0] for r in db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging'")}
    assert {"catalogue", "file", "hdu", "reject", "ingest_run"} <= tables
