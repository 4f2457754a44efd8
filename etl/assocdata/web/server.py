"""``assocdata web``: serve the pages with uvicorn; create documentalists' accounts; make previews."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import psycopg

from .app import WebSettings, create_app


def serve(host: str = "127.0.0.1", port: int = 8080, settings: WebSettings | None = None) -> None:
    import uvicorn

    from .area import prepare

    settings = settings or WebSettings.default()
    prepare(settings.area_url)  # idempotent: the area follows the published database's migrations
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def add_user(username: str, password: str | None = None, *, database_url: str | None = None) -> None:
    """Create (or reset) an account; the password is asked twice on a terminal, or read from stdin."""
    from .auth import create_account

    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass(f"password for {username}: ")
            if getpass.getpass("again: ") != password:
                raise SystemExit("the two passwords differ")
        else:
            password = sys.stdin.readline().rstrip("\n")
    settings = WebSettings.default()
    with psycopg.connect(database_url or settings.database_url, autocommit=True) as conn:
        create_account(conn, username, password)


def make_previews(catalogues: list[str] | None = None, *, overwrite: bool = False,
                  settings: WebSettings | None = None) -> dict[str, int]:
    from .previews import generate

    settings = settings or WebSettings.default()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        return generate(conn, Path(settings.previews_dir), catalogues, overwrite=overwrite)
