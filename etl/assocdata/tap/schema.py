"""TAP_SCHEMA, generated from the one description of ivoa.obscore (felis-style).

Why generated: Vollt reads every published fact (datatype, unit, UCD, utype,
description, principal, indexed, std) from TAP_SCHEMA at start; writing those
rows by hand would let them drift from the table, its DDL and its docs, which
are all generated from ``obscore/obscore.yaml``. ``assocdata tap schema`` rewrites
the rows in one transaction: ivoa.obscore from
:func:`assocdata.obscore.schema.tap_schema_rows`, TAP_SCHEMA's own tables from
:data:`TAP_SCHEMA_TABLES` (TAP 1.1, section 4), and the standard keys between them.

Vollt's spelling, not TAP 1.1's: datatypes are Vollt's DBDatatype names (VARCHAR,
INTEGER, DOUBLE...), arraysize an integer or NULL (see sql/060_tap_schema.sql).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import psycopg

from ..obscore import schema as obscore_schema

#: The schema Vollt reads, literally (quoted, upper case).
TAP_SCHEMA = "TAP_SCHEMA"
TABLE_ORDER = ("schemas", "tables", "columns", "keys", "key_columns")


@dataclass(frozen=True)
class MetaColumn:
    """A column of a TAP_SCHEMA table, as TAP 1.1 section 4 describes it."""

    name: str
    datatype: str
    description: str
    size: int | None = None
    principal: bool = True


def _v(name: str, description: str, principal: bool = True) -> MetaColumn:
    return MetaColumn(name, "VARCHAR", description, principal=principal)


def _i(name: str, description: str, principal: bool = False) -> MetaColumn:
    return MetaColumn(name, "INTEGER", description, principal=principal)


#: TAP_SCHEMA's own tables, published so that ADQL can query them (TAP 1.1 sec. 4).
TAP_SCHEMA_TABLES: dict[str, tuple[str, tuple[MetaColumn, ...]]] = {
    "schemas": ("Schemas published by this service", (
        _v("schema_name", "Fully qualified schema name"),
        _v("utype", "Lists the utype of the schema", False),
        _v("description", "Describes the schema"),
        _i("schema_index", "Recommended sort order when listing schemas"),
    )),
    "tables": ("Tables published by this service", (
        _v("schema_name", "Fully qualified schema name"),
        _v("table_name", "Fully qualified table name"),
        _v("table_type", "One of: table, view"),
        _v("utype", "Lists the utype of the table", False),
        _v("description", "Describes the table"),
        _i("table_index", "Recommended sort order when listing tables"),
    )),
    "columns": ("Columns of the published tables", (
        _v("table_name", "Fully qualified table name"),
        _v("column_name", "Column name"),
        _v("utype", "Lists the utype of the column", False),
        _v("ucd", "UCD of the column"),
        _v("unit", "Unit in VO standard format"),
        _v("description", "Describes the column"),
        _v("datatype", "ADQL datatype of the column"),
        _i("arraysize", "Length of variable length datatypes"),
        _v("xtype", "A DALI or custom extended type annotation", False),
        _i('size', "Same as arraysize (deprecated)"),
        _i("principal", "A principal column; 1 means true, 0 means false", True),
        _i("indexed", "An indexed column; 1 means true, 0 means false", True),
        _i("std", "A standard column; 1 means true, 0 means false", True),
        _i("column_index", "Recommended sort order when listing columns"),
    )),
    "keys": ("Foreign keys between published tables", (
        _v("key_id", "Unique key identifier"),
        _v("from_table", "Fully qualified table name"),
        _v("target_table", "Fully qualified table name"),
        _v("utype", "Lists the utype of the key", False),
        _v("description", "Describes the key"),
    )),
    "key_columns": ("Columns of the foreign keys", (
        _v("key_id", "Key identifier from TAP_SCHEMA.keys"),
        _v("from_column", "Key column name in the from_table"),
        _v("target_column", "Key column name in the target_table"),
    )),
}

#: The foreign keys between TAP_SCHEMA's tables (key_id -> from, target, columns).
TAP_SCHEMA_KEYS: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "tables_schema_name": ("schemas", "tables", (("schema_name", "schema_name"),)),
    "columns_table_name": ("tables", "columns", (("table_name", "table_name"),)),
    "keys_from_table": ("tables", "keys", (("table_name", "from_table"),)),
    "keys_target_table": ("tables", "keys", (("table_name", "target_table"),)),
    "key_columns_key_id": ("keys", "key_columns", (("key_id", "key_id"),)),
}


def _tap_schema_rows() -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLE_ORDER}
    rows["schemas"].append({"schema_name": TAP_SCHEMA, "utype": None, "schema_index": 1,
                            "description": "Metadata of the tables published by this TAP service"})
    for t_index, (table, (description, columns)) in enumerate(TAP_SCHEMA_TABLES.items(), start=1):
        qualified = f"{TAP_SCHEMA}.{table}"
        rows["tables"].append({"schema_name": TAP_SCHEMA, "table_name": qualified,
                               "table_type": "table", "utype": None, "description": description,
                               "table_index": t_index})
        for c_index, col in enumerate(columns, start=1):
            rows["columns"].append({
                "table_name": qualified, "column_name": col.name, "datatype": col.datatype,
                "arraysize": col.size, "xtype": None, "size": col.size,
                "description": col.description, "utype": None, "unit": None, "ucd": None,
                "indexed": int(col.name in ("schema_name", "table_name", "key_id")),
                "principal": int(col.principal), "std": 1, "column_index": c_index})
    # TAP_SCHEMA.keys: from the referencing table to the referenced one (TAP 1.1)
    for key_id, (target, source, pairs) in TAP_SCHEMA_KEYS.items():
        rows["keys"].append({"key_id": key_id, "from_table": f"{TAP_SCHEMA}.{source}",
                             "target_table": f"{TAP_SCHEMA}.{target}", "utype": None,
                             "description": f"{source} -> {target}"})
        for target_col, from_col in pairs:
            rows["key_columns"].append({"key_id": key_id, "from_column": from_col,
                                        "target_column": target_col})
    return rows


def generate(desc: obscore_schema.TableDescription | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every TAP_SCHEMA row: TAP_SCHEMA's own tables first, then ivoa.obscore."""
    rows = _tap_schema_rows()
    obscore = obscore_schema.tap_schema_rows(desc)
    for row in obscore["schemas"]:
        rows["schemas"].append({**row, "schema_index": 2})
    for row in obscore["tables"]:
        rows["tables"].append({**row, "table_index": 1})
    rows["columns"].extend(obscore["columns"])
    return rows


