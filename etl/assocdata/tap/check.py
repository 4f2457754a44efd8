"""``assocdata tap check``: TAP_SCHEMA against the database catalog, loudly.

Vollt never compares TAP_SCHEMA with the real tables: a listed column missing
from its table makes every ``SELECT *`` fail at query time, a wrong datatype
publishes wrong VOTable types, a CHAR without size cuts values to one
character. This module finds those before Vollt starts, and the things that
would make queries silently wrong (positions without their hpx index value,
a TAP_SCHEMA older than the description), and returns them as sentences.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import psycopg

from ..obscore import schema as obscore_schema
from . import schema as tap_schema

#: Vollt datatype -> PostgreSQL types (format_type) that may hold it.
COMPATIBLE: dict[str, tuple[str, ...]] = {
    "SMALLINT": ("smallint",),
    "INTEGER": ("integer", "smallint"),
    "BIGINT": ("bigint", "integer", "smallint"),
    "REAL": ("real",),
    "DOUBLE": ("double precision", "real"),
    "VARCHAR": ("text", "character varying"),
    "CHAR": ("character", "character varying"),
    "CLOB": ("text",),
    "TIMESTAMP": ("timestamp without time zone", "timestamp with time zone"),
    "REGION": ("spoly",),  # Vollt's PgSphereTranslator reads REGION back from spoly
    "POINT": ("spoint",),
    "BINARY": ("bytea",),
    "VARBINARY": ("bytea",),
    "BLOB": ("bytea",),
}
TAP_ROLE = "assocdata_tap"


@dataclass(frozen=True)
class Problem:
    """One mismatch; ``where`` names the table or column."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _db_table(table_name: str, dbname: str | None) -> tuple[str, str]:
    name = dbname or table_name
    schema, _, table = name.partition(".")
    return schema, table


def check(conn: psycopg.Connection, role: str = TAP_ROLE) -> list[Problem]:
    """Every problem found; an empty list means Vollt can publish what TAP_SCHEMA says."""
    problems: list[Problem] = []
    try:
        tables = conn.execute(
            'SELECT table_name, dbname FROM "TAP_SCHEMA".tables ORDER BY table_name').fetchall()
    except psycopg.errors.UndefinedTable:
        if not conn.autocommit:
            conn.rollback()
        return [Problem("TAP_SCHEMA", "missing: run `assocdata db migrate`")]
    if not tables:
        problems.append(Problem("TAP_SCHEMA", "empty: run `assocdata tap schema`"))
    catalog: dict[tuple[str, str], dict[str, tuple[str, int | None]]] = {}
    for schema_name, table, column, ftype, maxlen in conn.execute(
            "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, NULL), "
            "       CASE WHEN a.atttypmod > 4 AND t.typname IN ('varchar', 'bpchar') "
            "            THEN a.atttypmod - 4 END "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p')"):
        catalog.setdefault((schema_name, table), {})[column] = (ftype, maxlen)
    for table_name, dbname in tables:
        key = _db_table(table_name, dbname)
        if key not in catalog:
            problems.append(Problem(table_name, f"no table {key[0]}.{key[1]} in the database"))
            continue
        if role and not conn.execute(
                "SELECT pg_catalog.has_table_privilege(%s, %s, 'SELECT')",
                (role, f'"{key[0]}"."{key[1]}"')).fetchone()[0]:
            problems.append(Problem(table_name, f"the TAP role {role} cannot SELECT it"))
    for (table_name, column_name, datatype, arraysize, unit, dbname) in conn.execute(
            'SELECT c.table_name, c.column_name, c.datatype, c.arraysize, c.unit, c.dbname '
            'FROM "TAP_SCHEMA".columns c ORDER BY c.table_name, c.column_index, c.column_name'):
        where = f"{table_name}.{column_name}"
        t_dbname = next((d for t, d in tables if t == table_name), None)
        key = _db_table(table_name, t_dbname)
        columns = catalog.get(key)
        if columns is None:
            continue  # reported with the table
        real = dbname or column_name
        if real not in columns:
            problems.append(Problem(where, f"listed in TAP_SCHEMA but {key[0]}.{key[1]} has no "
                                           f"column {real}: SELECT * would fail"))
            continue
        ftype, maxlen = columns[real]
        if datatype not in COMPATIBLE:
            problems.append(Problem(where, f"datatype {datatype!r} is not a Vollt datatype "
                                           f"({', '.join(COMPATIBLE)}): it would be published "
                                           "as a string"))
        elif ftype not in COMPATIBLE[datatype]:
            problems.append(Problem(where, f"declared {datatype} but the column is {ftype}"))
        if datatype == "CHAR" and arraysize is None:
            problems.append(Problem(where, "CHAR without arraysize: Vollt cuts values to one character"))
        if datatype in ("CHAR", "VARCHAR") and maxlen is not None and arraysize is not None \
                and arraysize < maxlen:
            problems.append(Problem(where, f"arraysize {arraysize} < the column's length {maxlen}"))
        if datatype == "REGION" and unit:
            problems.append(Problem(where, "a REGION has no unit"))
        if ftype == "spoly" and datatype != "REGION":
            problems.append(Problem(where, "a PgSphere polygon column must be declared REGION"))
    problems += _check_current(conn)
    problems += _check_hpx(conn)
    return problems


def _check_current(conn: psycopg.Connection) -> list[Problem]:
    """TAP_SCHEMA must be what the description generates now, untouched since."""
    rows = tap_schema.generate(obscore_schema.load())
    published = tap_schema.published_hash(conn)
    if published is None:
        return [Problem("TAP_SCHEMA", "never generated: run `assocdata tap schema`")]
    if published != tap_schema.content_hash(rows):
        return [Problem("TAP_SCHEMA", "older than obscore.yaml: run `assocdata tap schema` "
                                      "and restart the TAP server")]
    if _canonical(_read_rows(conn, rows)) != _canonical(rows):
        return [Problem("TAP_SCHEMA", "rows edited by hand since `assocdata tap schema`: "
                                      "run it again")]
    return []


def _canonical(rows: dict[str, list[dict]]) -> dict[str, list[str]]:
    """Order-free form of the rows, to compare the database with the generator."""
    return {t: sorted(json.dumps(r, sort_keys=True) for r in rows[t]) for t in rows}


def _read_rows(conn: psycopg.Connection, like: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """TAP_SCHEMA's rows, with the columns the generator writes."""
    out: dict[str, list[dict]] = {}
    for table in tap_schema.TABLE_ORDER:
        names = list(like[table][0]) if like[table] else []
        if not names:
            out[table] = []
            continue
        cols = ", ".join(f'"{n}"' for n in names)
        out[table] = [dict(zip(names, r)) for r in
                      conn.execute(f'SELECT {cols} FROM "TAP_SCHEMA".{table}')]
    return out


def _check_hpx(conn: psycopg.Connection) -> list[Problem]:
    """Rows with a position but no hpx value are invisible to the HEALPix index."""
    try:
        missing = conn.execute(
            "SELECT count(*) FROM ivoa.obscore WHERE s_ra IS NOT NULL AND s_dec IS NOT NULL "
            "AND (hpx IS NULL OR hpx <> healpix_nest(29, spoint(radians(s_ra), radians(s_dec))))"
        ).fetchone()[0]
    except psycopg.errors.UndefinedTable:
        return []
    if missing:
        return [Problem("ivoa.obscore.hpx", f"{missing} rows with s_ra/s_dec have no or a wrong hpx: "
                                            "hpx_cone would miss them (run `assocdata derive`)")]
    return []
