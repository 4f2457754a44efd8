"""Refresh ``ivoa.obscore`` from the staged headers: set-based SQL, per catalogue.

The database does the work: one statement computes the rows of every file that
needs it (``derive.derive_file`` in PL/Python, over ``derive.file_input``),
and a handful of statements replace the old rows, all in one transaction per
batch of catalogues (``BATCH_CATALOGUES``; workers refresh batches
concurrently). Incremental: a file is recomputed only when its staged header hash,
the rules version or the site settings changed since it was last derived
(``derive.file_state``). No FITS file is opened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg

from .. import config as project_config
from ..curation.apply import apply_curation
from ..mapping import store as mapping_store


@dataclass
class RefreshSummary:
    catalogues: list[str] = field(default_factory=list)
    files: int = 0
    hdus: int = 0
    rows: int = 0
    unusable: int = 0
    removed: int = 0
    issues: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        rate = self.hdus / self.seconds if self.seconds else 0.0
        return [
            f"catalogues      {len(self.catalogues)}",
            f"files derived   {self.files} ({self.hdus} HDUs, {rate:,.0f} HDUs/s in {self.seconds:.1f} s)",
            f"rows published  {self.rows}",
            f"unusable        {self.unusable} (see derive.product WHERE NOT published)",
            f"rows removed    {self.removed} (files gone or rejected)",
            f"issues          {self.issues} (derive.issue)",
        ]


_SETTINGS = "SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)::text FROM derive.setting"

# A file is derived again when its header, the rules, the site settings or its
# catalogue's mappings (mapping.catalogue_hashes) changed: the last two make up
# the settings hash, computed once per catalogue.
_TODO = """
CREATE TEMP TABLE todo ON COMMIT DROP AS
WITH cat AS (
    SELECT catalogue AS id, md5(%(settings)s || hash) AS settings_hash
      FROM mapping.catalogue_hashes(%(catalogues)s::text[]))
SELECT f.id AS file_id, f.header_hash, cat.settings_hash
  FROM staging.file f
  JOIN cat ON cat.id = f.catalogue
  LEFT JOIN derive.file_state s ON s.file_id = f.id
 WHERE f.status IN ('staged', 'partial')
   AND (%(full)s OR s.file_id IS NULL
        OR s.header_hash IS DISTINCT FROM f.header_hash
        OR s.rules_version <> %(rules_version)s
        OR s.settings_hash <> cat.settings_hash)
"""

_DERIVE = """
CREATE TEMP TABLE derived ON COMMIT DROP AS
SELECT i.file_id, d.ordinality AS n, (j->>'hdu')::int AS hdu, j ? 'values' AS is_row,
       j->'values' AS vals, j->'provenance' AS provenance,
       coalesce(j->'issues', j->'file_issues') AS issues, j->>'unusable' AS unusable
  FROM derive.file_input i
  JOIN todo USING (file_id)
  JOIN staging.catalogue c ON c.id = i.catalogue,
  LATERAL derive.derive_file(i.catalogue, i.relpath, i.size, i.hdus, i.keywords, i.headers,
                             c.readme, %(settings)s)
          WITH ORDINALITY AS d(doc, ordinality),
  -- parsed once (OFFSET 0 keeps the planner from repeating the cast per column);
  -- the parts get their own columns: a big jsonb would be detoasted per access
  LATERAL (SELECT d.doc::jsonb AS j OFFSET 0) AS x
"""

# Files whose rows must go: recomputed ones, and those no longer staged.
_STALE = """
CREATE TEMP TABLE stale ON COMMIT DROP AS
SELECT file_id FROM todo
UNION
SELECT p.file_id FROM derive.product p JOIN staging.file f ON f.id = p.file_id
 WHERE f.catalogue = ANY(%(catalogues)s) AND f.status NOT IN ('staged', 'partial')
"""

# Rows whose staged file row was replaced (a changed file is re-staged under a
# new id, and its derive.product rows went with the old one, ON DELETE CASCADE):
# the trigger of sql/032 queued them in derive.withdrawn; taken off the queue
# here, and deleted unless a product row names them again.
# (Kept in "orphaned": the summary counts as removed only those not published again.)
_ORPHANS = """
CREATE TEMP TABLE orphaned ON COMMIT DROP AS
WITH queued AS (
    DELETE FROM derive.withdrawn w WHERE w.catalogue = ANY(%(catalogues)s)
    RETURNING w.obs_publisher_did),
