"""The Python API: ``extract``, ``load_table``, ``apply_mapping``.

A thin layer over the database: ``extract`` stages the files and lets the
database derive ObsCore (the same rules as ``assocdata derive``), then reads
the rows back as an astropy Table whose units, UCDs and descriptions come from
the one description of the table (obscore.yaml).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from . import config
from .obscore import schema

#: Output formats by file extension.
FORMATS = {".csv": "ascii.csv", ".ecsv": "ascii.ecsv", ".xml": "votable", ".vot": "votable",
           ".votable": "votable", ".fits": "fits"}
_POINT = re.compile(r"\(\s*([-+0-9.eE]+)d\s*,\s*([-+0-9.eE]+)d\s*\)")


def spoly_to_stcs(text: str | None) -> str | None:
    """PgSphere polygon text (degrees) → STC-S ``Polygon ICRS ra dec ...`` (what TAP clients read)."""
    if not text:
        return None
    coords = " ".join(f"{float(a):.10g} {float(b):.10g}" for a, b in _POINT.findall(text))
    return f"Polygon ICRS {coords}" if coords else None


@dataclass
class Response:
    """What ``extract`` returns: the ObsCore rows of the extracted catalogues."""

    catalogues: list[str]
    database_url: str
    ingest_summary: Any = None
    refresh_summary: Any = None
    _table: Any = field(default=None, repr=False)

    def to_table(self):
        """The rows as an astropy Table (units, UCDs and descriptions from the spec)."""
        if self._table is None:
            self._table = query_table(self.database_url, self.catalogues)
        return self._table

    def write(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write the rows: .csv .ecsv .xml/.vot (VOTable) .fits, by extension."""
        return write_table(self.to_table(), path, overwrite=overwrite)

    def curate(self, *, offline: bool = False, refresh_cache: bool = False) -> "Response":
        """Fill what the headers lack from the ReadMe, Simbad and filter profiles; returns self.

        Batched, cached in the database, offline-safe (docs/curation.md): it
        never overwrites a value from a header or a mapping, and records the
        source of every value it writes in the provenance. What could not be
        resolved, and why, is in ``self.curation_summary``.
        """
        from .curation import curate

        self.curation_summary = curate(self.catalogues, database_url=self.database_url,
                                       offline=offline, refresh_cache=refresh_cache)
        self._table = None  # the rows changed: read them again
        return self


def _columns() -> list[str]:
    return [c.name for c in schema.load().columns]


def query_table(database_url: str, catalogues: list[str] | None = None):
    """ObsCore rows (all, or of some catalogues) as an astropy Table."""
    names = _columns()
    select = ", ".join(f"o.{n}::text" if n == "s_region" else f"o.{n}" for n in names)
    sql = f"SELECT {select} FROM ivoa.obscore o"
    params: list[Any] = []
    if catalogues:
        sql += " WHERE o.source_catalogue = ANY(%s)"
        params.append(catalogues)
    sql += " ORDER BY o.obs_publisher_did"
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT set_sphere_output('DEG')")
        rows = conn.execute(sql, params).fetchall()
    region = names.index("s_region")
    rows = [tuple(spoly_to_stcs(v) if i == region else v for i, v in enumerate(r)) for r in rows]
    return schema.table_from_rows(rows, names)


def write_table(table, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown format {path.suffix!r}; use one of {', '.join(FORMATS)}")
    out = table.copy(copy_data=True)
    for name in out.colnames:  # timestamps as ISO strings everywhere
        if out[name].dtype == object:
            out[name] = [None if v is None else str(v) for v in out[name]]
    out.write(path, format=fmt, overwrite=overwrite)
    return path


def load_table(path: str | os.PathLike[str]):
    """Read a table written by ``Response.write``; units and descriptions restored."""
    from astropy.table import Table

    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown format {path.suffix!r}; use one of {', '.join(FORMATS)}")
    table = Table.read(path, format=fmt)
    meta = schema.astropy_meta()
    for name in table.colnames:
        info = meta.get(name)
        if not info:
            continue
        if info.get("unit") is not None:
            table[name].unit = info["unit"]
        if info.get("description"):
            table[name].description = info["description"]
    return table


def _catalogue_of(path: Path) -> tuple[Path, list[str] | None]:
    """A catalogue directory (root = its parent) or a collection root (all its catalogues)."""
    from .catalogues import discover, has_readme

    nested = [c for c in discover(path) if c.directory != path.resolve()]
    if nested and not has_readme(path):
        return path, None
    return path.parent, [path.name]


def extract(path: str | os.PathLike[str], mapping: str | os.PathLike[str] | None = None, *,
            database_url: str | None = None, full: bool = False) -> Response:
    """Stage and derive a catalogue directory (or a collection): its ObsCore rows.

    Uses the embedded database by default (started if needed), or
    ``database_url`` / ``ASSOCDATA_DATABASE_URL``.
    """
    from .derive.refresh import refresh
    from .ingest import ingest

    path = Path(path).expanduser().resolve()
    url = database_url or config.database_url()
    if database_url is None and not config.external_url():
        from . import cluster

        if cluster.status() is None:
            cluster.start()
    root, names = _catalogue_of(path)
    summary = ingest(root, names, database_url=url)
    if mapping is not None:
        from .mapping.store import apply_file

        with psycopg.connect(url) as conn:
            applied = apply_file(conn, mapping, summary.catalogues)
        return Response(summary.catalogues, url, summary, applied.refresh)
    refreshed = refresh(summary.catalogues, database_url=url, full=full)
    return Response(summary.catalogues, url, summary, refreshed)


def apply_mapping(target: Any, mapping: str | os.PathLike[str], *,
                  database_url: str | None = None, dry_run: bool = False) -> Any:
    """Apply a mapping file (docs/mapping.md) to ``target``:

    - a catalogue id (or a list of them): the mapping is stored with the
      catalogues and their rows are brought up to date (one transaction);
      returns the :class:`~assocdata.mapping.store.ApplySummary`;
    - ``None`` or ``'ivoa.obscore'``: the same for every catalogue, now and later;
    - an astropy Table (as ``load_table`` reads it): its rows go through the
      database, the same compiled SQL runs on them, and a new Table comes back
      (header defaults need staged headers and are not applied to a Table).

    Raises :class:`assocdata.mapping.MappingError` listing every error of the file.
    """
    from .mapping.store import apply_file, apply_to_table

    url = database_url or config.database_url()
    path = Path(mapping)
    with psycopg.connect(url) as conn:
        if target is None or (isinstance(target, str) and target == "ivoa.obscore"):
            return apply_file(conn, path, None, dry_run=dry_run)
        if isinstance(target, str):
            return apply_file(conn, path, [target], dry_run=dry_run)
        if isinstance(target, (list, tuple)) and all(isinstance(t, str) for t in target):
            return apply_file(conn, path, list(target), dry_run=dry_run)
        if hasattr(target, "colnames"):
            table, notes = apply_to_table(conn, target, path.read_text(encoding="utf-8"), path.name)
            for note in notes:
                import warnings

                warnings.warn(note, stacklevel=2)
            return table
    raise TypeError(f"apply_mapping: target must be a catalogue id, a list of them, None "
                    f"(all of ivoa.obscore) or an astropy Table, not {type(target).__name__}")
