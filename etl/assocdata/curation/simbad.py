"""Target names -> positions and object types, through Simbad's TAP service, cached.

Why batched: one HTTP request per row would take hours for a large collection
and get the host banned. The names go to Simbad as an uploaded table joined
to ``ident`` (the query astroquery's ``Simbad.query_objects`` sends), up to
:data:`BATCH_SIZE` names a request, paced by a :class:`RateLimiter` and retried
with backoff. Every answer, failures included, goes to ``curation.simbad``
(one row per normalised name): a rerun asks only for names never asked (and
for transient errors); ``refresh=True`` asks again for everything.

The client is astroquery's own (``SimbadClass().tap``, a pyvo TAPService on
astroquery's requests session): the tests replace only the HTTP ``post`` of
that session with recorded Simbad responses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ..obscore.schema import circle_to_spoly
from .ratelimit import RateLimiter, Unreachable, with_retries

#: Radius (deg) of the s_region circle given to a position that comes from a
#: name (Simbad or a ReadMe): 1 arcsec. It marks where the target is, not what
#: the data cover; a search by position finds the product when its circle
#: touches the target's position.
POSITION_RADIUS_DEG = 1.0 / 3600.0
#: Names per Simbad request (Simbad accepts uploads of up to 200,000 rows;
#: smaller batches keep one failure cheap and the progress bar alive).
BATCH_SIZE = 500
#: Simbad asks for at most 5-10 queries a second.
RATE_PER_SECOND = 5.0

ADQL = ("SELECT u.user_specified_id, u.object_number_id, b.main_id, b.ra, b.dec, b.otype, "
        "i.id AS matched_id "
        "FROM TAP_UPLOAD.names AS u "
        "LEFT JOIN ident AS i ON i.id = u.user_specified_id "
        "LEFT JOIN basic AS b ON b.oid = i.oidref")

#: Bodies of the solar system: Simbad has no fixed position for them.
_SOLAR_SYSTEM = re.compile(r"^(SUN|THE SUN|SOLAR|MOON|MERCURY|VENUS|EARTH|MARS|JUPITER|SATURN|"
                           r"URANUS|NEPTUNE|PLUTO)(\b|$)", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^(UNKNOWN|NONE|N/?A|DARK|FLAT|BIAS|SKY|FIELD|CALIB\w*|"
                          r"[-_.?* ]+)$", re.IGNORECASE)


@dataclass
class Resolution:
    """What one name gave."""

    name: str
    name_norm: str
    status: str  # resolved / not-found / ambiguous / error
    main_id: str | None = None
    ra: float | None = None
    dec: float | None = None
    otype: str | None = None
    candidates: list[dict[str, Any]] | None = None
    message: str | None = None


@dataclass
class SimbadReport:
    """Counts for the summary, and the names left unresolved with the reason."""

    asked: int = 0
    requests: int = 0
    cached: int = 0
    resolved: int = 0
    not_found: int = 0
    ambiguous: int = 0
    errors: int = 0
    not_asked: int = 0  # offline, or Simbad unreachable
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    unresolved: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    offline_reason: str | None = None


def skip_reason(name: str) -> str | None:
    """Why a target name is not worth asking Simbad (None: ask)."""
    if _SOLAR_SYSTEM.match(name.strip()):
        return "solar-system body: no fixed position"
    if _PLACEHOLDER.match(name.strip()):
        return "placeholder, not an object name"
    return None


def _compact(name: str) -> str:
    return re.sub(r"\s+", "", name).upper()


def _value(row: Any, col: str) -> Any:
    import numpy as np

    try:
        v = row[col]
    except (KeyError, IndexError):
        return None
    if v is np.ma.masked or (hasattr(v, "mask") and bool(np.all(v.mask))):
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def interpret(table: Any, names: Sequence[tuple[str, str]]) -> list[Resolution]:
    """Simbad's answer (an astropy Table) for ``names`` ((name, name_norm) pairs).

    Rows are matched to the names by ``user_specified_id`` (the uploaded
    column, echoed back); an answer without it (a single-name query) is
    matched by ``matched_id``, Simbad's identifier, compared without blanks
    and case. A name with no row carrying a main_id is not found; with rows
    of several objects, ambiguous.
    """
    by_key: dict[str, list[dict[str, Any]]] = {}
    has_upload = "user_specified_id" in table.colnames
    compact = {_compact(n): n for n, _ in names}
    for row in table:
        if has_upload:
            key = _value(row, "user_specified_id")
        else:
            matched = _value(row, "matched_id")
            key = compact.get(_compact(matched)) if matched else None
        if key is None:
            continue
        main_id = _value(row, "main_id")
        if main_id is None:
            continue
        by_key.setdefault(key, []).append({
            "main_id": re.sub(r"\s+", " ", main_id), "ra": _value(row, "ra"),
            "dec": _value(row, "dec"), "otype": _value(row, "otype")})
    out = []
    for name, norm in names:
        rows = by_key.get(name, [])
        objects = {r["main_id"]: r for r in rows}
        if not objects:
            out.append(Resolution(name, norm, "not-found", message="Simbad knows no such identifier"))
        elif len(objects) > 1:
            out.append(Resolution(name, norm, "ambiguous", candidates=list(objects.values()),
                                  message=f"{len(objects)} Simbad objects carry this identifier"))
        else:
            r = next(iter(objects.values()))
            if r["ra"] is None or r["dec"] is None:
                out.append(Resolution(name, norm, "resolved", r["main_id"], None, None, r["otype"],
                                      message="Simbad gives no position for this object"))
            else:
                out.append(Resolution(name, norm, "resolved", r["main_id"], float(r["ra"]) % 360.0,
                                      float(r["dec"]), r["otype"]))
    return out


def simbad_service() -> Any:
    """astroquery's Simbad TAP service (a pyvo TAPService on astroquery's requests session)."""
    from astroquery.simbad import SimbadClass

    return SimbadClass().tap


def query_batch(service: Any, names: Sequence[str]) -> Any:
    """One request: the names as an uploaded table joined to ident; the result as a Table."""
    from astropy.table import Table

    upload = Table({"user_specified_id": list(names),
                    "object_number_id": list(range(1, len(names) + 1))})
    return service.run_sync(ADQL, uploads={"names": upload}, maxrec=10 * len(names) + 10).to_table()


_UPSERT = """
INSERT INTO curation.simbad AS s (name_norm, name, status, main_id, ra, dec, otype, region,
                                  radius_deg, candidates, message, query, resolved_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s::spoly, %s, %s, %s, %s, now())
