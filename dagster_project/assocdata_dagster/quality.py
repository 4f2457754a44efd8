"""What the asset checks measure, in SQL generated from the one description of the table.

No ObsCore rule is written here: the NOT NULL columns, vocabularies and ranges
come from ``obscore.yaml`` (:mod:`assocdata.obscore.schema`), like the table's
own constraints; the cross-column conditions are those ObsCore 1.1 states
(em_min <= em_max, t_min <= t_max, s_region containing (s_ra, s_dec)). The
checks re-measure them on the rows as stored, per catalogue, so that a bad
mapping, curation value or rule change is caught before the rows are published
(the table's CHECK constraints cover some of them already: the checks then say
so with a zero, and still name the catalogue when a constraint is removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import psycopg

from assocdata.obscore import schema

#: Columns whose NULL rate is reported in the UI and checked against the threshold:
#: what a search from the web page or TAP cannot do without.
KEY_COLUMNS = ("dataproduct_type", "s_ra", "s_dec", "s_region", "t_min", "t_max",
               "em_min", "em_max", "target_name", "facility_name", "access_url")


def _number(value: float) -> str:
    return repr(float(value))


def _range_violation(col: schema.Column) -> str | None:
    r = col.range
    if r is None:
        return None
    parts = []
    if r.lo is not None:
        parts.append(f"{col.name} {'<' if r.lo_closed else '<='} {_number(r.lo)}")
    if r.hi is not None:
        parts.append(f"{col.name} {'>' if r.hi_closed else '>='} {_number(r.hi)}")
    if col.pg_type in ("double precision", "real"):
        parts.append(f"{col.name} = 'NaN'")
    return " OR ".join(parts) or None


@lru_cache(maxsize=1)
def rules() -> tuple[tuple[str, str], ...]:
    """(name, SQL condition that is TRUE on a bad row), from the table's description."""
    desc = schema.load()
    out: list[tuple[str, str]] = []
    for col in desc.columns:
        if not col.nullable:
            out.append((f"{col.name} is null (required)", f"{col.name} IS NULL"))
    for name in ("dataproduct_type", "calib_level"):
        col = desc.column(name)
        if col.values:
            quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in col.values)
            out.append((f"{name} outside its vocabulary", f"{name} NOT IN ({quoted})"))
        cond = _range_violation(col)
        if cond:
            out.append((f"{name} outside {col.range}", cond))
    for name in ("s_ra", "s_dec", "em_min", "em_max", "t_min", "t_max"):
        cond = _range_violation(desc.column(name))
        if cond:
            out.append((f"{name} outside {desc.column(name).range}", cond))
    out += [
        ("em_min > em_max", "em_min > em_max"),
        ("t_min > t_max", "t_min > t_max"),
        ("s_ra or s_dec alone", "(s_ra IS NULL) <> (s_dec IS NULL)"),
        ("s_region empty or not a region", "s_region IS NOT NULL AND NOT (area(s_region) > 0)"),
        ("s_region does not contain (s_ra, s_dec)",
         "s_region IS NOT NULL AND s_ra IS NOT NULL AND s_dec IS NOT NULL "
         "AND NOT (spoint(radians(s_ra), radians(s_dec)) @ s_region)"),
    ]
    return tuple(out)


@dataclass
class CatalogueQuality:
    """What the checks of one catalogue measured."""

    catalogue: str
    rows: int = 0
    violations: dict[str, int] = field(default_factory=dict)  # rule -> bad rows
    examples: list[tuple[str, str]] = field(default_factory=list)  # (obs_publisher_did, rule)
    null_rates: dict[str, float] = field(default_factory=dict)
    files: int = 0
    files_rejected: int = 0
    products: int = 0
    unusable: int = 0
    error_issues: int = 0

    @property
    def bad_rows(self) -> int:
        return sum(self.violations.values())

    @property
    def valid(self) -> bool:
        return not any(self.violations.values())


def measure(conn: psycopg.Connection, catalogues: Sequence[str]) -> dict[str, CatalogueQuality]:
    """Validity, NULL rates, rejects and issues of the catalogues' rows: a few set-based statements."""
    out = {c: CatalogueQuality(c) for c in catalogues}
    named = rules()
    counts = ", ".join(f"count(*) FILTER (WHERE {cond})" for _, cond in named)
    nulls = ", ".join(f"count(*) FILTER (WHERE {c} IS NULL)" for c in KEY_COLUMNS)
    for row in conn.execute(
        f"SELECT source_catalogue, count(*), {counts}, {nulls} FROM ivoa.obscore "
        "WHERE source_catalogue = ANY(%s) GROUP BY 1", [list(catalogues)]):
        q = out[row[0]]
        q.rows = row[1]
        values = row[2:2 + len(named)]
        q.violations = {name: n for (name, _), n in zip(named, values) if n}
        q.null_rates = {c: (n / q.rows if q.rows else 0.0)
                        for c, n in zip(KEY_COLUMNS, row[2 + len(named):])}
    bad = [c for c, q in out.items() if not q.valid]
    if bad:  # a few examples per catalogue, for the operator
        case = " ".join(f"WHEN {cond} THEN '{name.replace(chr(39), chr(39) * 2)}'" for name, cond in named)
        for cat, did, rule in conn.execute(
            f"SELECT source_catalogue, obs_publisher_did, rule FROM ("
            f" SELECT source_catalogue, obs_publisher_did, CASE {case} END AS rule,"
            f"        row_number() OVER (PARTITION BY source_catalogue ORDER BY obs_publisher_did) AS n"
            f"   FROM ivoa.obscore WHERE source_catalogue = ANY(%s)"
            f"    AND ({' OR '.join(f'({cond})' for _, cond in named)})) s WHERE n <= 5", [bad]):
            out[cat].examples.append((did, rule))
    for cat, files, rejected in conn.execute(
        "SELECT catalogue, count(*), count(*) FILTER (WHERE status = 'rejected') "
        "FROM staging.file WHERE catalogue = ANY(%s) AND status <> 'gone' GROUP BY 1",
        [list(catalogues)]):
        out[cat].files, out[cat].files_rejected = files, rejected
    for cat, products, unusable in conn.execute(
        "SELECT f.catalogue, count(*), count(*) FILTER (WHERE NOT p.published) "
        "FROM derive.product p JOIN staging.file f ON f.id = p.file_id "
        "WHERE f.catalogue = ANY(%s) GROUP BY 1", [list(catalogues)]):
        out[cat].products, out[cat].unusable = products, unusable
    for cat, n in conn.execute(
        "SELECT f.catalogue, count(*) FROM derive.issue i JOIN staging.file f ON f.id = i.file_id "
        "WHERE f.catalogue = ANY(%s) AND i.severity = 'error' GROUP BY 1", [list(catalogues)]):
        out[cat].error_issues = n
    return out
