"""Where things live: the project home, the database URL, the embedded cluster.

One source of configuration for the library, the CLI, the migrations, the tests
and (later) Dagster: environment variables with documented defaults.

- ``ASSOCDATA_DATABASE_URL``: a PostgreSQL URL of the user's own server. When it
  is set, nothing is started: the project never manages a server it does not own.
- ``ASSOCDATA_HOME``: the folder of the embedded default (cluster, PL/Python
  packages, logs, sample collection); default ``<repository>/.assocdata``.
- ``ASSOCDATA_PORT``: TCP port of the embedded cluster on 127.0.0.1 (default 54329).
- ``ASSOCDATA_SUBMISSIONS_DATABASE_URL``: the submission area of the web pages
  (authors' files are staged and derived there, never in the published
  tables); default: the database ``<name>_submissions`` on the same server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The repository root (where pyproject.toml is), found from this file.
REPO_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = REPO_ROOT / "sql"
MIGRATIONS_DIR = REPO_ROOT / "migrations"
DEFAULT_PORT = 54329
DEFAULT_DATABASE = "assocdata"
#: Superuser of the embedded cluster; the TAP server gets its own read-only role.
DEFAULT_USER = "assocdata"


def home() -> Path:
    """Folder of the embedded default (ignored by git)."""
    return Path(os.environ.get("ASSOCDATA_HOME", REPO_ROOT / ".assocdata")).resolve()


@dataclass(frozen=True)
class EmbeddedPaths:
    """The layout under ``home()``."""

    root: Path

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def logfile(self) -> Path:
        return self.root / "log" / "postgresql.log"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def plpython_dir(self) -> Path:
        """Packages imported by PL/Python (a pip --target directory)."""
        return self.root / "plpython"


def embedded() -> EmbeddedPaths:
    return EmbeddedPaths(home())


def port() -> int:
    return int(os.environ.get("ASSOCDATA_PORT", DEFAULT_PORT))


def external_url() -> str | None:
    """The user's own server, if configured."""
    url = os.environ.get("ASSOCDATA_DATABASE_URL", "").strip()
    return url or None


def database_url(dbname: str | None = None) -> str:
    """libpq URL of the database (the user's, or the embedded cluster's socket).

    ``dbname`` replaces the database name (tests create their own databases).
    """
    url = external_url()
    if url is not None:
        if dbname is None:
            return url
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        return make_conninfo(**{**conninfo_to_dict(url), "dbname": dbname})
    paths = embedded()
    return (
        f"postgresql://{DEFAULT_USER}@/{dbname or DEFAULT_DATABASE}"
        f"?host={paths.socket_dir}&port={port()}"
    )


def submissions_database_url() -> str:
    """The submission area: a database of its own, with the same schema as the published one.

    Why a database and not a catalogue prefix: what an author uploads is
    staged and derived by the same code as a published catalogue, but must
    never be visible to the TAP server, the search page or a collection-wide
    reprocessing, whatever they query. ``ASSOCDATA_SUBMISSIONS_DATABASE_URL``,
    else ``<database>_submissions`` on the same server (created by set-up).
    """
    url = os.environ.get("ASSOCDATA_SUBMISSIONS_DATABASE_URL", "").strip()
    if url:
        return url
    from psycopg.conninfo import conninfo_to_dict

    main = conninfo_to_dict(database_url()).get("dbname") or DEFAULT_DATABASE
    return database_url(f"{main}_submissions")


def sqlalchemy_url(dbname: str | None = None, *, url: str | None = None) -> str:
    """The same database (or the libpq ``url`` given) for SQLAlchemy/Alembic, through psycopg 3."""
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(url or database_url(dbname))
    from sqlalchemy.engine import URL

    query = {k: str(v) for k, v in info.items() if k not in {"user", "password", "dbname", "port"}}
    host = query.pop("host", None)
    if host and host.startswith("/"):
        query["host"] = host  # unix socket directory
        host = None
    return URL.create(
        "postgresql+psycopg",
        username=info.get("user"),
        password=info.get("password"),
        host=host,
        port=int(info["port"]) if info.get("port") else None,
        database=info.get("dbname"),
        query=query,
    ).render_as_string(hide_password=False)
