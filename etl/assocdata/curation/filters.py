"""Bands from filter names: the filter table, the SVO service, and the matcher.

Why a matcher with a confidence, not a lookup: headers write filters every
way (``Ks``, ``2MASS Ks``, ``F606W`` with ``INSTRUME = 'ACS'``, ``g'``,
``R`` on an unknown telescope). A bare ``R`` could be Cousins R or a dozen
site-specific R filters; filling em_min/em_max from a guess would publish a
wrong band with the authority of the archive. So every candidate gets a score
(band name, facility and instrument named in the header), and only a clear
winner is used; the rest goes to ``curation.review`` for a person.

The filter table is seeded offline (``data/filters_seed.ecsv``, computed from
pyphot's real curves by scripts/build_filter_seed.py) and completed from the
SVO Filter Profile Service (astroquery.svo_fps) for facilities the seed does
not know, when online.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from .ratelimit import RateLimiter, Unreachable, with_retries

SEED_PATH = Path(__file__).with_name("data") / "filters_seed.ecsv"
FILTER_KEYS = ("FILTER", "FILTNAM", "FILTER1", "FILTER2", "FILTER3", "BAND")
CONTEXT_KEYS = ("TELESCOP", "INSTRUME", "DETECTOR", "DATASET", "OBSERVAT")
#: Filter-wheel positions that are no filter.
_NEUTRAL = re.compile(r"^(CLEAR|OPEN|NONE|EMPTY|BLANK|DARK|N/?A$|-+$|UNKNOWN|NO ?FILTER|AIR$|"
                      r"HOLE|BLOCK|SHUT)", re.IGNORECASE)
_SPLIT = re.compile(r"[\s_/.,;:()\[\]+-]+")

#: Scores: a band name written as the filter table writes it (case included),
#: the facility named anywhere in the header strings, the whole instrument too.
BAND_EXACT, BAND_NOCASE, BAND_NOCASE_1CHAR = 0.6, 0.45, 0.3
FACILITY_BONUS, INSTRUMENT_BONUS = 0.3, 0.1
#: A match fills em_min/em_max only at this confidence, this far ahead of the next.
CONFIDENT, MARGIN = 0.9, 0.1

#: Words by which headers name the seed's facilities and photometric systems.
FACILITY_WORDS: dict[str, tuple[str, ...]] = {
    "2MASS": ("2MASS", "TWOMASS"), "GALEX": ("GALEX",), "GAIA": ("GAIA",),
    "HST": ("HST", "HUBBLE"), "JWST": ("JWST", "WEBB"), "Spitzer": ("SPITZER", "SST"),
    "WISE": ("WISE", "NEOWISE", "ALLWISE"), "PAN-STARRS": ("PAN-STARRS", "PANSTARRS", "PS1"),
    "SLOAN": ("SDSS", "SLOAN"), "Palomar": ("ZTF", "P48", "PALOMAR"), "Herschel": ("HERSCHEL",),
    "Kepler": ("KEPLER",), "TESS": ("TESS",), "SkyMapper": ("SKYMAPPER",),
}
GENERIC_SYSTEMS = ("JOHNSON", "COUSINS", "BESSELL", "STROMGREN")


@dataclass(frozen=True)
class Filter:
    filter_id: str
    facility: str
    instrument: str | None
    band: str
    aliases: tuple[str, ...]
    lambda_min: float
    lambda_max: float
    source: str


@dataclass
class Match:
    """The matcher's verdict for one set of header strings."""

    status: str  # matched / ambiguous / low-confidence / unmatched / no-filter
    filter_id: str | None = None
    confidence: float | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None


# -- the filter table ---------------------------------------------------------------

def load_seed(conn: psycopg.Connection, path: Path = SEED_PATH) -> int:
    """Upsert the offline seed into curation.filter (rows from SVO are left alone); returns rows."""
    from astropy.table import Table

    table = Table.read(path, format="ascii.ecsv")
    rows = [(r["filter_id"], r["facility"], r["instrument"], r["band"], r["system"],
             float(r["lambda_min"]), float(r["lambda_max"]), float(r["lambda_mean"]), None,
             float(r["width"]), [a for a in str(r["aliases"]).split(";") if a], r["source"])
            for r in table]
    with conn.cursor() as cur:
        cur.executemany(_UPSERT_FILTER + " WHERE f.source LIKE 'seed:%%'", rows)
    return len(rows)


