"""Schema migrations: Alembic revisions that apply the numbered files of ``sql/``.

Why files and not inline strings: every SQL object lives in one reviewed file
(``sql/NNN_concern.sql``), tested by a test file of the same concern.
Replaceable objects (functions, views) are written ``CREATE OR REPLACE`` and are
re-applied by the migration that changes them; table DDL files are immutable
once applied (a change to a table is a new numbered file and a new revision).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import config


def apply_sql_files(op: Any, names: Sequence[str]) -> None:
    """Run each ``sql/<name>`` in the migration's transaction, through psycopg directly.

    psycopg (not SQLAlchemy's text()) so that ':' and '%' inside function bodies
    are never taken for bind parameters.
    """
    driver = op.get_bind().connection.driver_connection
    for name in names:
        path = config.SQL_DIR / name
        driver.execute(path.read_text())


def alembic_config(url: str | None = None):
    from alembic.config import Config

    cfg = Config(str(config.REPO_ROOT / "alembic.ini"))
    if url:
        cfg.attributes["url"] = url
    return cfg


def upgrade(dbname: str | None = None, revision: str = "head", *, url: str | None = None) -> None:
    """``alembic upgrade head`` on the configured database (or ``dbname`` on the same server,
    or the libpq ``url`` given)."""
    from alembic import command

    command.upgrade(alembic_config(config.sqlalchemy_url(dbname, url=url)), revision)


def current(dbname: str | None = None, *, url: str | None = None) -> str | None:
    import psycopg

    with psycopg.connect(url or config.database_url(dbname)) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except psycopg.errors.UndefinedTable:
            return None
        return row[0] if row else None
