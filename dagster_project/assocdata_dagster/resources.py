"""Resources: the database and the collection, configured exactly as the library is.

Why resources and not module globals: the UI shows their configuration, tests
swap them (a test database, a temporary collection), and every asset gets the
same connection settings as ``assocdata`` itself (:mod:`assocdata.config`:
the embedded cluster by default, or ``ASSOCDATA_DATABASE_URL``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
from dagster import ConfigurableResource
from pydantic import Field

from assocdata import config
from assocdata.catalogues import Catalogue, discover


class AssocdataDatabase(ConfigurableResource):
    """The assocdata database: ``url`` if given, else the library's configuration."""

    url: str | None = Field(
        default=None,
        description="libpq URL; default: ASSOCDATA_DATABASE_URL, else the embedded cluster",
    )

    def database_url(self) -> str:
        return self.url or config.database_url()

    @contextlib.contextmanager
    def connect(self, *, autocommit: bool = True) -> Iterator[psycopg.Connection]:
        """A connection of its own (closed at exit); ``autocommit=False`` for one transaction."""
        if self.url is None and not config.external_url():
            from assocdata import cluster

            if cluster.status() is None:  # the embedded default: start it, as the CLI does
                cluster.start()
        with psycopg.connect(self.database_url(), autocommit=autocommit) as conn:
            yield conn


def default_collection_root() -> str:
    """``ASSOCDATA_COLLECTION``, else the sample collection of the demo."""
    env = os.environ.get("ASSOCDATA_COLLECTION", "").strip()
    if env:
        return env
    from assocdata import sample

    return str(sample.default_destination())


class Collection(ConfigurableResource):
    """The collection tree: one catalogue per directory holding a ReadMe.

    Completeness convention (the library's, :mod:`assocdata.catalogues`): the
    data centre writes a catalogue's ReadMe last, so a directory without one
    is still being written and is left alone.
    """

    root: str = Field(default_factory=default_collection_root,
                      description="collection root; catalogue ids are paths below it")

    def path(self) -> Path:
        return Path(self.root).expanduser().resolve()

    def complete_catalogues(self) -> list[Catalogue]:
        """The catalogues whose ReadMe is there, in path order."""
        if not self.path().is_dir():
            return []
        return discover(self.path())


class QualityThresholds(ConfigurableResource):
    """Limits of the asset checks (docs/dagster.md); the defaults hold for the dev corpus."""

    max_rejected_file_share: float = Field(
        default=0.5, description="staged_headers: files rejected whole / files seen, per catalogue")
    max_unusable_share: float = Field(
        default=0.5, description="obscore_rows: unusable products / products, per catalogue")
    max_error_issues_per_file: float = Field(
        default=2.0, description="obscore_rows: derivation issues of severity error per derived file")
    max_null_rate: float = Field(
        default=0.9, description="null_rates: the NULL rate above which a key column is reported")
