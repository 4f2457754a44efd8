"""The embedded default: a PostgreSQL cluster the project owns, under ``ASSOCDATA_HOME``.

Why a cluster of our own: a newcomer gets a working database with PgSphere,
q3c and PL/Python in one command, without touching a system server or needing
a DBA; the cluster listens on a unix socket in our folder and on 127.0.0.1 at a
non-default port, so it never collides with another PostgreSQL on the machine.

PostgreSQL refuses to run as root, so when we are root the cluster runs as the
``postgres`` system user (created by Debian's ``postgresql-common``); its files
are owned by that user. A non-root user runs it as themselves.

Nothing here is used when ``ASSOCDATA_DATABASE_URL`` is set.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from . import config

PG_BINDIR = Path(os.environ.get("ASSOCDATA_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
SERVER_USER = "postgres"  # used only when we run as root


class ClusterError(RuntimeError):
    """The embedded cluster could not be created, started or reached."""


def _run_as() -> str | None:
    """OS user that owns and runs the cluster (None: the current user)."""
    return SERVER_USER if os.geteuid() == 0 else None


def _cmd(args: list[str]) -> list[str]:
    user = _run_as()
    return ["runuser", "-u", user, "--", *args] if user else args


def _chown(path: Path) -> None:
    user = _run_as()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _binary(name: str) -> str:
    path = PG_BINDIR / name
    if not path.exists():
        raise ClusterError(
            f"{path} not found: install the Debian package postgresql-15 "
            "(see README.md, or run ./scripts/setup as root), or set ASSOCDATA_PG_BINDIR."
        )
    return str(path)


def password() -> str:
    """Password of the cluster superuser for TCP (127.0.0.1) connections."""
    return config.embedded().password_file.read_text().strip()


def tcp_url(dbname: str | None = None) -> str:
    """URL over 127.0.0.1, for clients that cannot use the unix socket (JDBC, Vollt)."""
    return (
        f"postgresql://{config.DEFAULT_USER}:{password()}@127.0.0.1:{config.port()}/"
        f"{dbname or config.DEFAULT_DATABASE}"
    )


def _server_conf(paths: config.EmbeddedPaths) -> str:
    """Settings written at every start, so a changed port or path applies."""
    python_path = os.pathsep.join([str(paths.plpython_dir), str(config.REPO_ROOT / "etl")])
    return "\n".join([
        "# Written by assocdata at each start: edit etl/assocdata/cluster.py, not this file.",
        f"port = {config.port()}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{paths.socket_dir}'",
        "unix_socket_permissions = 0777",
        "max_connections = 100",
        "shared_buffers = '512MB'",
        "work_mem = '32MB'",
        "maintenance_work_mem = '512MB'",
        "max_wal_size = '4GB'",
        "checkpoint_timeout = '15min'",
        "logging_collector = off",
        "log_min_messages = warning",
        "timezone = 'UTC'",
        # Where PL/Python finds the project and its pinned dependencies
        # (read by assocdata.python_bootstrap(); see sql/002_plpython.sql).
        f"assocdata.python_path = '{python_path}'",
        "",
    ])


def is_initialised() -> bool:
    return (config.embedded().pgdata / "PG_VERSION").exists()


def init() -> None:
    """Create the cluster (initdb) if it does not exist yet. Idempotent."""
    paths = config.embedded()
    if is_initialised():
        return
    paths.root.mkdir(parents=True, exist_ok=True)
    for d in (paths.pgdata, paths.socket_dir, paths.logfile.parent):
        d.mkdir(parents=True, exist_ok=True)
        _chown(d)
    paths.pgdata.chmod(0o700)
    if not paths.password_file.exists():
        paths.password_file.write_text(secrets.token_urlsafe(24) + "\n")
        paths.password_file.chmod(0o600)
    pwfile = paths.socket_dir / ".initdb-pw"
    pwfile.write_text(password() + "\n")
    _chown(pwfile)
    try:
        subprocess.run(
            _cmd([
                _binary("initdb"), "-D", str(paths.pgdata), "-U", config.DEFAULT_USER,
                "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                "-E", "UTF8", "--locale=C.UTF-8",
            ]),
            check=True, capture_output=True, text=True,
        )
    except subprocess.CalledProcessError as exc:
        raise ClusterError(f"initdb failed:\n{exc.stdout}\n{exc.stderr}") from exc
    finally:
        pwfile.unlink(missing_ok=True)
    conf = paths.pgdata / "postgresql.conf"
    with conf.open("a") as fh:
        fh.write("\ninclude_if_exists = 'assocdata.conf'\n")


def status() -> str | None:
    """'running (pid N)' or None when the cluster is not running."""
    paths = config.embedded()
    if not is_initialised():
        return None
    proc = subprocess.run(
        _cmd([_binary("pg_ctl"), "-D", str(paths.pgdata), "status"]),
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        return None
    pidfile = paths.pgdata / "postmaster.pid"
    pid = pidfile.read_text().split("\n", 1)[0] if pidfile.exists() else "?"
    return f"running (pid {pid})"


def start() -> None:
    """Initialise if needed, start if not running, and create the database."""
    if config.external_url():
        raise ClusterError("ASSOCDATA_DATABASE_URL is set: the embedded cluster is not used.")
    init()
    paths = config.embedded()
    conf = paths.pgdata / "assocdata.conf"
    conf.write_text(_server_conf(paths))
    _chown(conf)
    if status() is None:
        paths.logfile.parent.mkdir(parents=True, exist_ok=True)
        _chown(paths.logfile.parent)
        # A stale pid file after a machine restart is handled by pg_ctl itself.
        proc = subprocess.run(
            _cmd([
                _binary("pg_ctl"), "-D", str(paths.pgdata), "-l", str(paths.logfile),
                "-w", "-t", "120", "start",
            ]),
            capture_output=True, text=True,
        )
        if proc.returncode != 0:
            tail = paths.logfile.read_text()[-3000:] if paths.logfile.exists() else ""
            raise ClusterError(
                f"could not start PostgreSQL in {paths.pgdata}:\n{proc.stdout}{proc.stderr}\n"
                f"--- end of {paths.logfile} ---\n{tail}"
            )
    else:
        subprocess.run(
            _cmd([_binary("pg_ctl"), "-D", str(paths.pgdata), "reload"]),
            check=True, capture_output=True,
        )
    ensure_database(config.DEFAULT_DATABASE)


def stop() -> None:
    paths = config.embedded()
    if status() is None:
        return
    subprocess.run(
        _cmd([_binary("pg_ctl"), "-D", str(paths.pgdata), "-m", "fast", "-w", "stop"]),
        check=True, capture_output=True,
    )


def ensure_database(dbname: str, server_url: str | None = None) -> bool:
    """Create ``dbname`` if it does not exist; True when it was created.

    On the configured server (the embedded cluster or ASSOCDATA_DATABASE_URL's),
    or on the server of the libpq ``server_url`` given. Used for the project's
    database, Dagster's and the web pages' submission area.
    """
    from psycopg.conninfo import make_conninfo

    admin = (config.database_url("postgres") if server_url is None
             else make_conninfo(server_url, dbname="postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            return False
        try:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(dbname)))
        except psycopg.errors.DuplicateDatabase:
            return False  # created meanwhile by another process
        return True


def drop_database(dbname: str) -> None:
    with psycopg.connect(config.database_url("postgres"), autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(dbname)
            )
        )


def wait_until_ready(timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(config.database_url("postgres"), connect_timeout=3):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def destroy() -> None:
    """Stop and delete the cluster's data (used by `assocdata db reset`)."""
    stop()
    shutil.rmtree(config.embedded().pgdata, ignore_errors=True)
