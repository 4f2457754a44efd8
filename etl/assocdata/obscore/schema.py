"""The ObsCore table, from its one description (``obscore.yaml``) to every artefact.

Why one YAML file drives everything (the approach of Rubin's *felis*): the DDL,
the TAP_SCHEMA rows that Vollt publishes, the astropy metadata of API results and
the documentation must say the same thing about each column. Writing them by hand
lets them drift; generating them from one reviewed, versioned file cannot.

Artefacts:

- :func:`create_table_sql` / :func:`write_sql`: ``CREATE TABLE ivoa.obscore``, its
  CHECK constraints, comments and indexes (for ``sql/NNN_obscore_table.sql``);
- :func:`astropy_meta`, :func:`empty_table`, :func:`table_from_rows`: astropy;
- :func:`tap_schema_rows`: rows for TAP_SCHEMA.schemas / tables / columns;
- :func:`markdown_docs` / :func:`write_docs`: ``docs/obscore-columns.md``;
- :func:`circle_to_spoly`: the one implementation of the s_region convention
  for circular footprints (see the ``region`` section of the YAML).

Command line: ``python -m assocdata.obscore.schema ddl|docs|tap-schema [-o FILE]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assocdata import config

YAML_PATH = Path(__file__).with_name("obscore.yaml")
#: Where the generated documentation is committed.
DOCS_PATH = config.REPO_ROOT / "docs" / "obscore-columns.md"

#: ADQL/TAP datatype (Vollt's TAP_SCHEMA spelling) -> accepted PostgreSQL types.
#: VARCHAR/CHAR sizes are checked separately against ``size``.
PG_TYPES: dict[str, tuple[str, ...]] = {
    "VARCHAR": ("text", "varchar"),
    "CHAR": ("char",),
    "SMALLINT": ("smallint",),
    "INTEGER": ("integer",),
    "BIGINT": ("bigint",),
    "REAL": ("real",),
    "DOUBLE": ("double precision",),
    "TIMESTAMP": ("timestamp", "timestamptz"),
    "CLOB": ("text",),
    "REGION": ("spoly",),
    "POINT": ("spoint",),
}
#: numpy dtype used in astropy tables for each datatype. Strings stay ``str``:
#: TIMESTAMP as ISO 8601 (its VOTable serialisation), REGION as PgSphere text.
NUMPY_DTYPES: dict[str, str] = {
    "VARCHAR": "str", "CHAR": "str", "CLOB": "str", "TIMESTAMP": "str",
    "REGION": "str", "POINT": "str",
    "SMALLINT": "int16", "INTEGER": "int32", "BIGINT": "int64",
    "REAL": "float32", "DOUBLE": "float64",
}
#: The VOTable xtype Vollt writes for these datatypes (tap.metadata.VotType).
VOLLT_XTYPES: dict[str, str] = {
    "TIMESTAMP": "adql:TIMESTAMP", "CLOB": "adql:CLOB",
    "REGION": "adql:REGION", "POINT": "adql:POINT",
}
NUMERIC = frozenset({"SMALLINT", "INTEGER", "BIGINT", "REAL", "DOUBLE"})
FLOATING = frozenset({"REAL", "DOUBLE"})
STRINGS = frozenset({"VARCHAR", "CHAR", "CLOB"})

_TOP_KEYS = {"version", "schema", "schema_description", "table", "table_utype",
             "description", "region", "columns", "omitted_optional", "checks", "indexes"}
_TOP_REQUIRED = {"version", "schema", "table", "description", "region", "columns", "indexes"}
_COLUMN_KEYS = {"name", "datatype", "pg_type", "size", "unit", "ucd", "utype", "description",
                "mandatory", "std", "principal", "indexed", "nullable", "values", "range",
                "pattern", "notes"}
_COLUMN_REQUIRED = {"name", "datatype", "pg_type", "description", "mandatory", "std",
                    "principal", "indexed", "nullable"}
_INDEX_KEYS = {"name", "columns", "method", "expression", "unique", "primary_key"}
_CHECK_KEYS = {"name", "sql", "description"}
_REGION_KEYS = {"pg_type", "circle_vertices", "circle_polygon"}
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_RANGE = re.compile(r"^\s*([\[(])\s*([^,\s]+)\s*,\s*([^,\s]+)\s*([\])])\s*$")
_PG_SIZED = re.compile(r"^(varchar|char)\((\d+)\)$")


class SchemaError(ValueError):
    """obscore.yaml is not a valid description (the message names the culprit)."""


# --------------------------------------------------------------------- model


@dataclass(frozen=True)
class Range:
    """A numeric interval; an infinite bound is None. Parsed from ``"[lo, hi)"``."""

    lo: int | float | None
    hi: int | float | None
    lo_closed: bool
    hi_closed: bool

    def __str__(self) -> str:
        lo = "-inf" if self.lo is None else self.lo
        hi = "inf" if self.hi is None else self.hi
        return f"{'[' if self.lo_closed else '('}{lo}, {hi}{']' if self.hi_closed else ')'}"


@dataclass(frozen=True)
class Column:
    """One column of the table, as obscore.yaml describes it (see its header)."""

    name: str
    datatype: str
    pg_type: str
    description: str
    mandatory: bool
    std: bool
    principal: bool
    indexed: bool
    nullable: bool
    size: int | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    values: tuple[str, ...] | None = None
    range: Range | None = None
    pattern: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class Index:
    """An index; ``columns`` are the table columns it serves (TAP ``indexed``)."""

    name: str
    columns: tuple[str, ...]
    method: str = "btree"
    expression: str | None = None
    unique: bool = False
    primary_key: bool = False

    @property
    def key(self) -> str:
        """What goes between the parentheses of CREATE INDEX."""
        return self.expression or ", ".join(self.columns)


@dataclass(frozen=True)
class Check:
    """A named cross-column CHECK constraint."""

    name: str
    sql: str
    description: str | None = None


@dataclass(frozen=True)
class RegionPolicy:
    """How s_region is stored (see the ``region`` section of the YAML)."""

    pg_type: str
    circle_vertices: int
    circle_polygon: str

    @property
    def radius_overshoot(self) -> float:
        """Relative excess of the circumscribed polygon's vertex distance (small circles)."""
        return 1 / math.cos(math.pi / self.circle_vertices) - 1

    @property
    def area_overshoot(self) -> float:
        """Relative area excess of the circumscribed polygon (small circles)."""
        n = self.circle_vertices
        return n * math.tan(math.pi / n) / math.pi - 1