_UPSERT_FILTER = """
INSERT INTO curation.filter AS f (filter_id, facility, instrument, band, system, lambda_min,
                                  lambda_max, lambda_mean, lambda_eff, width, aliases, source)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (filter_id) DO UPDATE SET
    facility = EXCLUDED.facility, instrument = EXCLUDED.instrument, band = EXCLUDED.band,
    system = EXCLUDED.system, lambda_min = EXCLUDED.lambda_min, lambda_max = EXCLUDED.lambda_max,
    lambda_mean = EXCLUDED.lambda_mean, lambda_eff = EXCLUDED.lambda_eff, width = EXCLUDED.width,
    aliases = EXCLUDED.aliases, source = EXCLUDED.source, loaded_at = now()"""


def filters(conn: psycopg.Connection) -> list[Filter]:
    return [Filter(r[0], r[1], r[2], r[3], tuple(r[4] or ()), r[5], r[6], r[7]) for r in conn.execute(
        "SELECT filter_id, facility, instrument, band, aliases, lambda_min, lambda_max, source "
        "FROM curation.filter ORDER BY filter_id")]


# -- SVO ------------------------------------------------------------------------------------

def svo_client() -> Any:
    from astroquery.svo_fps import SvoFps

    return SvoFps


def _svo_rows(table: Any, today: str) -> list[tuple]:
    def num(row: Any, col: str) -> float | None:
        try:
            v = row[col]
        except KeyError:
            return None
        return None if getattr(v, "mask", False) is True else float(v)

    rows = []
    for r in table:
        fid = str(r["filterID"]).strip()
        lo, hi = num(r, "WavelengthMin"), num(r, "WavelengthMax")
        if not fid or not lo or not hi or lo <= 0 or hi < lo:
            continue
        suffix = fid.split(".", 1)[1] if "." in fid else fid
        band = str(r["Band"]).strip() if "Band" in r.colnames and str(r["Band"]).strip() not in ("", "--") else suffix
        aliases = list(dict.fromkeys([suffix, band]))
        inst = str(r["Instrument"]).strip() if "Instrument" in r.colnames else None
        rows.append((fid, str(r["Facility"]).strip(), inst or None, band,
                     str(r["PhotSystem"]).strip() if "PhotSystem" in r.colnames else None,
                     lo, hi, num(r, "WavelengthMean"), num(r, "WavelengthEff"), num(r, "WidthEff"),
                     aliases, f"svo-fps {today}"))
    return rows


def fetch_svo(conn: psycopg.Connection, facility: str, instrument: str | None = None, *,
              client: Any = None, limiter: RateLimiter | None = None, refresh: bool = False) -> str:
    """Filters of one facility (and instrument) from SVO into curation.filter, once.

    Returns the fetch status: 'ok', 'empty', 'error', 'cached', or raises
    :class:`Unreachable` when SVO cannot be reached at all (the caller stops asking).
    """
    key = (facility, instrument or "")
    if not refresh and conn.execute("SELECT 1 FROM curation.svo_fetch WHERE facility = %s AND "
                                    "instrument = %s AND status <> 'error'", key).fetchone():
        return "cached"
    client = client or svo_client()
    limiter = limiter or RateLimiter(2.0)
    try:
        table = with_retries(lambda: client.get_filter_list(facility, instrument=instrument),
                             limiter=limiter)
        rows = _svo_rows(table, date.today().isoformat())
        status, message = ("ok" if rows else "empty"), None
    except Unreachable:
        raise
    except Exception as exc:  # SVO answers "no filter" with an error or an empty VOTable
        rows, status, message = [], "error", f"{type(exc).__name__}: {exc}"[:500]
        if "IndexError" in message or "empty" in message.lower() or "no " in message.lower():
            status = "empty"
    with conn.cursor() as cur:
        cur.executemany(_UPSERT_FILTER, rows)
    conn.execute("""INSERT INTO curation.svo_fetch (facility, instrument, status, n_filters, message)
                    VALUES (%s, %s, %s, %s, %s)
                    ON CONFLICT (facility, instrument) DO UPDATE SET status = EXCLUDED.status,
                      n_filters = EXCLUDED.n_filters, message = EXCLUDED.message, fetched_at = now()""",
                 [*key, status, len(rows), message])
    return status


# -- the matcher ------------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    return [w for w in _SPLIT.split(text) if w]


