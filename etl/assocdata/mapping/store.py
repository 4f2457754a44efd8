"""Apply mapping files: store them with their catalogues, and run their SQL.

Why stored: the ObsCore rows of a catalogue are a function of its staged
headers, the derivation rules and its mappings. Applying a mapping stores
it and assigns it to catalogues; the refresh (derive.refresh) then derives
again every file whose inputs changed (a catalogue's mappings are part of
the settings hash of its files) and, in the same transaction, merges the
header defaults before the rules run (:func:`before_derive`) and applies
the field rules after (:func:`after_derive`). Applying the same mapping
twice therefore changes nothing the second time, and editing a mapping
gives exactly what applying the new version to fresh rows would give.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from . import compile_mapping, defaults, read_source
from .compiler import CompiledMapping, Statement

_RESTRICT_DEFAULTS = "f.catalogue = ANY(%(catalogues__)s) AND f.id IN (SELECT file_id FROM todo)"
_RESTRICT_FIELDS = ("o.source_catalogue = ANY(%(catalogues__)s) AND o.obs_publisher_did IN "
                    "(SELECT obs_publisher_did FROM derive.product WHERE file_id IN (SELECT file_id FROM todo))")


@dataclass
class Change:
    """One cell a mapping changes (dry run)."""

    obs_publisher_did: str
    column: str
    old: Any
    new: Any


@dataclass
class ApplySummary:
    mapping: str
    catalogues: list[str]
    changed_mapping: bool = False
    refresh: Any = None
    changes: list[Change] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"mapping         {self.mapping} ({'new or changed' if self.changed_mapping else 'unchanged'})",
               f"catalogues      {len(self.catalogues)}"]
        if self.refresh is not None:
            out += self.refresh.lines()
        if self.dry_run:
            out.append(f"dry run         {len(self.changes)} cells would change (nothing was written)")
        return out


def source_hash(source: str, env: dict[str, str]) -> str:
    return hashlib.sha256((source + "\0" + json.dumps(env, sort_keys=True)).encode()).hexdigest()


def save(conn: psycopg.Connection, compiled: CompiledMapping, path: str | None = None) -> bool:
    """Store (or update) the mapping; True when it is new or changed."""
    mf = compiled.mapping
    digest = source_hash(mf.source, compiled.env)
    row = conn.execute("SELECT sha256 FROM mapping.mapping WHERE name = %s", [mf.name]).fetchone()
    if row and row[0] == digest:
        return False
    conn.execute(
        """INSERT INTO mapping.mapping (name, source, sha256, version, path, env)
           VALUES (%s, %s, %s, %s, %s, %s)
           ON CONFLICT (name) DO UPDATE SET source = EXCLUDED.source, sha256 = EXCLUDED.sha256,
                  version = EXCLUDED.version, path = EXCLUDED.path, env = EXCLUDED.env,
                  updated_at = now()""",
        [mf.name, mf.source, digest, mf.version, path, json.dumps(compiled.env)])
    conn.execute("DELETE FROM mapping.rule WHERE mapping_name = %s", [mf.name])
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO mapping.rule (mapping_name, line, column_name, provenance) "
                        "VALUES (%s, %s, %s, %s)",
                        [(mf.name, line, col, json.dumps(doc)) for line, col, doc in compiled.rules])
    return True


def assign(conn: psycopg.Connection, name: str, catalogues: Sequence[str]) -> int:
    """Assign a stored mapping to catalogues ('*' = all); returns how many were new."""
    new = 0
    for cat in catalogues:
        new += conn.execute(
            "INSERT INTO mapping.assignment (mapping_name, catalogue) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING", [name, cat]).rowcount
    return new


def unassign(conn: psycopg.Connection, name: str, catalogues: Sequence[str] | None = None) -> int:
    if catalogues is None:
        return conn.execute("DELETE FROM mapping.assignment WHERE mapping_name = %s", [name]).rowcount
    return conn.execute("DELETE FROM mapping.assignment WHERE mapping_name = %s AND catalogue = ANY(%s)",
                        [name, list(catalogues)]).rowcount


def remove(conn: psycopg.Connection, name: str, catalogues: Sequence[str] | None = None) -> Any:
    """Unassign a mapping (from some catalogues, or delete it) and re-derive what it touched.

    One transaction; returns the refresh summary (None if the mapping was unknown).
    """
    from ..derive.refresh import refresh_batch

    with conn.transaction():
        rows = conn.execute("SELECT catalogue FROM mapping.assignment WHERE mapping_name = %s",
                            [name]).fetchall()
        known = conn.execute("SELECT 1 FROM mapping.mapping WHERE name = %s", [name]).fetchone()
        if not known:
            return None
        assigned = [r[0] for r in rows]
        if catalogues is None:
            conn.execute("DELETE FROM mapping.mapping WHERE name = %s", [name])
            targets = assigned
        else:
            unassign(conn, name, catalogues)
            targets = [c for c in assigned if c in catalogues]
        if "*" in targets:
            targets = _all_catalogues(conn)
        return refresh_batch(conn, targets) if targets else None


# -- what the refresh calls ------------------------------------------------------------

_COMPILED: dict[str, CompiledMapping] = {}


def _mappings_of(conn: psycopg.Connection, catalogues: Sequence[str]
                 ) -> list[tuple[list[str], list[CompiledMapping]]]:
    """Catalogues grouped by their ordered list of mappings (compiled once per process)."""
    rows = conn.execute(
        """SELECT c.id, array_agg(m.name ORDER BY a.catalogue <> '*', a.position),
                  array_agg(m.sha256 ORDER BY a.catalogue <> '*', a.position)
             FROM staging.catalogue c
             JOIN mapping.assignment a ON a.catalogue = c.id OR a.catalogue = '*'
             JOIN mapping.mapping m ON m.name = a.mapping_name
            WHERE c.id = ANY(%s)
            GROUP BY c.id""", [list(catalogues)]).fetchall()
    groups: dict[tuple[str, ...], list[str]] = {}
    for cat, _names, shas in rows:
        groups.setdefault(tuple(shas), []).append(cat)
    out = []
    for shas, cats in groups.items():
        compiled = []
        for sha in shas:
            if sha not in _COMPILED:
                name, source, env = conn.execute(
                    "SELECT name, source, env FROM mapping.mapping WHERE sha256 = %s", [sha]).fetchone()
                _COMPILED[sha] = compile_mapping(source, name, conn=conn, env=env)[0]
            compiled.append(_COMPILED[sha])
        out.append((sorted(cats), compiled))
    return out


def _run(conn: psycopg.Connection, st: Statement, target: str, restrict: str,
         params: dict[str, Any], provenance: bool) -> int:
    """Run one compiled statement on ``target`` restricted by ``restrict``; rows written."""
    sql = st.sql.replace("{target}", target).replace("{restrict}", restrict)
    if not st.update:  # header defaults: one INSERT ... SELECT
        return conn.execute(sql, {**st.params, **params}).rowcount
    conn.execute(sql, {**st.params, **params})
    conn.execute("ANALYZE mapping_computed")
    n = conn.execute(st.update.replace("{target}", target)).rowcount
    if provenance:
        conn.execute(st.cells)
    conn.execute("DROP TABLE mapping_computed")
    return n


def before_derive(conn: psycopg.Connection, catalogues: Sequence[str]) -> int:
    """Header defaults of the files in ``todo`` (a temp table of file_id); then their wcslib check."""
    conn.execute("DELETE FROM mapping.hdu_default WHERE file_id IN (SELECT file_id FROM todo)")
    # the cells of rows about to be derived again (or removed: files gone or rejected)
    conn.execute(
        """DELETE FROM mapping.cell c USING derive.product p, staging.file f
            WHERE p.obs_publisher_did = c.obs_publisher_did AND f.id = p.file_id
              AND f.catalogue = ANY(%s)
              AND (p.file_id IN (SELECT file_id FROM todo) OR f.status NOT IN ('staged', 'partial'))""",
        [list(catalogues)])
    n = 0
    for cats, compiled in _mappings_of(conn, catalogues):
        for cm in compiled:
            for st in cm.default_statements:
                n += _run(conn, st, "", _RESTRICT_DEFAULTS, {"catalogues__": cats}, False)
    if n:
        defaults.check_pending(conn, "todo")
    return n


def after_derive(conn: psycopg.Connection, catalogues: Sequence[str]) -> int:
    """Field rules on the ObsCore rows of the files in ``todo``, mapping after mapping."""
    # rows derived afresh start without mapping cells (also those left by a file
    # re-staged under a new id: its old products went with the old file row)
    conn.execute("DELETE FROM mapping.cell WHERE obs_publisher_did IN (SELECT obs_publisher_did "
                 "FROM derive.product WHERE file_id IN (SELECT file_id FROM todo))")
    n = 0
    for cats, compiled in _mappings_of(conn, catalogues):
        for cm in compiled:
            for st in cm.field_statements:
                n += _run(conn, st, "ivoa.obscore", _RESTRICT_FIELDS, {"catalogues__": cats}, True)
    return n


# -- applying a mapping --------------------------------------------------------------------

def _all_catalogues(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM staging.catalogue ORDER BY id")]


def apply_file(conn: psycopg.Connection, path: str | Path | None, catalogues: Sequence[str] | None,
               *, source: str | None = None, name: str | None = None,
               dry_run: bool = False, env: dict[str, str] | None = None) -> ApplySummary:
    """Store a mapping, assign it, and bring the catalogues' rows up to date: one transaction.

    ``catalogues`` None means every catalogue, now and later ('*'). With
    ``dry_run`` nothing is kept: the summary lists the cells that would change.
    ``env`` gives the ``${NAME}`` values (default: the process environment);
    the submission area passes those stored with the published mapping.
    """
    from ..derive.refresh import refresh_batch

    started = time.perf_counter()
    if source is None:
        assert path is not None
        source = read_source(path)
    name = name or (Path(path).name if path else "<mapping>")
    summary = ApplySummary(name, [], dry_run=dry_run)
    try:
        with conn.transaction():
            compiled, _warnings = compile_mapping(source, name, conn=conn, env=env)
            if catalogues is None:
                targets, assigned = _all_catalogues(conn), ["*"]
            else:
                known = set(_all_catalogues(conn))
                unknown = [c for c in catalogues if c not in known]
                if unknown:
                    raise ValueError(f"unknown catalogue(s): {', '.join(unknown)} "
                                     "(ingest them first: assocdata ingest)")
                targets, assigned = list(catalogues), list(catalogues)
            summary.catalogues = targets
            before = _snapshot(conn, targets) if dry_run else None
            old_hashes = _catalogue_hashes(conn, targets)
            was_stored = conn.execute("SELECT sha256 FROM mapping.mapping WHERE name = %s",
                                      [name]).fetchone()
            summary.changed_mapping = save(conn, compiled, str(path) if path else None)
            assign(conn, name, assigned)
            if not compiled.default_statements and not (was_stored and summary.changed_mapping):
                _apply_appended(conn, compiled, targets, old_hashes)
            summary.refresh = refresh_batch(conn, targets) if targets else None
            if dry_run:
                summary.changes = _diff(conn, before)
                raise _Rollback
    except _Rollback:
        pass
    summary.seconds = time.perf_counter() - started
    return summary


class _Rollback(Exception):
    pass


def _catalogue_hashes(conn: psycopg.Connection, catalogues: list[str]) -> dict[str, str]:
    return dict(conn.execute("SELECT catalogue, hash FROM mapping.catalogue_hashes(%s::text[])",
                             [catalogues]).fetchall())


def _apply_appended(conn: psycopg.Connection, compiled: CompiledMapping, catalogues: list[str],
                    old_hashes: dict[str, str]) -> None:
    """A new mapping without header defaults, last in its catalogues' order: no re-derivation.

    The rows are derive + the earlier mappings, so running this mapping's
    field rules on them gives exactly what a re-derivation would; the files'
    settings hash is then moved to the new set of mappings (only for files
    that were up to date), so the refresh that follows skips them.
    Catalogues where the mapping is not last (a '*' mapping added under a
    catalogue's own ones) are left to the refresh.
    """
    from ..derive.refresh import _SETTINGS

    name = compiled.mapping.name
    last = [r[0] for r in conn.execute(
        """SELECT c FROM unnest(%s::text[]) c
            WHERE (SELECT m.name FROM mapping.assignment a JOIN mapping.mapping m ON m.name = a.mapping_name
                    WHERE a.catalogue = c OR a.catalogue = '*'
                    ORDER BY a.catalogue <> '*' DESC, a.position DESC LIMIT 1) = %s""",
        [catalogues, name])]
    if not last:
        return
    for st in compiled.field_statements:
        _run(conn, st, "ivoa.obscore", "o.source_catalogue = ANY(%(catalogues__)s)",
             {"catalogues__": last}, True)
    settings = conn.execute(_SETTINGS).fetchone()[0]
    conn.execute(
        """UPDATE derive.file_state s
              SET settings_hash = md5(%(settings)s || n.hash)
             FROM staging.file f, jsonb_each_text(%(old)s::jsonb) o,
                  mapping.catalogue_hashes(%(cats)s::text[]) n
            WHERE f.id = s.file_id AND f.catalogue = o.key AND n.catalogue = o.key
              AND s.settings_hash = md5(%(settings)s || o.value)""",
        {"settings": settings, "old": json.dumps(old_hashes), "cats": last})


def _snapshot(conn: psycopg.Connection, catalogues: list[str]) -> list[str]:
    from ..obscore import schema

    columns = [c.name for c in schema.load().columns if c.name not in ("s_region",)]
    conn.execute("DROP TABLE IF EXISTS mapping_before")
    conn.execute("CREATE TEMP TABLE mapping_before ON COMMIT DROP AS "
                 "SELECT * FROM ivoa.obscore WHERE source_catalogue = ANY(%s)", [catalogues])
    conn.execute("CREATE TEMP TABLE mapping_catalogues ON COMMIT DROP AS "
                 "SELECT unnest(%s::text[]) AS id", [catalogues])
    return columns


def _diff(conn: psycopg.Connection, columns: list[str] | None) -> list[Change]:
    out: list[Change] = []
    for col in columns or []:
        rows = conn.execute(
            f'''SELECT coalesce(a.obs_publisher_did, b.obs_publisher_did), b."{col}"::text, a."{col}"::text
                  FROM mapping_before b
                  FULL JOIN (SELECT * FROM ivoa.obscore
                              WHERE source_catalogue IN (SELECT id FROM mapping_catalogues)) a
                       ON a.obs_publisher_did = b.obs_publisher_did
                 WHERE a."{col}" IS DISTINCT FROM b."{col}"
                 ORDER BY 1''').fetchall()
        out.extend(Change(did, col, old, new) for did, old, new in rows)
    out.sort(key=lambda c: (c.obs_publisher_did, c.column))
    return out


def apply_to_table(conn: psycopg.Connection, table: Any, source: str, name: str) -> tuple[Any, list[str]]:
    """The field rules of a mapping applied to an astropy Table (rows as ``load_table`` reads them).

    One implementation: the Table is loaded into a temporary copy of
    ivoa.obscore's columns, the same compiled SQL runs on it, and the rows are
    read back. Header defaults need staged headers: they are reported, not applied.
    """
    from ..obscore import schema

    compiled, diagnostics = compile_mapping(source, name, conn=conn)
    notes = [str(d) for d in diagnostics]
    if compiled.default_statements:
        notes.append(f"{name}: header defaults are not applied to a Table (they need staged "
                     "headers: apply the mapping to the catalogue instead)")
    desc = schema.load()
    names = [c.name for c in desc.columns if c.name in table.colnames and c.name != "s_region"]
    with conn.transaction():
        conn.execute("CREATE TEMP TABLE mapping_table ON COMMIT DROP AS "
                     "SELECT * FROM ivoa.obscore WITH NO DATA")
        conn.execute("ALTER TABLE mapping_table DROP COLUMN s_region")
        conn.execute("ALTER TABLE mapping_table ADD COLUMN row_index bigint")
        cols = ", ".join(f'"{n}"' for n in names)
        with conn.cursor().copy(f"COPY mapping_table ({cols}, row_index) FROM STDIN") as copy:
            for i, row in enumerate(table):
                copy.write_row([_cell(row[n]) for n in names] + [i])
        for st in compiled.field_statements:
            _run(conn, st, "mapping_table", "true", {}, False)
        rows = conn.execute(f"SELECT {cols} FROM mapping_table ORDER BY row_index").fetchall()
    out = table.copy(copy_data=True)
    for j, n in enumerate(names):
        values = [r[j] for r in rows]
        col = out[n]
        try:
            out[n] = type(col)([v if v is not None else _missing(col) for v in values],
                               name=n, unit=col.unit, description=col.description)
            if hasattr(out[n], "mask"):
                out[n].mask = [v is None for v in values]
        except (TypeError, ValueError):
            out[n] = values
    return out, notes


def _cell(value: Any) -> Any:
    import numpy as np

    if value is np.ma.masked or (hasattr(value, "mask") and bool(np.all(value.mask))):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, float) and value != value:
        return None
    return value


def _missing(col: Any) -> Any:
    kind = getattr(col.dtype, "kind", "O")
    return {"f": float("nan"), "i": 0, "u": 0, "b": False}.get(kind, "")