def content_hash(rows: dict[str, list[dict[str, Any]]]) -> str:
    """A stable digest of the rows: what was published, to compare with what Vollt loaded."""
    text = json.dumps({t: rows[t] for t in TABLE_ORDER}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def refresh(conn: psycopg.Connection, desc: obscore_schema.TableDescription | None = None) -> dict[str, int]:
    """Rewrite TAP_SCHEMA's rows in one transaction; returns the row count per table.

    Readers (Vollt reading at start) see the old rows or the new ones, never a mix.
    """
    desc = desc or obscore_schema.load()
    rows = generate(desc)
    digest = content_hash(rows)
    with conn.transaction():
        for table in reversed(TABLE_ORDER):
            conn.execute(f'DELETE FROM "{TAP_SCHEMA}".{table}')
        for table in TABLE_ORDER:
            if not rows[table]:
                continue
            names = list(rows[table][0])
            cols = ", ".join(f'"{n}"' for n in names)
            marks = ", ".join(["%s"] * len(names))
            with conn.cursor() as cur:
                cur.executemany(f'INSERT INTO "{TAP_SCHEMA}".{table} ({cols}) VALUES ({marks})',
                                [tuple(r[n] for n in names) for r in rows[table]])
        conn.execute(f'DELETE FROM "{TAP_SCHEMA}".assocdata_generation')
        conn.execute(f'INSERT INTO "{TAP_SCHEMA}".assocdata_generation (schema_version, content_hash) '
                     "VALUES (%s, %s)", (desc.version, digest))
    return {t: len(rows[t]) for t in TABLE_ORDER}


def published_hash(conn: psycopg.Connection) -> str | None:
    """The digest recorded by the last :func:`refresh` (None: never generated)."""
    row = conn.execute(f'SELECT content_hash FROM "{TAP_SCHEMA}".assocdata_generation').fetchone()
    return row[0] if row else None