ON CONFLICT (name_norm) DO UPDATE SET
    name = EXCLUDED.name, status = EXCLUDED.status, main_id = EXCLUDED.main_id,
    ra = EXCLUDED.ra, dec = EXCLUDED.dec, otype = EXCLUDED.otype, region = EXCLUDED.region,
    radius_deg = EXCLUDED.radius_deg, candidates = EXCLUDED.candidates,
    message = EXCLUDED.message, query = EXCLUDED.query, resolved_at = now()
"""


def store(conn: psycopg.Connection, results: Iterable[Resolution], query: str) -> None:
    rows = []
    for r in results:
        region = (circle_to_spoly(r.ra, r.dec, POSITION_RADIUS_DEG)
                  if r.ra is not None and r.dec is not None else None)
        rows.append((r.name_norm, r.name, r.status, r.main_id, r.ra, r.dec, r.otype, region,
                     POSITION_RADIUS_DEG if region else None,
                     json.dumps(r.candidates) if r.candidates else None, r.message, query))
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, rows)


def resolve(conn: psycopg.Connection, names: Iterable[str], *, offline: bool = False,
            refresh: bool = False, service: Any = None, limiter: RateLimiter | None = None,
            batch_size: int = BATCH_SIZE,
            progress: Callable[[int], None] | None = None) -> SimbadReport:
    """Resolve target names into ``curation.simbad``; returns what happened.

    Names already cached (resolved, not found or ambiguous) are not asked
    again unless ``refresh``; 'error' rows are retried. Offline (or when the
    first request finds no route to Simbad), nothing more is asked and the
    names left are reported with the reason.
    """
    report = SimbadReport()
    asked: list[str] = []
    for name in dict.fromkeys(n for n in names if n):
        reason = skip_reason(name)
        if reason:
            report.skipped.append((name, reason))
        else:
            asked.append(name)
    pairs: dict[str, str] = {}  # normalised -> the first spelling met
    for name, norm in conn.execute(
            "SELECT n, curation.norm_name(n) FROM unnest(%s::text[]) WITH ORDINALITY AS t(n, i) ORDER BY i",
            [asked]):
        if norm and norm not in pairs:
            pairs[norm] = name
    cached = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT name_norm, status, message FROM curation.simbad WHERE name_norm = ANY(%s)",
        [list(pairs)])}
    todo: list[tuple[str, str]] = []
    for norm, name in pairs.items():
        status, message = cached.get(norm, (None, None))
        if status is not None and status != "error" and not refresh:
            report.cached += 1
            _count(report, status, name, message)
        else:
            todo.append((name, norm))
    if progress:
        progress(report.cached)
    if not todo:
        return report
    if offline:
        report.offline_reason = "offline (--offline): Simbad not asked"
        report.unresolved += [(n, "no network: not asked (--offline)") for n, _ in todo]
        report.not_asked = len(todo)
        if progress:
            progress(len(todo))
        return report
    limiter = limiter or RateLimiter(RATE_PER_SECOND)
    try:
        service = service or simbad_service()
    except Exception as exc:  # astroquery missing or broken: same as offline
        report.offline_reason = f"Simbad client unavailable: {type(exc).__name__}: {exc}"
        report.unresolved += [(n, f"no network: {report.offline_reason}") for n, _ in todo]
        report.not_asked = len(todo)
        if progress:
            progress(len(todo))
        return report
    query = f"Simbad TAP {getattr(service, 'baseurl', '')}: {ADQL}"
    for start in range(0, len(todo), batch_size):
        batch = todo[start:start + batch_size]
        report.asked += len(batch)
        try:
            report.requests += 1
            table = with_retries(lambda: query_batch(service, [n for n, _ in batch]), limiter=limiter)
        except Unreachable as exc:
            report.offline_reason = f"Simbad unreachable (no network?): {exc}"
            rest = todo[start:]
            report.asked -= len(batch)
            report.unresolved += [(n, "no network: Simbad unreachable") for n, _ in rest]
            report.not_asked = len(rest)
            if progress:
                progress(len(rest))
            break
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"[:500]
            results = [Resolution(n, k, "error", message=message) for n, k in batch]
        else:
            results = interpret(table, batch)
        store(conn, results, query)
        for r in results:
            _count(report, r.status, r.name, r.message)
        if progress:
            progress(len(batch))
    return report


def _count(report: SimbadReport, status: str, name: str, message: str | None) -> None:
    if status == "resolved":
        report.resolved += 1
        return
    detail = f": {message}" if message else ""
    if status == "not-found":
        report.not_found += 1
        report.unresolved.append((name, "not found" + detail))
    elif status == "ambiguous":
        report.ambiguous += 1
        report.unresolved.append((name, "ambiguous" + detail))
    else:
        report.errors += 1
        report.unresolved.append((name, "error" + detail))
