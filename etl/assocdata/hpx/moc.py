"""Per-catalogue coverage: refresh hpx.catalogue_moc, ask it, export it as a FITS MOC.

hpx.catalogue_moc (sql/071_hpx_coverage.sql) holds, per catalogue, the union of
the HEALPix coverage of its footprints as depth-29 ranges. From it, "which
catalogues have data here" is answered without reading ivoa.obscore, and each
catalogue's coverage is written as an IVOA MOC 2.0 FITS file with mocpy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg

#: The MOC order written to FITS (cells of 3.4 arcmin; footprints use up to 18).
DEFAULT_FITS_ORDER = 18


def refresh(conn: psycopg.Connection, catalogues: list[str] | None = None) -> int:
    """Recompute the MOCs of these catalogues (None: all); returns how many exist now."""
    return conn.execute("SELECT hpx.refresh_catalogue_moc(%s)", (catalogues,)).fetchone()[0]


def catalogues_at(conn: psycopg.Connection, ra: float, dec: float, radius: float) -> list[str]:
    """Catalogues whose coverage meets the cone (degrees): a superset at MOC resolution."""
    return [r[0] for r in conn.execute("SELECT * FROM hpx.catalogues_at(%s, %s, %s)",
                                       (ra, dec, radius))]


def depth29_ranges(conn: psycopg.Connection, catalogue: str) -> np.ndarray:
    """The catalogue's coverage as an (n, 2) uint64 array of half-open depth-29 ranges."""
    row = conn.execute(
        "SELECT array_agg(ARRAY[lower(r), upper(r)] ORDER BY lower(r)) "
        "FROM hpx.catalogue_moc c, unnest(c.moc) AS r WHERE c.source_catalogue = %s",
        (catalogue,)).fetchone()
    if row is None or row[0] is None:
        raise KeyError(f"no coverage for catalogue {catalogue!r}: run hpx.refresh_catalogue_moc")
    return np.asarray(row[0], dtype=np.uint64).reshape(-1, 2)


def to_mocpy(conn: psycopg.Connection, catalogue: str, max_order: int = DEFAULT_FITS_ORDER):
    """A mocpy.MOC of the catalogue's coverage (degraded to max_order, inclusively)."""
    try:
        from mocpy import MOC
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("FITS MOC export needs mocpy: pip install mocpy") from exc
    return MOC.from_depth29_ranges(max_order, depth29_ranges(conn, catalogue))


def write_fits(conn: psycopg.Connection, catalogue: str, path: Path | str,
               max_order: int = DEFAULT_FITS_ORDER) -> Path:
    """Write the catalogue's coverage as a FITS MOC (IVOA MOC 2.0) and return the path."""
    path = Path(path)
    to_mocpy(conn, catalogue, max_order).save(str(path), format="fits", overwrite=True)
    return path
