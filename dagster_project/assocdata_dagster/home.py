"""``DAGSTER_HOME``, managed by the project: ``$ASSOCDATA_HOME/dagster`` and its dagster.yaml.

Why managed: Dagster keeps its runs, event log, schedules and partition keys
in "instance" storage; by default that is SQLite files in a folder the user
must create and point ``DAGSTER_HOME`` at. Here it is written by set-up
(``python -m assocdata_dagster.home``, called by scripts/setup), idempotently:

- storage in the **same PostgreSQL server** as the data, in a database of its
  own (``dagster``; ``ASSOCDATA_DAGSTER_DATABASE`` to change it), created if
  missing; through psycopg2 (``postgresql+psycopg2``): dagster-postgres fails
  on ``NOTIFY`` through psycopg 3 (dagster issue #33958);
- telemetry off;
- a concurrency pool limit for the steps that work in the database (one per
  core by default, ``ASSOCDATA_DAGSTER_POOL_LIMIT``), and at most a few runs at
  once (``ASSOCDATA_DAGSTER_MAX_RUNS``).

An explicit ``DAGSTER_HOME`` in the environment wins (a deployment's own).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict

from assocdata import config

DEFAULT_DATABASE = "dagster"


def dagster_home() -> Path:
    env = os.environ.get("DAGSTER_HOME", "").strip()
    return Path(env).resolve() if env else config.home() / "dagster"


def database_name() -> str:
    return os.environ.get("ASSOCDATA_DAGSTER_DATABASE", DEFAULT_DATABASE)


def storage_url(dbname: str | None = None) -> str:
    """SQLAlchemy URL of Dagster's database on the assocdata server, through psycopg2."""
    info = conninfo_to_dict(config.database_url(dbname or database_name()))
    user = quote(str(info.pop("user", "") or ""), safe="")
    password = info.pop("password", None)
    host = str(info.pop("host", "") or "")
    port = info.pop("port", None)
    db = quote(str(info.pop("dbname", "")), safe="")
    userinfo = user + (f":{quote(str(password), safe='')}" if password else "")
    query = {k: str(v) for k, v in info.items()}
    if host.startswith("/"):  # a unix socket directory: passed to libpq as a parameter
        query["host"] = host
        if port:
            query["port"] = str(port)
        netloc = ""
    else:
        netloc = host + (f":{port}" if port else "")
    url = f"postgresql+psycopg2://{userinfo}@{netloc}/{db}"
    return url + (f"?{urlencode(query)}" if query else "")


def dagster_yaml(dbname: str | None = None) -> str:
    pool_limit = int(os.environ.get("ASSOCDATA_DAGSTER_POOL_LIMIT", os.cpu_count() or 1))
    max_runs = int(os.environ.get("ASSOCDATA_DAGSTER_MAX_RUNS", 4))
    return "\n".join([
        "# Written by assocdata (dagster_project/assocdata_dagster/home.py) at set-up: edit that",
        "# file, or set DAGSTER_HOME to a folder of your own, rather than editing this one.",
        "storage:",
        "  postgres:",
        f"    postgres_url: \"{storage_url(dbname)}\"",
        "telemetry:",
        "  enabled: false",
        "concurrency:",
        "  pools:",
        f"    default_limit: {pool_limit}   # steps working in the database at once (pool assocdata_database)",
        "  runs:",
        f"    max_concurrent_runs: {max_runs}",
        "",
    ])


def ensure_database(dbname: str | None = None) -> bool:
    """Create Dagster's database on the server if missing; True when created."""
    from assocdata.cluster import ensure_database as ensure

    return ensure(dbname or database_name())


def write(home: Path | None = None, dbname: str | None = None) -> Path:
    """Write ``dagster.yaml`` under ``home`` (default :func:`dagster_home`) if it changed."""
    home = home or dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    text = dagster_yaml(dbname)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
        path.chmod(0o600)  # may hold a password (ASSOCDATA_DATABASE_URL)
    return path


def environment(home: Path | None = None) -> dict[str, str]:
    """The environment of a Dagster process of the project (webserver, daemon, CLI)."""
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(home or dagster_home())
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    return env


def setup() -> list[str]:
    done = []
    try:
        if ensure_database():
            done.append(f"created the database {database_name()} (Dagster's storage)")
    except psycopg.Error as exc:  # a server of the user's own, without CREATEDB for us
        done.append(f"could not create the database {database_name()} ({exc}): create it, "
                    "or set ASSOCDATA_DAGSTER_DATABASE to one that exists")
    done.append(f"DAGSTER_HOME {write().parent}")
    return done


if __name__ == "__main__":
    for line in setup():
        print(f"dagster: {line}")
