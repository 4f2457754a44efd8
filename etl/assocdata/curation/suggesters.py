"""Metadata suggesters: sources of values for a catalogue or one of its files.

Why an interface: the ReadMe is the first source of such knowledge, not the
last (a data centre may add a reader of the paper's tables, of a project's
own index files, or a language-model reader of the ReadMe). A suggester only
*suggests*: it returns (file, column, value, where) tuples; they are stored in
``curation.suggestion`` and the one apply step decides (fills only empty
cells, with provenance naming the suggester). A new suggester is a class with
a ``name`` and a ``suggest`` method, added to :data:`SUGGESTERS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import psycopg


@dataclass(frozen=True)
class Suggestion:
    """A value for ``column`` of the file ``relpath`` ('' = every file of the catalogue).

    ``relpath`` may be a path below the catalogue or a bare file name (as a
    ReadMe writes it); ``column`` an ObsCore column (applied) or another name
    (kept for review: keywords, description).
    """

    relpath: str
    column: str
    value: str
    detail: str


@dataclass(frozen=True)
class CatalogueInfo:
    """What a suggester may read about a catalogue."""

    id: str
    readme: str | None
    readme_hash: str | None
    relpaths: tuple[str, ...]


class MetadataSuggester(Protocol):
    name: str

    def suggest(self, catalogue: CatalogueInfo) -> Iterable[Suggestion]:
        """Suggestions for the catalogue; must not raise on odd input (yield nothing instead)."""
        ...


def default_suggesters() -> list[MetadataSuggester]:
    from .readme import ReadmeSuggester

    return [ReadmeSuggester()]


def catalogue_info(conn: psycopg.Connection, catalogue: str) -> CatalogueInfo | None:
    row = conn.execute("SELECT id, readme, readme_hash FROM staging.catalogue WHERE id = %s",
                       [catalogue]).fetchone()
    if row is None:
        return None
    relpaths = tuple(r[0] for r in conn.execute(
        "SELECT relpath FROM staging.file WHERE catalogue = %s AND status IN ('staged', 'partial') "
        "ORDER BY relpath", [catalogue]))
    return CatalogueInfo(row[0], row[1], row[2], relpaths)


def refresh_suggestions(conn: psycopg.Connection, catalogues: Sequence[str],
                        suggesters: Sequence[MetadataSuggester] | None = None) -> int:
    """Replace each suggester's suggestions for the catalogues; returns how many are stored.

    Cheap and local (the ReadMe is staged), so it is recomputed on every
    curate: an edited ReadMe never leaves stale suggestions behind.
    """
    suggesters = list(suggesters) if suggesters is not None else default_suggesters()
    n = 0
    for cat in catalogues:
        info = catalogue_info(conn, cat)
        if info is None:
            continue
        for sg in suggesters:
            rows: dict[tuple[str, str], tuple] = {}
            try:
                for s in sg.suggest(info):
                    rows.setdefault((s.relpath, s.column),
                                    (cat, s.relpath, s.column, sg.name, s.value, s.detail, info.readme_hash))
            except Exception as exc:  # a broken suggester must not stop curation
                import warnings

                warnings.warn(f"suggester {sg.name} failed on {cat}: {type(exc).__name__}: {exc}",
                              stacklevel=2)
                continue
            conn.execute("DELETE FROM curation.suggestion WHERE catalogue = %s AND suggester = %s",
                         [cat, sg.name])
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO curation.suggestion (catalogue, relpath, column_name, suggester, value, "
                    "detail, source_hash) VALUES (%s, %s, %s, %s, %s, %s, %s)", list(rows.values()))
            n += len(rows)
    return n
