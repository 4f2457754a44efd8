"""The TAP server's database role (created by sql/061_tap_role.sql): password, uploads.

The migration creates ``assocdata_tap`` read-only (USAGE/SELECT on ivoa and
TAP_SCHEMA). Two things depend on the deployment and are set here, by
``assocdata tap config``: the password Vollt connects with over TCP, and CREATE
on "TAP_UPLOAD", granted only while uploads are enabled.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

TAP_ROLE = "assocdata_tap"
UPLOAD_SCHEMA = "TAP_UPLOAD"


def set_password(conn: psycopg.Connection, password: str, role: str = TAP_ROLE) -> None:
    """Store the role's password (scram-sha-256 when the server hashes with it)."""
    conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role),
                                                             sql.Literal(password)))


def set_uploads(conn: psycopg.Connection, enabled: bool, role: str = TAP_ROLE) -> None:
    """GRANT (enabled) or REVOKE CREATE on TAP_UPLOAD: Vollt creates upload tables there."""
    stmt = "GRANT CREATE ON SCHEMA {} TO {}" if enabled else "REVOKE CREATE ON SCHEMA {} FROM {}"
    conn.execute(sql.SQL(stmt).format(sql.Identifier(UPLOAD_SCHEMA), sql.Identifier(role)))


def privileges(conn: psycopg.Connection, role: str = TAP_ROLE) -> dict[str, bool]:
    """What the role may do where it matters (for `tap check` and the tests)."""
    q = conn.execute(
        "SELECT has_schema_privilege(%(r)s, 'ivoa', 'USAGE'), "
        "       has_schema_privilege(%(r)s, 'TAP_SCHEMA', 'USAGE'), "
        "       has_table_privilege(%(r)s, 'ivoa.obscore', 'SELECT'), "
        "       has_table_privilege(%(r)s, 'ivoa.obscore', 'INSERT,UPDATE,DELETE,TRUNCATE'), "
        "       has_schema_privilege(%(r)s, 'ivoa', 'CREATE'), "
        "       has_schema_privilege(%(r)s, 'TAP_UPLOAD', 'CREATE')", {"r": role}).fetchone()
    keys = ("ivoa_usage", "tap_schema_usage", "obscore_select", "obscore_write",
            "ivoa_create", "upload_create")
    return dict(zip(keys, q))