@dataclass(frozen=True)
class TableDescription:
    """The whole table: what :func:`load` returns and every generator reads."""

    version: str
    schema: str
    schema_description: str | None
    table: str
    table_utype: str | None
    description: str
    region: RegionPolicy
    columns: tuple[Column, ...]
    indexes: tuple[Index, ...]
    checks: tuple[Check, ...]
    omitted_optional: tuple[str, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


# ------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise SchemaError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _check_keys(where: str, data: Any, allowed: set[str], required: set[str]) -> None:
    if not isinstance(data, dict):
        raise SchemaError(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = set(data) - allowed
    if unknown:
        raise SchemaError(f"{where}: unknown key(s) {sorted(unknown)}")
    missing = required - set(data)
    if missing:
        raise SchemaError(f"{where}: missing key(s) {sorted(missing)}")


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SchemaError(f"{where}: expected true/false, got {value!r}")
    return value


def _opt_str(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SchemaError(f"{where}: expected a non-empty string, got {value!r}")
    return value.strip()


def _number(where: str, text: str, integer: bool) -> int | float | None:
    if text in ("inf", "+inf", "-inf"):
        return None
    try:
        return int(text) if integer else float(text)
    except ValueError:
        raise SchemaError(f"{where}: bad bound {text!r}") from None


def parse_range(where: str, text: str, integer: bool) -> Range:
    """Parse interval notation; ``inf`` bounds must be open."""
    m = _RANGE.match(str(text))
    if not m:
        raise SchemaError(f"{where}: range {text!r} is not like '[0, 360)'")
    lo_b, lo_t, hi_t, hi_b = m.groups()
    lo, hi = _number(where, lo_t, integer), _number(where, hi_t, integer)
    if (lo is None and lo_t != "-inf") or (hi is None and hi_t not in ("inf", "+inf")):
        raise SchemaError(f"{where}: range {text!r} has an infinite bound on the wrong side")
    if (lo is None and lo_b == "[") or (hi is None and hi_b == "]"):
        raise SchemaError(f"{where}: infinite bounds are open: {text!r}")
    if lo is not None and hi is not None and lo >= hi:
        raise SchemaError(f"{where}: empty range {text!r}")
    return Range(lo, hi, lo_b == "[", hi_b == "]")


def _column(i: int, data: Any) -> Column:
    where = f"columns[{i}]"
    _check_keys(where, data, _COLUMN_KEYS, _COLUMN_REQUIRED)
    name = data["name"]
    if not isinstance(name, str) or not _IDENT.match(name):
        raise SchemaError(f"{where}: name {name!r} is not a lower-case SQL identifier")
    where = f"column {name}"
    datatype = data["datatype"]
    if not isinstance(datatype, str) or datatype not in PG_TYPES:
        raise SchemaError(f"{where}: datatype {datatype!r} not in {sorted(PG_TYPES)}")
    pg_type = str(data["pg_type"]).strip().lower()
    size = data.get("size")
    sized = _PG_SIZED.match(pg_type)
    base = sized.group(1) if sized else pg_type
    if base not in PG_TYPES[datatype]:
        raise SchemaError(f"{where}: pg_type {pg_type!r} does not store {datatype} "
                          f"(expected one of {PG_TYPES[datatype]})")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
        raise SchemaError(f"{where}: size must be a positive integer")
    if size is not None and datatype not in ("VARCHAR", "CHAR"):
        raise SchemaError(f"{where}: size only applies to VARCHAR/CHAR")
    if (sized is not None or datatype == "CHAR") and (sized is None or int(sized.group(2)) != size):
        raise SchemaError(f"{where}: pg_type {pg_type!r} and size {size!r} disagree")
    if size is not None and sized is None:
        raise SchemaError(f"{where}: size {size} but pg_type {pg_type!r} does not enforce it")

    values = data.get("values")
    if values is not None:
        if datatype not in STRINGS or not isinstance(values, list) or not values \
                or not all(isinstance(v, str) and v for v in values) or len(set(values)) != len(values):
            raise SchemaError(f"{where}: values must be distinct strings of a string column")
        values = tuple(values)
    rng = data.get("range")
    if rng is not None:
        if datatype not in NUMERIC:
            raise SchemaError(f"{where}: range on a non-numeric column")
        rng = parse_range(where, rng, integer=datatype not in FLOATING)
    pattern = _opt_str(f"{where}.pattern", data.get("pattern"))
    if pattern is not None:
        if datatype not in STRINGS:
            raise SchemaError(f"{where}: pattern on a non-string column")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SchemaError(f"{where}: bad pattern: {exc}") from None

    col = Column(
        name=name, datatype=datatype, pg_type=pg_type, size=size,
        description=_opt_str(f"{where}.description", data["description"]) or "",
        unit=_opt_str(f"{where}.unit", data.get("unit")),
        ucd=_opt_str(f"{where}.ucd", data.get("ucd")),
        utype=_opt_str(f"{where}.utype", data.get("utype")),
        mandatory=_bool(f"{where}.mandatory", data["mandatory"]),
        std=_bool(f"{where}.std", data["std"]),
        principal=_bool(f"{where}.principal", data["principal"]),
        indexed=_bool(f"{where}.indexed", data["indexed"]),
        nullable=_bool(f"{where}.nullable", data["nullable"]),
        values=values, range=rng, pattern=pattern,
        notes=_opt_str(f"{where}.notes", data.get("notes")),
    )
    if col.mandatory and not col.std:
        raise SchemaError(f"{where}: a mandatory ObsCore column is standard (std: true)")
    if col.std and not (col.utype or "").startswith("obscore:"):
        raise SchemaError(f"{where}: a standard column needs its obscore: utype")
    if not col.std and col.utype:
        raise SchemaError(f"{where}: a provider column has no ObsCore utype")
    if col.datatype == "REGION" and col.unit:
        raise SchemaError(f"{where}: a REGION has no unit")
    return col


def _index(i: int, data: Any, names: set[str]) -> Index:
    where = f"indexes[{i}]"
    _check_keys(where, data, _INDEX_KEYS, {"name", "columns"})
    name = data["name"]
    if not isinstance(name, str) or not _IDENT.match(name):
        raise SchemaError(f"{where}: bad index name {name!r}")
    cols = data["columns"]
    if not isinstance(cols, list) or not cols or any(c not in names for c in cols):
        raise SchemaError(f"index {name}: columns {cols!r} must name columns of the table")
    method = data.get("method", "btree")
    if method not in ("btree", "gist"):
        raise SchemaError(f"index {name}: method {method!r} not in btree, gist")
    idx = Index(name=name, columns=tuple(cols), method=method,
                expression=_opt_str(f"index {name}.expression", data.get("expression")),
                unique=_bool(f"index {name}.unique", data.get("unique", False)),
                primary_key=_bool(f"index {name}.primary_key", data.get("primary_key", False)))
    if idx.primary_key and (idx.method != "btree" or idx.expression or idx.unique):
        raise SchemaError(f"index {name}: a primary key is a plain btree on columns")
    if idx.expression:
        for col in idx.columns:
            if not re.search(rf"\b{col}\b", idx.expression):
                raise SchemaError(f"index {name}: column {col} not in its expression")
    return idx


def _region(data: Any) -> RegionPolicy:
    _check_keys("region", data, _REGION_KEYS, _REGION_KEYS)
    n = data["circle_vertices"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 8:
        raise SchemaError("region.circle_vertices must be an integer >= 8")
    if data["pg_type"] != "spoly" or data["circle_polygon"] != "circumscribed":
        raise SchemaError("region: only pg_type spoly with circumscribed circles is implemented")
    return RegionPolicy(data["pg_type"], n, data["circle_polygon"])


def parse(data: Any) -> TableDescription:
    """Validate the parsed YAML and build the description (raises SchemaError)."""
    _check_keys("obscore.yaml", data, _TOP_KEYS, _TOP_REQUIRED)
    for key in ("schema", "table"):
        if not isinstance(data[key], str) or not _IDENT.match(data[key]):
            raise SchemaError(f"{key}: {data[key]!r} is not a lower-case SQL identifier")
    if not isinstance(data["version"], str) or not data["version"].strip():
        raise SchemaError("version: a quoted, non-empty string")
    if not isinstance(data["columns"], list) or not data["columns"]:
        raise SchemaError("columns: a non-empty list")
    columns = tuple(_column(i, c) for i, c in enumerate(data["columns"]))
    names = [c.name for c in columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SchemaError(f"duplicate column name(s) {dupes}")

    indexes = tuple(_index(i, d, set(names)) for i, d in enumerate(data["indexes"] or []))
    checks = []
    for i, d in enumerate(data.get("checks") or []):
        _check_keys(f"checks[{i}]", d, _CHECK_KEYS, {"name", "sql"})
        if not _IDENT.match(str(d["name"])):
            raise SchemaError(f"checks[{i}]: bad name {d['name']!r}")
        checks.append(Check(d["name"], _opt_str(f"check {d['name']}", d["sql"]) or "",
                            _opt_str(f"check {d['name']}", d.get("description"))))
    object_names = [i.name for i in indexes] + [c.name for c in checks] \
        + [n for c in columns for n in _column_check_names(c)]
    dupes = sorted({n for n in object_names if object_names.count(n) > 1})
    if dupes:
        raise SchemaError(f"duplicate index/constraint name(s) {dupes}")
    if sum(i.primary_key for i in indexes) > 1:
        raise SchemaError("more than one primary key")

    covered = {c for i in indexes for c in i.columns}
    flagged = {c.name for c in columns if c.indexed}
    if covered != flagged:
        raise SchemaError(f"`indexed` flags {sorted(flagged)} disagree with the indexes, "
                          f"which cover {sorted(covered)}")
    for idx in indexes:
        if idx.primary_key and any(columns[names.index(c)].nullable for c in idx.columns):
            raise SchemaError(f"primary key {idx.name}: its columns must be nullable: false")

    omitted = tuple(data.get("omitted_optional") or ())
    if not all(isinstance(n, str) for n in omitted) or len(set(omitted)) != len(omitted):
        raise SchemaError("omitted_optional: distinct column names")
    both = sorted(set(omitted) & set(names))
    if both:
        raise SchemaError(f"omitted_optional lists described column(s) {both}")

    return TableDescription(
        version=data["version"].strip(), schema=data["schema"],
        schema_description=_opt_str("schema_description", data.get("schema_description")),
        table=data["table"], table_utype=_opt_str("table_utype", data.get("table_utype")),
        description=_opt_str("description", data["description"]) or "",
        region=_region(data["region"]), columns=columns, indexes=indexes,
        checks=tuple(checks), omitted_optional=omitted,
    )


def load_file(path: Path | str) -> TableDescription:
    """Read and validate a description file (uncached: for tests and tools)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path}: {exc}") from None
    return parse(data)


@functools.cache
def load() -> TableDescription:
    """The table description of obscore.yaml, validated once per process."""
    return load_file(YAML_PATH)


# ----------------------------------------------------------------------- DDL


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_number(value: int | float) -> str:
    return repr(value) if isinstance(value, int) else repr(float(value))


def _column_check_names(col: Column) -> list[str]:
    names = []
    if col.values:
        names.append(f"obscore_{col.name}_values")
    if col.range or col.datatype in FLOATING:
        names.append(f"obscore_{col.name}_range")
    if col.pattern:
        names.append(f"obscore_{col.name}_pattern")
    return names


def column_checks(col: Column) -> list[tuple[str, str]]:
    """(constraint name, condition) pairs for one column's vocabulary, range and pattern.

    A float column always gets a range check: without a finite upper bound
    ``x < 'Infinity'`` PostgreSQL would accept NaN (it sorts NaN above every
    number), and NaN is never an ObsCore value (NULL is).
    """
    checks: list[tuple[str, str]] = []
    if col.values:
        items = ", ".join(_sql_literal(v) for v in col.values)
        checks.append((f"obscore_{col.name}_values", f"{col.name} IN ({items})"))
    rng = col.range
    if rng is None and col.datatype in FLOATING:
        rng = Range(None, None, False, False)
    if rng is not None:
        floating = col.datatype in FLOATING
        parts = []
        if rng.lo is not None:
            parts.append(f"{col.name} {'>=' if rng.lo_closed else '>'} {_sql_number(rng.lo)}")
        elif floating:
            parts.append(f"{col.name} > '-Infinity'")
        if rng.hi is not None:
            parts.append(f"{col.name} {'<=' if rng.hi_closed else '<'} {_sql_number(rng.hi)}")
        elif floating:
            parts.append(f"{col.name} < 'Infinity'")
        if parts:
            checks.append((f"obscore_{col.name}_range", " AND ".join(parts)))
    if col.pattern:
        checks.append((f"obscore_{col.name}_pattern", f"{col.name} ~ {_sql_literal(col.pattern)}"))
    return checks


def column_comment(col: Column) -> str:
    """The SQL comment of a column: description, then unit and UCD (psql \\d+ shows it)."""
    extra = [f"unit: {col.unit}" if col.unit else None, f"UCD: {col.ucd}" if col.ucd else None]
    extra_text = "; ".join(e for e in extra if e)
    return f"{col.description} [{extra_text}]" if extra_text else col.description


def create_table_sql(desc: TableDescription | None = None) -> str:
    """The DDL of the table: schema, table, constraints, comments, indexes.

    Meant to be saved once as an immutable ``sql/NNN_obscore_table.sql`` applied by
    an Alembic migration (the whole text in one ``execute``); pg_sphere must exist.
    """
    desc = desc or load()
    t = desc.qualified_name
    width = max(len(c.name) for c in desc.columns)
    lines = [f"    {c.name.ljust(width)} {c.pg_type}{'' if c.nullable else ' NOT NULL'}"
             for c in desc.columns]
    for idx in desc.indexes:
        if idx.primary_key:
            lines.append(f"    CONSTRAINT {idx.name} PRIMARY KEY ({idx.key})")
    for col in desc.columns:
        for name, cond in column_checks(col):
            lines.append(f"    CONSTRAINT {name} CHECK ({cond})")
    for chk in desc.checks:
        lines.append(f"    CONSTRAINT {chk.name} CHECK ({chk.sql})")

    out = [
        f"-- {t}: the IVOA ObsCore 1.1 table of assocdata, schema version {desc.version}.",
        "-- GENERATED by `python -m assocdata.obscore.schema ddl` from",
        "-- etl/assocdata/obscore/obscore.yaml: do not edit; change the YAML and regenerate.",
        "-- Needs the pg_sphere extension (types spoly/spoint, GiST operator classes).",
        f"CREATE SCHEMA IF NOT EXISTS {desc.schema};",
    ]
    if desc.schema_description:
        out.append(f"COMMENT ON SCHEMA {desc.schema} IS {_sql_literal(desc.schema_description)};")
    out += ["", f"CREATE TABLE {t} (", ",\n".join(lines), ");", ""]
    table_comment = f"{desc.description} Schema version {desc.version}."
    out.append(f"COMMENT ON TABLE {t} IS {_sql_literal(table_comment)};")
    for col in desc.columns:
        out.append(f"COMMENT ON COLUMN {t}.{col.name} IS {_sql_literal(column_comment(col))};")
    out.append("")
    for idx in desc.indexes:
        if idx.primary_key:
            continue
        unique = "UNIQUE " if idx.unique else ""
        out.append(f"CREATE {unique}INDEX {idx.name} ON {t} USING {idx.method} ({idx.key});")
    return "\n".join(out) + "\n"


def write_sql(path: Path | str) -> Path:
    """Write :func:`create_table_sql` to ``path`` (e.g. sql/NNN_obscore_table.sql)."""
    path = Path(path)
    path.write_text(create_table_sql(), encoding="utf-8")
    return path


# ------------------------------------------------------------------- astropy


def astropy_meta(desc: TableDescription | None = None) -> dict[str, dict[str, Any]]:
    """Per column: unit (VOUnit string or None), description, ucd, utype, dtype, xtype.

    For an API that builds an astropy Table from query rows and must label it
    exactly as TAP does.
    """
    desc = desc or load()
    return {
        c.name: {
            "unit": c.unit, "description": c.description, "ucd": c.ucd, "utype": c.utype,
            "dtype": NUMPY_DTYPES[c.datatype], "xtype": VOLLT_XTYPES.get(c.datatype),
        }
        for c in desc.columns
    }


def _table_meta(desc: TableDescription) -> dict[str, Any]:
    return {"name": desc.qualified_name, "description": desc.description,
            "schema_version": desc.version, "utype": desc.table_utype}


def _masked_column(name: str, meta: Mapping[str, Any], data: Sequence[Any], mask: Sequence[bool]):
    import astropy.units as u
    from astropy.table import MaskedColumn

    col_meta = {k: meta[k] for k in ("ucd", "utype", "xtype") if meta.get(k)}
    return MaskedColumn(
        data=list(data), mask=list(mask), name=name, dtype=meta["dtype"],
        unit=u.Unit(meta["unit"], format="vounit") if meta["unit"] else None,
        description=meta["description"], meta=col_meta)


def empty_table(desc: TableDescription | None = None):
    """An astropy Table with every column (masked: NULL is a value), zero rows."""
    from astropy.table import Table

    desc = desc or load()
    meta = astropy_meta(desc)
    cols = [_masked_column(n, meta[n], [], []) for n in desc.names]
    return Table(cols, meta=_table_meta(desc))


_FILL = {"str": "", "int16": 0, "int32": 0, "int64": 0, "float32": 0.0, "float64": 0.0}


def _cell(value: Any) -> Any:
    if hasattr(value, "isoformat"):  # datetime from psycopg: ISO 8601 like VOTable
        return value.isoformat()
    return value


def table_from_rows(rows: Iterable[Sequence[Any]], names: Sequence[str] | None = None,
                    desc: TableDescription | None = None):
    """Build a labelled astropy Table from DB rows (tuples, in ``names`` order).

    ``Table(rows=...)`` alone would turn a NULL in an integer column into an
    object column; here NULL becomes a masked value and every column keeps its
    dtype, unit, description and UCD.
    """
    from astropy.table import Table

    desc = desc or load()
    names = list(names or desc.names)
    meta = astropy_meta(desc)
    unknown = [n for n in names if n not in meta]
    if unknown:
        raise KeyError(f"not ObsCore columns: {unknown}")
    rows = [tuple(r) for r in rows]
    cols = []
    for j, name in enumerate(names):
        values = [_cell(r[j]) for r in rows]
        mask = [v is None for v in values]
        fill = _FILL[meta[name]["dtype"]]
        cols.append(_masked_column(name, meta[name], [fill if m else v for v, m in zip(values, mask)], mask))
    return Table(cols, meta=_table_meta(desc))


# ---------------------------------------------------------------- TAP_SCHEMA


def tap_schema_rows(desc: TableDescription | None = None) -> dict[str, list[dict[str, Any]]]:
    """Rows for TAP_SCHEMA.schemas, .tables and .columns, as Vollt reads them.

    Vollt resolves ``datatype`` with ``DBDatatype.valueOf(upper(datatype))``, so
    datatypes are bare names (VARCHAR, DOUBLE, REGION...; a CHAR(n) is ``CHAR``
    with size n) and reads ``arraysize`` with ``getInt``: an integer or NULL,
    never '*'. ``xtype`` is informative (Vollt derives it): the value it writes.
    """
    desc = desc or load()
    t = desc.qualified_name
    schemas = [{"schema_name": desc.schema, "description": desc.schema_description,
                "utype": None, "schema_index": None}]
    tables = [{"schema_name": desc.schema, "table_name": t, "table_type": "table",
               "description": f"{desc.description} Schema version {desc.version}.",
               "utype": desc.table_utype, "table_index": None}]
    columns = [
        {
            "table_name": t, "column_name": c.name, "datatype": c.datatype,
            "arraysize": c.size, "xtype": VOLLT_XTYPES.get(c.datatype), "size": c.size,
            "description": c.description, "utype": c.utype, "unit": c.unit, "ucd": c.ucd,
            "indexed": int(c.indexed), "principal": int(c.principal), "std": int(c.std),
            "column_index": i,
        }
        for i, c in enumerate(desc.columns, start=1)
    ]
    return {"schemas": schemas, "tables": tables, "columns": columns}


# ---------------------------------------------------------------------- docs


def _md(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _type_text(col: Column) -> str:
    adql = f"{col.datatype}({col.size})" if col.size else col.datatype
    return f"{adql} / `{col.pg_type}`"


def markdown_docs(desc: TableDescription | None = None) -> str:
    """docs/obscore-columns.md: every column, the constraints, the indexes, the version."""
    desc = desc or load()
    pol = desc.region
    lines = [
        f"# `{desc.qualified_name}`: ObsCore columns",
        "",
        "<!-- GENERATED by `python -m assocdata.obscore.schema docs -o docs/obscore-columns.md`",
        "     from etl/assocdata/obscore/obscore.yaml: do not edit by hand. -->",
        "",
        f"Schema version **{desc.version}**, IVOA ObsCore 1.1 "
        f"(table utype `{desc.table_utype}`).",
        "",
        desc.description,
        "",
        f"{len(desc.columns)} columns: "
        f"{sum(c.mandatory for c in desc.columns)} mandatory ObsCore, "
        f"{sum(c.std and not c.mandatory for c in desc.columns)} optional ObsCore, "
        f"{sum(not c.std for c in desc.columns)} of our own (std = 0). "
        "*Mandatory*: required by ObsCore 1.1 (Table 4); *not null*: the database refuses NULL. "
        "ADQL types are those of TAP_SCHEMA (Vollt); units are VOUnits; "
        "utypes carry the `obscore:` prefix.",
        "",
        "| # | Column | Type (ADQL / PostgreSQL) | Unit | UCD | Utype | Mandatory | Not null "
        "| Indexed | Description |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(desc.columns, start=1):
        desc_text = c.description + (f" — {c.notes}" if c.notes else "")
        lines.append(
            f"| {i} | `{c.name}` | {_type_text(c)} | {_md(c.unit)} | {_md(c.ucd)} "
            f"| {_md(c.utype)} | {'yes' if c.mandatory else ''} | {'' if c.nullable else 'yes'} "
            f"| {'yes' if c.indexed else ''} | {_md(desc_text)} |")
    lines += ["", "## s_region", "",
              f"Stored as a PgSphere `{pol.pg_type}` in every row (PgSphere has no common type "
              "of circles and polygons; Vollt maps ADQL REGION to `spoly`). A circular footprint "
              f"is stored as its {pol.circle_polygon} regular polygon of {pol.circle_vertices} "
              "vertices: it contains the circle, overshooting the radius by at most "
              f"{100 * pol.radius_overshoot:.2f} % and the area by {100 * pol.area_overshoot:.2f} % "
              f"(small circles; the radius is first enlarged by {CIRCLE_MARGIN:g} rad, 2 mas, "
              "because PgSphere would not count a tangent polygon as containing the circle). "
              f"Circular footprints of radius ≥ {MAX_CIRCLE_RADIUS:g}° (all-sky products) get "
              "s_region NULL. Implementation: `schema.circle_to_spoly()`.",
              "", "## Constraints", ""]
    for col in desc.columns:
        for name, cond in column_checks(col):
            lines.append(f"- `{name}`: `{cond}`")
    for chk in desc.checks:
        lines.append(f"- `{chk.name}`: `{chk.sql}`" + (f" ({chk.description})" if chk.description else ""))
    lines += ["", "## Indexes", "", "| Name | Method | Key | Unique |", "|---|---|---|---|"]
    for idx in desc.indexes:
        kind = "primary key" if idx.primary_key else ("yes" if idx.unique else "")
        lines.append(f"| `{idx.name}` | {idx.method} | `{_md(idx.key)}` | {kind} |")
    lines += ["", "## Optional ObsCore 1.1 columns not in the table", "",
              ", ".join(f"`{n}`" for n in desc.omitted_optional) + ".", ""]
    return "\n".join(lines)


def write_docs(path: Path | str = DOCS_PATH) -> Path:
    """Regenerate the committed documentation."""
    path = Path(path)
    path.write_text(markdown_docs(), encoding="utf-8")
    return path


# ---------------------------------------------------------------- s_region


#: Added to a circle's radius (rad, ~2 mas) before circumscribing it: PgSphere
#: compares with a 1e-9 rad tolerance, and an exactly tangent polygon would not
#: count as containing the circle (measured: 2e-9 is the threshold).
CIRCLE_MARGIN = 1e-8
#: Largest radius (deg) turned into a polygon: PgSphere polygons must stay
#: inside a hemisphere; wider footprints get s_region NULL.
MAX_CIRCLE_RADIUS = 89.0


def circle_vertices(ra: float, dec: float, radius: float,
                    n: int | None = None) -> list[tuple[float, float]]:
    """Vertices (deg) of the regular polygon circumscribed about a sky circle.

    The s_region convention for circular footprints (YAML ``region``): edges are
    great-circle arcs tangent to the circle, so the polygon contains it; vertex
    distance R from the centre satisfies tan R = tan r / cos(pi/n). Vertices go
    counter-clockwise (east of north). Raises ValueError when r >= MAX_CIRCLE_RADIUS:
    such a footprint is not a safe PgSphere polygon (s_region is then NULL).
    """
    n = n or load().region.circle_vertices
    if not 0 < radius < MAX_CIRCLE_RADIUS:
        raise ValueError(f"radius {radius} deg: a circumscribed polygon needs 0 < r < 90")
    if not -90 <= dec <= 90:
        raise ValueError(f"dec {dec} out of range")
    lat1, lon1 = math.radians(dec), math.radians(ra)
    r = math.radians(radius) + CIRCLE_MARGIN
    big_r = math.atan(math.tan(r) / math.cos(math.pi / n))
    out = []
    for k in range(n):
        theta = 2 * math.pi * k / n  # position angle, from north through east
        lat2 = math.asin(math.sin(lat1) * math.cos(big_r)
                         + math.cos(lat1) * math.sin(big_r) * math.cos(theta))
        lon2 = lon1 + math.atan2(math.sin(theta) * math.sin(big_r) * math.cos(lat1),
                                 math.cos(big_r) - math.sin(lat1) * math.sin(lat2))
        out.append((math.degrees(lon2) % 360.0, math.degrees(lat2)))
    return out


def spoly_literal(vertices: Iterable[tuple[float, float]]) -> str:
    """PgSphere input text of a polygon given in degrees: ``{(10.5d,41.2d),...}``."""
    return "{" + ",".join(f"({ra!r}d,{dec!r}d)" for ra, dec in vertices) + "}"


def circle_to_spoly(ra: float, dec: float, radius: float, n: int | None = None) -> str:
    """s_region value (PgSphere text) for a circular footprint, per the YAML policy."""
    return spoly_literal(circle_vertices(ra, dec, radius, n))


# ----------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assocdata.obscore.schema",
        description="Print an artefact generated from obscore.yaml.")
    parser.add_argument("artefact", choices=("ddl", "docs", "tap-schema"))
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    args = parser.parse_args(argv)
    try:
        if args.artefact == "ddl":
            text = create_table_sql()
        elif args.artefact == "docs":
            text = markdown_docs()
        else:
            text = json.dumps(tap_schema_rows(), indent=2) + "\n"
    except SchemaError as exc:
        print(f"obscore.yaml: {exc}", file=sys.stderr)
        return 1
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