gone AS (
    DELETE FROM ivoa.obscore o
     USING (SELECT DISTINCT obs_publisher_did FROM queued) q
     WHERE o.obs_publisher_did = q.obs_publisher_did
       AND NOT EXISTS (SELECT 1 FROM derive.product p WHERE p.obs_publisher_did = o.obs_publisher_did)
    RETURNING o.obs_publisher_did)
SELECT obs_publisher_did FROM gone
"""

_DELETE = [
    """DELETE FROM ivoa.obscore o USING derive.product p
        WHERE p.obs_publisher_did = o.obs_publisher_did AND p.file_id IN (SELECT file_id FROM stale)""",
    "DELETE FROM derive.product WHERE file_id IN (SELECT file_id FROM stale)",
    "DELETE FROM derive.issue WHERE file_id IN (SELECT file_id FROM stale)",
    "DELETE FROM derive.file_state WHERE file_id IN (SELECT file_id FROM stale)",
]

_INSERT_OBSCORE = """
INSERT INTO ivoa.obscore
SELECT r.*
  FROM (SELECT vals AS v FROM derived WHERE is_row AND unusable IS NULL) AS s,
       -- LATERAL, not (f(x)).*: the latter calls the function once per column
       LATERAL jsonb_populate_record(NULL::ivoa.obscore,
          s.v || CASE WHEN s.v ? 's_ra' AND s.v ? 's_dec' THEN jsonb_build_object('hpx',
                   healpix_nest(29, spoint(radians((s.v->>'s_ra')::float8),
                                           radians((s.v->>'s_dec')::float8))))
                 ELSE '{}'::jsonb END) AS r
"""

_INSERT_PRODUCT = """
INSERT INTO derive.product (obs_publisher_did, file_id, hdu, published, unusable_reason,
                            provenance, rules_version)
SELECT vals->>'obs_publisher_did', file_id, hdu, unusable IS NULL, unusable,
       provenance || CASE WHEN vals ? 's_ra' AND vals ? 's_dec'
           THEN '{"hpx": {"from": ["s_ra", "s_dec"], "rule": "hpx.healpix-nest-29",
                          "note": "healpix_nest(29, spoint(radians(s_ra), radians(s_dec))) in SQL"}}'::jsonb
           ELSE '{}'::jsonb END,
       %(rules_version)s
  FROM derived
 WHERE is_row AND vals ? 'obs_publisher_did'
"""

_INSERT_ISSUES = """
INSERT INTO derive.issue (file_id, hdu, obs_publisher_did, column_name, code, severity, message)
SELECT d.file_id, d.hdu, d.vals->>'obs_publisher_did', i."column", i.code, i.severity, i.message
  FROM derived d,
       jsonb_to_recordset(d.issues) AS i("column" text, code text, severity text, message text)
 WHERE d.issues IS NOT NULL AND d.issues <> '[]'::jsonb
UNION ALL
SELECT d.file_id, d.hdu, NULL, NULL, 'unusable', 'error', d.unusable
  FROM derived d WHERE d.unusable IS NOT NULL
"""

_FILE_STATE = """
INSERT INTO derive.file_state (file_id, header_hash, rules_version, settings_hash, n_products)
SELECT t.file_id, t.header_hash, %(rules_version)s, t.settings_hash, coalesce(c.n, 0)
  FROM todo t
  LEFT JOIN (SELECT file_id, count(*) AS n FROM derived WHERE is_row GROUP BY file_id) c
       USING (file_id)
