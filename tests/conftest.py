"""Shared fixtures: a real PostgreSQL database per test run, never a mock.

The database is created in the embedded cluster (or on ASSOCDATA_DATABASE_URL's
server), migrated with Alembic to head, and dropped at the end of the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest

from assocdata import config, migrate

CORPUS = Path(os.environ.get("ASSOCDATA_CORPUS", config.REPO_ROOT.parent / "shared" / "fits-corpus"))
STAGING_TABLES = ("staging.reject", "staging.hdu", "staging.file", "staging.catalogue",
                  "staging.ingest_run")


def _admin_url() -> str:
    return config.database_url("postgres")


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "MANIFEST.tsv").exists():
        pytest.fail(f"dev corpus not found at {CORPUS} (expected ../shared/fits-corpus)")
    return CORPUS


@pytest.fixture(scope="session")
def dbname() -> str:
    """A fresh, migrated database for this test run."""
    name = f"assocdata_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    try:
        migrate.upgrade(name)
        yield name
    finally:
        with psycopg.connect(_admin_url(), autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(name)))


@pytest.fixture(scope="session")
def db_url(dbname: str) -> str:
    return config.database_url(dbname)


@pytest.fixture
def db(db_url: str):
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def empty_staging(db) -> None:
    """Tests that count rows start from empty staging tables."""
    db.execute(f"TRUNCATE {', '.join(STAGING_TABLES)} CASCADE")


@contextlib.contextmanager
def scratch_database(prefix: str):
    """A new database with pg_sphere only (no migrations), dropped afterwards; yields its URL.

    For tests of one SQL concern that must not touch the migrated test database.
    """
    from assocdata import pgsphere

    name = f"scratch_{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    try:
        url = config.database_url(name)
        with psycopg.connect(url, autocommit=True) as conn:
            pgsphere.create_extension(conn)
        yield url
    finally:
        with psycopg.connect(_admin_url(), autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(name)))


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory, corpus) -> Path:
    """The sample collection (real corpus files as DEMO/<origin> catalogues), built once."""
    from assocdata import sample

    root = tmp_path_factory.mktemp("collection")
    sample.build(root, corpus)
    return root


@pytest.fixture
def collection(tmp_path, sample_root) -> Path:
    """A private, writable copy of the sample collection (tests modify it)."""
    root = tmp_path / "collection"
    shutil.copytree(sample_root, root, copy_function=shutil.copy2)
    return root
