"""sql/061_tap_role.sql and etl/assocdata/tap/role.py: the TAP server's read-only role."""

from __future__ import annotations

import psycopg
import pytest

from assocdata.tap import publish, role


def test_tap_role_reads_ivoa_and_tap_schema_and_writes_nothing(db):
    privs = role.privileges(db)
    assert privs["ivoa_usage"] and privs["tap_schema_usage"] and privs["obscore_select"]
    assert not privs["obscore_write"] and not privs["ivoa_create"]


def test_create_in_tap_upload_only_while_uploads_are_enabled(db):
    role.set_uploads(db, True)
    assert role.privileges(db)["upload_create"]
    role.set_uploads(db, False)
    assert not role.privileges(db)["upload_create"]


def test_connected_as_the_tap_role_selects_but_cannot_insert(db, db_url):
    publish.refresh_schema(db)
    # local socket connections are trusted by the embedded cluster
    url = db_url.replace("postgresql://assocdata@", "postgresql://assocdata_tap@")
    with psycopg.connect(url, autocommit=True) as tap:
        assert tap.execute('SELECT count(*) FROM "TAP_SCHEMA".tables').fetchone()[0] >= 6
        tap.execute("SELECT count(*) FROM ivoa.obscore").fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            tap.execute("DELETE FROM ivoa.obscore")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            tap.execute("CREATE TABLE ivoa.x (i int)")