def _filter_words(f: Filter) -> tuple[set[str], set[str]]:
    """Upper-case words naming the filter's facility, and its instrument."""
    fac = {f.facility.upper(), *FACILITY_WORDS.get(f.facility, ())}
    inst = {w.upper() for w in _words(f.instrument or "")}
    if f.facility == "Generic":
        fac = {(f.instrument or "").upper()}
        inst = set()
    fac.discard("")
    return fac, inst


def _band_score(token: str, f: Filter) -> float:
    best = 0.0
    for alias in f.aliases:
        if token == alias:
            return BAND_EXACT
        if token.upper() == alias.upper():
            best = max(best, BAND_NOCASE_1CHAR if len(alias) == 1 else BAND_NOCASE)
    return best


def match_inputs(inputs: dict[str, str], catalogue: Sequence[Filter]) -> Match:
    """The best filter for one HDU's header strings (``curation.filter_inputs``), with a score."""
    strings = list(dict.fromkeys(
        v.strip() for k in FILTER_KEYS if (v := inputs.get(k)) and not _NEUTRAL.match(v.strip())))
    if not strings:
        return Match("no-filter", reason="only neutral filter positions (clear, open, none)")
    context = {w.upper() for k in CONTEXT_KEYS if inputs.get(k) for w in _words(inputs[k])}
    context |= {inputs[k].strip().upper() for k in CONTEXT_KEYS if inputs.get(k)}
    per_string: list[list[dict[str, Any]]] = []
    for s in strings:
        words = _words(s)
        tokens = list(dict.fromkeys([s, *words]))
        ctx = context | {w.upper() for w in words}
        scored: dict[str, dict[str, Any]] = {}
        for f in catalogue:
            band = max((_band_score(t, f) for t in tokens), default=0.0)
            if band == 0.0:
                continue
            fac_words, inst_words = _filter_words(f)
            score, why = band, [f"band {f.band!r}" + (" (case differs)" if band < BAND_EXACT else "")]
            if fac_words & ctx:
                score += FACILITY_BONUS
                why.append(f"facility {sorted(fac_words & ctx)[0]}")
            if inst_words and inst_words <= ctx:
                score += INSTRUMENT_BONUS
                why.append(f"instrument {f.instrument}")
            scored[f.filter_id] = {"filter_id": f.filter_id, "score": round(score, 3),
                                   "why": ", ".join(why), "string": s}
        per_string.append(sorted(scored.values(), key=lambda c: (-c["score"], c["filter_id"])))
    found = [c for c in per_string if c]
    if not found:
        return Match("unmatched", reason=f"no known filter is called {' / '.join(map(repr, strings))}")
    if len(found) > 1 and len({c[0]["filter_id"] for c in found}) > 1:
        candidates = [c[0] for c in found]
        return Match("ambiguous", candidates=candidates,
                     reason=f"several filters in the beam: {', '.join(map(repr, strings))}")
    candidates = found[0][:8]
    best = candidates[0]
    second = candidates[1]["score"] if len(candidates) > 1 else 0.0
    if best["score"] >= CONFIDENT and best["score"] - second >= MARGIN - 1e-9:
        return Match("matched", best["filter_id"], best["score"], candidates,
                     f"{best['string']!r}: {best['why']}")
    if len(candidates) > 1 and best["score"] - second < MARGIN - 1e-9:
        return Match("ambiguous", None, best["score"], candidates,
                     f"{best['string']!r} fits {len([c for c in candidates if best['score'] - c['score'] < MARGIN])} "
                     "filters equally well; name the facility or instrument (a mapping can)")
    return Match("low-confidence", None, best["score"], candidates,
                 f"{best['string']!r}: {best['why']}, but the header names no facility that confirms it")


# -- matching what the catalogues need ------------------------------------------------------------

_PENDING = """
SELECT curation.filter_inputs(h.keywords, h0.keywords)::text AS key,
       curation.filter_inputs(h.keywords, h0.keywords) AS inputs,
       min(f.catalogue || '/' || f.relpath || '[' || h.hdu || ']') AS example
  FROM {files} t
  JOIN staging.file f ON f.id = t.file_id
  JOIN derive.product p ON p.file_id = f.id
  JOIN ivoa.obscore o ON o.obs_publisher_did = p.obs_publisher_did
  JOIN staging.hdu h ON h.file_id = p.file_id AND h.hdu = p.hdu
  LEFT JOIN staging.hdu h0 ON h0.file_id = p.file_id AND h0.hdu = 0 AND p.hdu <> 0
 WHERE curation.filter_inputs(h.keywords, h0.keywords) IS NOT NULL
   AND ((o.em_min IS NULL AND o.em_max IS NULL)
        OR p.provenance->'em_min'->>'rule' LIKE 'curation.%%')
   AND NOT EXISTS (SELECT 1 FROM mapping.cell mc WHERE mc.obs_publisher_did = o.obs_publisher_did
                    AND (mc.rules ? 'em_min' OR mc.rules ? 'em_max'))
 GROUP BY 1, 2
"""


