"""Publication: what the Dagster ``published`` asset (and ``assocdata tap schema``) runs.

TAP_SCHEMA is regenerated from the description, the catalogue MOCs are
recomputed, and the result is checked against the catalog. Vollt reads
TAP_SCHEMA only when it starts: :class:`Publication` says whether the rows
changed, i.e. whether the TAP server must be restarted to publish them.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from . import check, schema


@dataclass(frozen=True)
class Publication:
    rows: dict[str, int]
    restart_needed: bool
    catalogues_with_coverage: int
    problems: list[check.Problem]

    def summary(self) -> str:
        lines = ["TAP_SCHEMA: " + ", ".join(f"{n} {t}" for t, n in self.rows.items())]
        lines.append("TAP_SCHEMA changed: restart the TAP server (Vollt reads it only at start)"
                     if self.restart_needed else "TAP_SCHEMA unchanged: no restart needed")
        if self.catalogues_with_coverage >= 0:
            lines.append(f"coverage MOCs: {self.catalogues_with_coverage} catalogues")
        lines += [f"problem: {p}" for p in self.problems]
        return "\n".join(lines)


def refresh_schema(conn: psycopg.Connection) -> tuple[dict[str, int], bool]:
    """Regenerate TAP_SCHEMA; returns the row counts and whether they changed."""
    before = schema.published_hash(conn)
    rows = schema.refresh(conn)
    return rows, schema.published_hash(conn) != before


def publish(conn: psycopg.Connection, coverage: bool = True) -> Publication:
    """TAP_SCHEMA, catalogue MOCs, then the check (problems are returned, not raised)."""
    rows, changed = refresh_schema(conn)
    n = -1
    if coverage:
        n = conn.execute("SELECT hpx.refresh_catalogue_moc(NULL)").fetchone()[0]
    return Publication(rows, changed, n, check.check(conn))
