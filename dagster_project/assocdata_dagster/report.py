"""Materialisation metadata: what an operator reads in the UI, and where to look next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from dagster import MetadataValue

from .quality import KEY_COLUMNS, CatalogueQuality

PREVIEW_COLUMNS = ("obs_publisher_did", "dataproduct_type", "s_ra", "s_dec", "t_min", "em_min",
                   "em_max", "target_name", "facility_name")
PREVIEW_ROWS = 5


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("|", "\\|")[:60]


def preview(conn: psycopg.Connection, catalogues: Sequence[str]) -> MetadataValue:
    """A small Markdown table of the first rows (by obs_publisher_did)."""
    rows = conn.execute(
        f"SELECT {', '.join(PREVIEW_COLUMNS)} FROM ivoa.obscore WHERE source_catalogue = ANY(%s) "
        f"ORDER BY obs_publisher_did LIMIT {PREVIEW_ROWS}", [list(catalogues)]).fetchall()
    lines = ["| " + " | ".join(PREVIEW_COLUMNS) + " |", "|" + "---|" * len(PREVIEW_COLUMNS)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    if not rows:
        lines.append("| " + " | ".join(["(no row)"] + [""] * (len(PREVIEW_COLUMNS) - 1)) + " |")
    return MetadataValue.md("\n".join(lines))


def null_rates(qualities: Sequence[CatalogueQuality]) -> MetadataValue:
    """NULL rate of the key columns over the rows of the catalogues (Markdown table)."""
    rows = sum(q.rows for q in qualities)
    lines = ["| column | NULL rate |", "|---|---|"]
    for col in KEY_COLUMNS:
        nulls = sum(q.null_rates.get(col, 0.0) * q.rows for q in qualities)
        lines.append(f"| {col} | {nulls / rows:.1%} |" if rows else f"| {col} | (no row) |")
    return MetadataValue.md("\n".join(lines))


def where_to_look(catalogues: Sequence[str]) -> dict[str, MetadataValue]:
    """The commands and queries that show rejects and derivation issues."""
    one = catalogues[0] if len(catalogues) == 1 else None
    cat_opt = f" --catalogue '{one}'" if one else ""
    where = f"catalogue = '{one}'" if one else "catalogue = ANY(<the run's catalogues>)"
    return {
        "rejects": MetadataValue.md(
            f"`assocdata rejects{cat_opt}` or\n"
            f"`SELECT * FROM staging.reject WHERE {where} ORDER BY relpath, hdu`"),
        "derivation issues": MetadataValue.md(
            "`SELECT f.relpath, i.hdu, i.column_name, i.code, i.severity, i.message "
            "FROM derive.issue i JOIN staging.file f ON f.id = i.file_id "
            f"WHERE f.{where} ORDER BY i.severity DESC`"),
    }


def catalogue_list(names: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" … and {len(names) - limit} more" if len(names) > limit else "")