@dataclass
class FilterReport:
    keys: int = 0
    matched: int = 0
    ambiguous: int = 0
    low_confidence: int = 0
    unmatched: int = 0
    svo_requests: int = 0
    svo_offline_reason: str | None = None
    unresolved: list[tuple[str, str]] = field(default_factory=list)


def match_pending(conn: psycopg.Connection, files: str, *, offline: bool = False,
                  refresh: bool = False, svo: Any = None, limiter: RateLimiter | None = None,
                  progress: Callable[[int], None] | None = None) -> FilterReport:
    """Match the filter strings of the rows (of the files in temp table ``files``) lacking a band.

    Every distinct set of strings is matched once and stored in
    curation.filter_match. Online, facilities the filter table does not know
    are first fetched from SVO (once each, remembered in curation.svo_fetch).
    """
    report = FilterReport()
    pending = conn.execute(_PENDING.format(files=files)).fetchall()
    report.keys = len(pending)
    if not offline and pending:
        report.svo_requests, report.svo_offline_reason = _complete_from_svo(
            conn, [p[1] for p in pending], svo=svo, limiter=limiter, refresh=refresh)
    elif offline and pending:
        report.svo_offline_reason = "offline (--offline): SVO not asked; the offline seed only"
    catalogue = filters(conn)
    rows = []
    for key, inputs, example in pending:
        m = match_inputs(inputs, catalogue)
        rows.append((key, json.dumps(inputs), m.status, m.filter_id, m.confidence,
                     json.dumps(m.candidates), m.reason, example))
        attr = {"matched": "matched", "ambiguous": "ambiguous",
                "low-confidence": "low_confidence"}.get(m.status, "unmatched")
        if m.status != "no-filter":
            setattr(report, attr, getattr(report, attr) + 1)
        if m.status in ("ambiguous", "low-confidence", "unmatched"):
            label = " ".join(f"{k}={v}" for k, v in inputs.items())
            report.unresolved.append((label, f"{m.status}: {m.reason}"))
        if progress:
            progress(1)
    with conn.cursor() as cur:
        cur.executemany("""
            INSERT INTO curation.filter_match AS m (filter_key, inputs, status, filter_id, confidence,
                                                   candidates, reason, example)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (filter_key) DO UPDATE SET inputs = EXCLUDED.inputs, status = EXCLUDED.status,
                filter_id = EXCLUDED.filter_id, confidence = EXCLUDED.confidence,
                candidates = EXCLUDED.candidates, reason = EXCLUDED.reason,
                example = EXCLUDED.example, matched_at = now()""", rows)
    return report


def _complete_from_svo(conn: psycopg.Connection, inputs: Iterable[dict[str, str]], *, svo: Any,
                       limiter: RateLimiter | None, refresh: bool) -> tuple[int, str | None]:
    """Ask SVO for the (facility, instrument) pairs of the headers the filter table lacks."""
    known = {r[0].upper() for r in conn.execute("SELECT DISTINCT facility FROM curation.filter")}
    known |= {w for words in FACILITY_WORDS.values() for w in words}
    pairs: dict[tuple[str, str | None], None] = {}
    for inp in inputs:
        telescop = (inp.get("TELESCOP") or inp.get("OBSERVAT") or "").strip()
        if not telescop or {w.upper() for w in _words(telescop)} & known or telescop.upper() in known:
            continue
        instrument = (inp.get("INSTRUME") or "").strip() or None
        facility = _words(telescop)[0] if _words(telescop) else telescop
        pairs[(facility, instrument)] = None
    requests = 0
    for facility, instrument in pairs:
        try:
            status = fetch_svo(conn, facility, instrument, client=svo, limiter=limiter, refresh=refresh)
        except Unreachable as exc:
            return requests + 1, f"SVO unreachable (no network?): {exc}"
        requests += status != "cached"
    return requests, None
