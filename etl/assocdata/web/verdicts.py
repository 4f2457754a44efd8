"""A verdict per ObsCore field of a submitted row: ok, missing-optional, missing-required, suspicious.

The reasons come from three places, in this order:
1. the derivation's own issues for that cell (derive.issue: a unit assumed,
   an implausible time, a value the table refuses), which already say which
   keyword is at fault;
2. plausibility windows of this page (a wavelength of kilometres is a
   missing CUNIT, not a radio band; a date before 1850 or in the future);
   An empty cell with such an issue is suspicious too (the derivation withheld
   a value it found implausible), not merely missing;
3. whether the column may be empty: the table's NOT NULL columns, and the
   ones a search needs to find the row at all (type, position, access URL).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..obscore import schema

OK, MISSING_OPTIONAL, MISSING_REQUIRED, SUSPICIOUS = (
    "ok", "missing-optional", "missing-required", "suspicious")
#: Besides the NOT NULL columns: without these a row cannot be found or fetched by the search page.
NEEDED_FOR_SEARCH = ("dataproduct_type", "s_ra", "s_dec", "access_url")
#: Wavelengths outside this window (metres) are a unit problem, not physics:
#: from ~100 TeV gamma rays (1.2e-20 m) to ~10 MHz radio (30 m).
EM_WINDOW = (1e-21, 100.0)
MJD_1850 = -2922.0  # 1850-01-01
#: An issue the derivation files on one bound of an interval concerns both.
_PAIRS = {"em_min": "em_max", "em_max": "em_min", "t_min": "t_max", "t_max": "t_min"}


@dataclass(frozen=True)
class FieldVerdict:
    column: str
    value: Any
    verdict: str
    reason: str | None
    rule: str | None
    sources: list[str] | None
    unit: str | None
    description: str


def _mjd_today() -> float:
    return dt.datetime.now(dt.timezone.utc).timestamp() / 86400.0 + 40587.0


def plausibility(column: str, value: Any, sources: list[str] | None) -> str | None:
    """Why a present value looks wrong, or None."""
    if value is None:
        return None
    if column in ("em_min", "em_max"):
        lo, hi = EM_WINDOW
        if not (lo <= value <= hi):
            hint = ""
            if value > hi:
                units = [s for s in (sources or []) if s.startswith("CUNIT")]
                hint = (": is CUNIT1 missing?" if not units else
                        f": is {units[0]} right?")
            return f"{column} {value:.6g} m is implausible{hint}"
    if column in ("t_min", "t_max"):
        if value < MJD_1850 or value > _mjd_today() + 366:
            return f"{column} MJD {value:.6g} is outside 1850 .. next year: check DATE-OBS/MJD-OBS and TIMESYS"
    if column == "s_ra" and value == 0.0:
        return "s_ra is exactly 0: a default CRVAL1?"
    return None


def field_verdicts(row: dict[str, Any], provenance: dict[str, dict[str, Any]],
                   issues: list[dict[str, Any]]) -> list[FieldVerdict]:
    """One verdict per column of the table, in the table's order."""
    by_column: dict[str, list[str]] = {}
    for issue in issues:
        column = issue.get("column_name")
        if not column:
            continue
        text = f"{issue['code']}: {issue['message']}"
        if column.startswith("em_") and "implausible" in issue["code"]:
            text += " (is the spectral axis unit, CUNITi, missing or wrong?)"
        for c in (column, _PAIRS.get(column)):
            if c and text not in by_column.get(c, []):
                by_column.setdefault(c, []).append(text)
    out = []
    for col in schema.load().columns:
        value = row.get(col.name)
        prov = provenance.get(col.name) or {}
        sources = prov.get("sources")
        reasons = list(by_column.get(col.name, []))
        implausible = plausibility(col.name, value, sources)
        if implausible:
            reasons.insert(0, implausible)
        if value is None and reasons:
            verdict = SUSPICIOUS  # withheld by the derivation, which says why
        elif value is None:
            needed = not col.nullable or col.name in NEEDED_FOR_SEARCH
            verdict = MISSING_REQUIRED if needed else MISSING_OPTIONAL
            if not reasons:
                reasons = ["the table needs it" if not col.nullable else
                           "the search cannot find or fetch the row without it"] if needed else []
        else:
            verdict = SUSPICIOUS if reasons else OK
        out.append(FieldVerdict(col.name, value, verdict, "; ".join(reasons) or None,
                                prov.get("rule"), sources, col.unit, col.description))
    return out


def summary(verdicts: list[FieldVerdict]) -> dict[str, int]:
    counts = {OK: 0, MISSING_OPTIONAL: 0, MISSING_REQUIRED: 0, SUSPICIOUS: 0}
    for v in verdicts:
        counts[v.verdict] += 1
    return counts