"""


def rules_version() -> str:
    from .context import RULES_VERSION

    return RULES_VERSION


def refresh_catalogue(conn: psycopg.Connection, catalogue: str, *, full: bool = False,
                      summary: RefreshSummary | None = None) -> RefreshSummary:
    """Re-derive what changed in one catalogue, in one transaction (all or nothing)."""
    return refresh_batch(conn, [catalogue], full=full, summary=summary)


def refresh_batch(conn: psycopg.Connection, catalogues: list[str], *, full: bool = False,
                  summary: RefreshSummary | None = None) -> RefreshSummary:
    """Re-derive what changed in a batch of catalogues, in one transaction (all or nothing).

    Batching is what makes reprocessing a collection of thousands of catalogues
    cheap when few files changed: the fixed cost of a refresh is paid per batch.
    """
    summary = summary or RefreshSummary()
    params = {"catalogues": list(catalogues), "full": full, "rules_version": rules_version()}
    with conn.transaction():
        params["settings"] = conn.execute(_SETTINGS).fetchone()[0]
        conn.execute(_TODO, params)
        conn.execute("ANALYZE todo")  # temp tables have no statistics otherwise
        mapping_store.before_derive(conn, catalogues)  # header defaults of the mappings
        conn.execute(_DERIVE, params)
        conn.execute(_STALE, params)
        conn.execute("ANALYZE derived; ANALYZE stale")
        removed_before = conn.execute(
            "SELECT count(*) FROM derive.product WHERE file_id IN (SELECT file_id FROM stale) "
            "AND file_id NOT IN (SELECT file_id FROM todo) AND published").fetchone()[0]
        for statement in _DELETE:
            conn.execute(statement)
        conn.execute(_ORPHANS, params)
        rows = conn.execute(_INSERT_OBSCORE).rowcount
        # a re-staged file's rows come back under the same ids: replaced, not removed
        removed_before += conn.execute(
            "SELECT count(*) FROM orphaned x WHERE NOT EXISTS (SELECT 1 FROM ivoa.obscore o "
            "WHERE o.obs_publisher_did = x.obs_publisher_did)").fetchone()[0]
        conn.execute(_INSERT_PRODUCT, params)
        issues = conn.execute(_INSERT_ISSUES).rowcount
        conn.execute(_FILE_STATE, params)
        mapping_store.after_derive(conn, catalogues)  # field rules of the mappings
        apply_curation(conn, catalogues, "todo")  # the curation caches fill what is still empty
        files, hdus = conn.execute(
            "SELECT count(*), coalesce(sum((SELECT count(*) FROM staging.hdu h "
            "WHERE h.file_id = t.file_id)), 0) FROM todo t").fetchone()
        unusable = conn.execute(
            "SELECT count(*) FROM derived WHERE unusable IS NOT NULL").fetchone()[0]
    summary.catalogues.extend(catalogues)
    summary.files += files
    summary.hdus += int(hdus)
    summary.rows += rows
    summary.unusable += unusable
    summary.removed += removed_before
    summary.issues += issues
    return summary


#: Catalogues per refresh transaction.
BATCH_CATALOGUES = 100
#: Catalogues per transaction of a parallel refresh with little to derive.
INCREMENTAL_BATCH = 1000


def _batches(names: list[str], size: int) -> list[list[str]]:
    return [names[i:i + size] for i in range(0, len(names), size)]


#: Parallel refresh: the smallest batch, as a fraction of the staged files
#: divided by the number of workers (keeps the per-batch overhead bounded).
_MIN_BATCH_SHARE = 1.0 / 32


def _guided_batches(names: list[str], files: dict[str, int], workers: int,
                    size: int) -> list[list[str]]:
    """Batches that shrink as the work runs out, so that every worker stays busy to the end.

    Guided self-scheduling by staged files: a batch takes about 1/(2 x workers)
    of the files still left (at most ``size`` catalogues, at least
    _MIN_BATCH_SHARE of a worker's share), so the last batches are small and
    the workers finish together instead of one waiting for another's large
    batch.
    """
    remaining = sum(files.get(n, 0) for n in names)
    floor = max(1.0, remaining / workers * _MIN_BATCH_SHARE)
    out: list[list[str]] = []
    batch: list[str] = []
    weight = 0
    target = max(floor, remaining / (2 * workers))
    for name in names:
        batch.append(name)
        weight += files.get(name, 0)
        if weight >= target or len(batch) >= size:
            out.append(batch)
            remaining -= weight
            batch, weight = [], 0
            target = max(floor, remaining / (2 * workers))
    if batch:
        out.append(batch)
    return out


def _mostly_to_derive(conn: psycopg.Connection, names: list[str]) -> bool:
    """Whether a quarter or more of the staged files look due (new, changed header, other rules).

    Only decides how to batch (a settings or mapping change, not looked at
    here, is still derived in full, in fewer, larger batches).
    """
    due, total = conn.execute(
        "SELECT count(*) FILTER (WHERE s.file_id IS NULL OR s.header_hash IS DISTINCT FROM "
        "f.header_hash OR s.rules_version <> %s), count(*) FROM staging.file f "
        "LEFT JOIN derive.file_state s ON s.file_id = f.id "
        "WHERE f.catalogue = ANY(%s) AND f.status IN ('staged', 'partial')",
        (rules_version(), names)).fetchone()
    return due * 4 >= total


def refresh(catalogues: Iterable[str] | None = None, *, database_url: str | None = None,
            full: bool = False, workers: int = 1,
            batch_size: int = BATCH_CATALOGUES) -> RefreshSummary:
    """Refresh the named catalogues (default: every staged catalogue).

    ``workers`` > 1 refreshes catalogues concurrently on that many connections
    (each catalogue stays one transaction): the rules run in PL/Python inside
    each backend, so this is how a refresh uses several cores.
    """
    started = time.monotonic()
    url = database_url or project_config.database_url()
    with psycopg.connect(url, autocommit=True) as conn:
        names = list(catalogues) if catalogues else [
            r[0] for r in conn.execute("SELECT id FROM staging.catalogue ORDER BY id")]
        if workers > 1 and (full or _mostly_to_derive(conn, names)):
            files = dict(conn.execute(
                "SELECT catalogue, count(*) FROM staging.file WHERE catalogue = ANY(%s) "
                "GROUP BY catalogue", (names,)).fetchall())
            batches = _guided_batches(names, files, workers, max(1, batch_size))
        elif workers > 1:
            # little to derive: the per-batch overhead (temporary tables, statistics, the
            # todo list) dominates, so one batch per worker (at most INCREMENTAL_BATCH
            # catalogues): 2 batches instead of 6 took a tenth off a 1 % refresh of 579
            batches = _batches(names, max(1, min(INCREMENTAL_BATCH, -(-len(names) // workers))))
        else:
            batches = _batches(names, max(1, batch_size))
        if workers <= 1 or len(batches) <= 1:
            summary = RefreshSummary()
            for batch in batches:
                refresh_batch(conn, batch, full=full, summary=summary)
            summary.seconds = time.monotonic() - started
            return summary
    summary = _refresh_parallel(batches, url, full, workers)
    summary.seconds = time.monotonic() - started
    return summary


#: Idle worker connections per database URL, kept between refresh() calls of this
#: process: each backend's PL/Python has imported the rules (numpy, erfa,
#: astropy.wcs: ~0.7 s a backend), which a refresh of a few changed files would
#: otherwise pay again. At most ``workers`` per URL; a dead one is replaced.
_IDLE: dict[str, list[psycopg.Connection]] = {}
_IDLE_LOCK = threading.Lock()


def _worker_connection(url: str) -> psycopg.Connection:
    while True:
        with _IDLE_LOCK:
            conn = _IDLE.get(url, []).pop() if _IDLE.get(url) else None
        if conn is None:
            return psycopg.connect(url, autocommit=True)
        try:
            conn.execute("SELECT 1")  # the database may have been dropped meanwhile
            return conn
        except psycopg.Error:
            conn.close()


def _release(url: str, conn: psycopg.Connection, keep: int) -> None:
    if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.close()
        return
    with _IDLE_LOCK:
        idle = _IDLE.setdefault(url, [])
        if len(idle) < keep:
            idle.append(conn)
            return
    conn.close()


def close_idle_connections() -> None:
    """Close the worker connections kept between refresh() calls (e.g. before dropping a database)."""
    with _IDLE_LOCK:
        conns = [c for idle in _IDLE.values() for c in idle]
        _IDLE.clear()
    for conn in conns:
        conn.close()


def _refresh_parallel(batches: list[list[str]], url: str, full: bool,
                      workers: int) -> RefreshSummary:
    import queue
    import threading

    todo: queue.Queue[list[str]] = queue.Queue()
    for batch in batches:
        todo.put(batch)
    parts: list[RefreshSummary] = []
    errors: list[BaseException] = []

    def work() -> None:
        part = RefreshSummary()
        parts.append(part)
        conn = None
        try:
            conn = _worker_connection(url)
            while not errors:
                try:
                    batch = todo.get_nowait()
                except queue.Empty:
                    break
                refresh_batch(conn, batch, full=full, summary=part)
            _release(url, conn, workers)
        except BaseException as exc:  # re-raised in the caller
            errors.append(exc)
            if conn is not None:
                conn.close()

    threads = [threading.Thread(target=work) for _ in range(min(workers, len(batches)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    total = RefreshSummary()
    for part in parts:
        total.catalogues += part.catalogues
        for attr in ("files", "hdus", "rows", "unusable", "removed", "issues"):
            setattr(total, attr, getattr(total, attr) + getattr(part, attr))
    total.catalogues.sort()
    return total
