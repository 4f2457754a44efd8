"""Shared set-up of the web tests (imported by tests/test_web_*.py; holds no test itself).

One database per test session for all web tests, migrated to head, with the
sample collection (the real corpus files) staged, derived and previewed: the
pages are tested on real rows; beside it, the submission area (a database of
its own, prepared as ``assocdata web`` prepares it). Built once, on first use,
dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from assocdata import config, migrate

_ENV: "WebEnv | None" = None


@dataclass(frozen=True)
class WebEnv:
    url: str
    area_url: str  # the submission area
    collection: Path  # a private copy of the sample collection (publication writes here)
    data_dir: Path

    def settings(self):
        from assocdata.web import WebSettings

        return WebSettings(self.url, self.data_dir, self.collection, self.area_url)


def web_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            sample_root: Path) -> WebEnv:
    global _ENV
    if _ENV is not None:
        return _ENV
    from assocdata.derive.refresh import refresh
    from assocdata.ingest import ingest
    from assocdata.web import area, previews

    name = f"assocdata_web_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = config.database_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))

    def drop() -> None:
        from assocdata.derive.refresh import close_idle_connections

        close_idle_connections()
        with psycopg.connect(admin, autocommit=True) as conn:
            for db in (name, f"{name}_submissions"):
                conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    psycopg.sql.Identifier(db)))

    request.config.add_cleanup(drop)
    migrate.upgrade(name)
    url = config.database_url(name)
    area_url = config.database_url(f"{name}_submissions")
    area.prepare(area_url)  # creates it: the way `assocdata web` and `db setup` do
    base = tmp_path_factory.mktemp("web")
    collection = base / "collection"
    shutil.copytree(sample_root, collection, copy_function=shutil.copy2)
    ingest(collection, database_url=url)
    refresh(database_url=url)
    data_dir = base / "data"
    with psycopg.connect(url, autocommit=True) as conn:
        previews.generate(conn, data_dir / "previews")
    _ENV = WebEnv(url, area_url, collection, data_dir)
    return _ENV


@pytest.fixture
def env(request, tmp_path_factory, sample_root) -> WebEnv:
    return web_env(request, tmp_path_factory, sample_root)


@pytest.fixture
def client(env):
    from starlette.testclient import TestClient

    from assocdata.web import create_app

    with TestClient(create_app(env.settings()), base_url="http://testserver") as c:
        yield c


def csrf(client) -> str:
    """The CSRF cookie a page visit sets (forms repeat it in their hidden field)."""
    client.get("/submit")
    return client.cookies.get("assocdata_csrf")
