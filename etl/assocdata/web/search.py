"""Running a search: rows, counts, the files behind rows, headers and provenance.

Every statement here takes the form's values as bind parameters (see
``query.Search.build``). Submissions are staged in a database of their own
(``area``); should a ``SUBMIT/...`` row be met anyway, the public functions
never return it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from .query import ROW_CAP, SUBMISSION_PREFIX, Built, Position, QueryError, Search, parse_coordinates

#: Columns of the result table (and of the CSV/VOTable of the page's selection).
RESULT_COLUMNS = ("obs_publisher_did", "target_name", "source_catalogue", "s_ra", "s_dec",
                  "em_min", "em_max", "t_min", "t_max", "facility_name", "dataproduct_type",
                  "access_format", "access_estsize")


def resolve(conn: psycopg.Connection, text: str) -> Position:
    """Coordinates, or a name resolved through the curation cache (curation.simbad).

    The cache is what ``assocdata curate`` filled from Simbad; the page never
    calls Simbad itself (a public page must not turn visitors into Simbad
    load), so an unknown name says to give coordinates.
    """
    pos = parse_coordinates(text)
    if pos is not None:
        return pos
    row = conn.execute(
        "SELECT status, main_id, ra, dec, message FROM curation.simbad "
        "WHERE name_norm = curation.norm_name(%s)", [text]).fetchone()
    if row is None:
        raise QueryError(f"{text!r} is not in the name resolver's cache: give coordinates "
                         "(degrees or sexagesimal) instead")
    status, main_id, ra, dec, message = row
    if status != "resolved" or ra is None:
        raise QueryError(f"{text!r}: Simbad said {status}" + (f" ({message})" if message else ""))
    return Position(ra, dec, f"{main_id} ({ra:.5f} {dec:+.5f})")


@dataclass
class Result:
    search: Search
    built: Built | None
    total: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def beyond_cap(self) -> int:
        """Rows the cap hides: the "N more rows: narrow your query" message."""
        return max(0, self.total - ROW_CAP)

    @property
    def pages(self) -> int:
        shown = min(self.total, ROW_CAP)
        return max(1, -(-shown // self.search.size))


def build(conn: psycopg.Connection, search: Search) -> Built:
    return search.build(lambda text: resolve(conn, text))


def count(conn: psycopg.Connection, built: Built) -> int:
    return conn.execute(f"SELECT count(*) FROM ivoa.obscore o WHERE {built.where}",
                        built.args).fetchone()[0]


def run(conn: psycopg.Connection, search: Search) -> Result:
    """One page of rows and the total count (nothing runs when the form has errors)."""
    built = build(conn, search)
    result = Result(search, built)
    if search.errors:
        return result
    result.total = count(conn, built)
    offset = (search.page - 1) * search.size
    limit = max(0, min(search.size, ROW_CAP - offset))
    cols = ", ".join(f"o.{c}" for c in RESULT_COLUMNS)
    cur = conn.execute(
        f"SELECT {cols}, o.s_region::text AS s_region, o.preview FROM ivoa.obscore o "
        f"WHERE {built.where} ORDER BY {built.order} LIMIT %s OFFSET %s",
        [*built.args, limit, offset])
    names = [d.name for d in cur.description]
    result.rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return result


def selection_dids(conn: psycopg.Connection, built: Built) -> list[str]:
    """The publisher DIDs of the whole selection (at most ROW_CAP), in the page's order."""
    return [r[0] for r in conn.execute(
        f"SELECT o.obs_publisher_did FROM ivoa.obscore o WHERE {built.where} "
        f"ORDER BY {built.order} LIMIT %s", [*built.args, ROW_CAP])]


@dataclass(frozen=True)
class ProductFile:
    """The staged file behind an ObsCore row, on the server's disk."""

    did: str
    catalogue: str
    relpath: str
    path: Path
    hdu: int
    size: int

    @property
    def arcname(self) -> str:
        return f"{self.catalogue}/{self.relpath}"


def product_files(conn: psycopg.Connection, dids: list[str], *,
                  include_submissions: bool = False) -> list[ProductFile]:
    """The files of these rows (a file with several products appears once per row)."""
    rows = conn.execute(
        """SELECT p.obs_publisher_did, f.catalogue, f.relpath, c.root, p.hdu, f.size
             FROM unnest(%s::text[]) WITH ORDINALITY AS d(did, n)
             JOIN derive.product p ON p.obs_publisher_did = d.did
             JOIN staging.file f ON f.id = p.file_id
             JOIN staging.catalogue c ON c.id = f.catalogue
            WHERE f.status <> 'gone'
            ORDER BY d.n""", [dids]).fetchall()
    out = []
    for did, catalogue, relpath, root, hdu, size in rows:
        if catalogue.startswith(SUBMISSION_PREFIX) and not include_submissions:
            continue
        base = (Path(root) / catalogue).resolve()
        path = (base / relpath).resolve()
        if not path.is_relative_to(base):  # a staged relpath never escapes; checked anyway
            continue
        out.append(ProductFile(did, catalogue, relpath, path, hdu, size))
    return out


def header_text(conn: psycopg.Connection, did: str, *, include_submissions: bool = False) -> str | None:
    """The FITS header of the row's HDU, one card a line (as stored: 80-character cards)."""
    row = conn.execute(
        """SELECT f.catalogue, f.relpath, p.hdu, h.header
             FROM derive.product p JOIN staging.file f ON f.id = p.file_id
             JOIN staging.hdu h ON h.file_id = p.file_id AND h.hdu = p.hdu
            WHERE p.obs_publisher_did = %s""", [did]).fetchone()
    if row is None or (row[0].startswith(SUBMISSION_PREFIX) and not include_submissions):
        return None
    catalogue, relpath, hdu, header = row
    cards = [header[i:i + 80].rstrip() for i in range(0, len(header), 80)]
    return f"# {catalogue}/{relpath}, HDU {hdu}\n" + "\n".join(cards) + "\n"


def provenance(conn: psycopg.Connection, did: str, *, include_submissions: bool = False
               ) -> list[dict[str, Any]] | None:
    """Per-cell provenance of a row (derive.cell_provenance), or None for an unknown row."""
    row = conn.execute("SELECT source_catalogue FROM ivoa.obscore WHERE obs_publisher_did = %s",
                       [did]).fetchone()
    if row is None or (row[0].startswith(SUBMISSION_PREFIX) and not include_submissions):
        return None
    cur = conn.execute(
        "SELECT column_name, rule, sources, note, rules_version, derived_at "
        "FROM derive.cell_provenance WHERE obs_publisher_did = %s ORDER BY column_name", [did])
    names = [d.name for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
