"""Time coverage of one HDU: t_min, t_max, t_exptime, t_resolution, t_xel.

The rules and their order are documented in ``docs/derivation/temporal.md``;
this docstring only sums them up.

Time scale of the table
-----------------------
``t_min``/``t_max`` are MJD in **UTC** for the whole table
(:data:`TIME_SCALE`): most headers already give UTC (optical DATE-OBS,
MJD-OBS), so most rows need no conversion, and the others (TT mission
elapsed times of X-ray and gamma-ray missions, TDB light curves, TAI) are
converted with ERFA's leap-second table.  The source scale is stated in the
provenance note of every time cell.  Conversions use pyerfa and plain
arithmetic (no ``astropy.time.Time`` in the hot path; the tests check every
conversion against it):

- TAI <-> UTC with the leap-second table of ERFA (``erfa.leap_seconds``;
  ``erfa.dat`` for the 1960-1971 drift era; before 1960 UTC is taken as UT,
  TAI - UTC = 0), with ERFA's convention for UTC as an MJD (on a day ending
  with a leap second the fraction spans 86401 s), so that the values equal
  ``astropy.time`` ones to < 1 us;
- TT = TAI + 32.184 s; GPS = TAI - 19 s; TDT/ET are TT, IAT is TAI;
- TDB -> TT with the two-term series of TDB - TT (error < 30 us, far below
  what ObsCore needs), TCG -> TT and TCB -> TDB with ``erfa.tcgtt`` /
  ``erfa.tcbtdb``;
- UT1 (and the generic UT/GMT) is taken as UTC (|UT1 - UTC| < 0.9 s).

Barycentric times (TIMEREF = SOLARSYSTEM, BJD light curves) are converted as
a time *scale* only: the light-travel time to the barycentre (up to 8.3 min)
is not removed, and the note says so.

Relative times in UTC (TIMESYS = 'UTC' with MJDREF and TSTART in seconds)
are elapsed SI seconds since the reference, as astropy and gammapy read them:
the leap seconds in between are counted (MAGIC's DL3 files need this to agree
with their own TIME-OBS).

Never raises: unexpected errors become a 'temporal-error' issue.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import erfa

from .context import keyword_number, Derivation, HDUContext, RuleConfig

__all__ = [
    "MJD_MAX", "MJD_MIN", "TIME_SCALE", "derive_temporal", "mjd_from_calendar", "parse_date",
    "parse_time_of_day", "plausible_mjd", "tai_minus_utc", "to_utc_mjd",
]

#: The one time scale of t_min/t_max in the whole table.
TIME_SCALE = "UTC"
#: Plausible observation dates: 1800-01-01 .. 2100-01-01 (MJD).
MJD_MIN = -21504.0
MJD_MAX = 88069.0
_DAY = 86400.0
_MJD_JD = 2400000.5
#: MJD of 1972-01-01 (start of integral leap seconds) and 1960-01-01 (start of UTC).
_MJD_1972 = 41317.0
_MJD_1960 = 36934.0
#: Allowed disagreement between a selected interval and DATE-OBS (days).
_CROSS_CHECK_DAYS = 1.0
#: Longest plausible exposure (s): 300 years.
_EXPTIME_MAX = 300 * 365.25 * _DAY

# --- Time scales -------------------------------------------------------------

_SCALES = {
    "UTC": "UTC", "UT": "UTC", "GMT": "UTC", "UT1": "UT1", "UT()": "UT1",
    "TAI": "TAI", "IAT": "TAI", "TT": "TT", "TDT": "TT", "ET": "TT",
    "TDB": "TDB", "TCG": "TCG", "TCB": "TCB", "GPS": "GPS", "LOCAL": "LOCAL",
}


def _norm_scale(value: Any) -> str | None:
    """Canonical scale for a TIMESYS value ('tt', 'TT(TAI)', 'UT(WWV)' ...), None if unknown."""
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    scale = _SCALES.get(text)
    if scale is None and "(" in text:
        base = text.split("(", 1)[0]
        scale = "UT1" if base == "UT" else _SCALES.get(base)
    return scale


def _leap_table() -> tuple[list[float], list[float]]:
    """(MJD of each change from 1972 on, TAI-UTC from that date) from ERFA's table."""
    mjds: list[float] = []
    values: list[float] = []
    for row in erfa.leap_seconds.get():
        year, month, tai_utc = int(row["year"]), int(row["month"]), float(row["tai_utc"])
        if year >= 1972:
            mjds.append(float(mjd_from_calendar(year, month, 1)))
            values.append(tai_utc)
    return mjds, values


def mjd_from_calendar(year: int, month: int, day: int) -> int:
    """MJD of 00:00 on a proleptic Gregorian date (pure integer arithmetic)."""
    y = year - (1 if month <= 2 else 0)
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468 + 40587


_LEAP_MJD, _LEAP_VALUE = _leap_table()


def tai_minus_utc(mjd_utc: float) -> float:
    """TAI - UTC (s) on a UTC date (0 before 1960, when UTC is read as UT)."""
    if mjd_utc >= _MJD_1972:
        i = bisect.bisect_right(_LEAP_MJD, mjd_utc) - 1
        return _LEAP_VALUE[max(i, 0)]
    if mjd_utc >= _MJD_1960:
        iy, im, iday, fd = erfa.jd2cal(_MJD_JD, mjd_utc)
        return float(erfa.dat(iy, im, iday, fd))
    return 0.0


def _dat_at(mjd: float) -> float:
    """TAI - UTC (s) at a UTC instant given as MJD (erfa.dat for the 1960-1971 drift)."""
    if mjd >= _MJD_1972 or mjd < _MJD_1960:
        return tai_minus_utc(mjd)
    iy, im, iday, fd = erfa.jd2cal(_MJD_JD, mjd)
    return float(erfa.dat(iy, im, iday, fd))


def _utc_to_tai(mjd: float) -> float:
    """UTC MJD -> TAI MJD, with ERFA's convention for UTC as an MJD (``erfa.utctai``).

    On a day that ends with a leap second (or a pre-1972 jump) the day's
    fraction spans 86400 + jump seconds; before 1972 UTC seconds also run at
    the day's drift rate.
    """
    day = math.floor(mjd)
    fd = mjd - day
    if day >= _MJD_1972 - 1:
        dat0 = tai_minus_utc(day) if day >= _MJD_1972 else _dat_at(day)
        dleap = tai_minus_utc(day + 1.0) - dat0
        return day + fd * (1.0 + dleap / _DAY) + dat0 / _DAY
    if day < _MJD_1960:
        return mjd
    dat0, dat12, dat24 = _dat_at(day), _dat_at(day + 0.5), _dat_at(day + 1.0)
    dlod = 2.0 * (dat12 - dat0)
    dleap = dat24 - (dat0 + dlod)
    return day + fd * (1.0 + dleap / _DAY) * (1.0 + dlod / _DAY) + dat0 / _DAY


def _utc_mjd(day: float, frac: float) -> float:
    """MJD of a UTC clock time: ``frac`` = seconds of day / 86400, rescaled on a leap-second day.

    ERFA (and astropy) write UTC as an MJD whose fraction spans the whole UTC
    day, 86401 s on a day ending with a leap second: 23:59:60.5 is still on
    that day.
    """
    if day >= _MJD_1972:
        dleap = tai_minus_utc(day + 1.0) - tai_minus_utc(day)
        if dleap:
            return day + frac * _DAY / (_DAY + dleap)
    return day + frac


def _tai_to_utc(mjd_tai: float) -> float:
    """TAI MJD -> UTC MJD: the inverse of :func:`_utc_to_tai` (fixed-point iterations)."""
    utc = mjd_tai - tai_minus_utc(mjd_tai) / _DAY
    for _ in range(3):
        step = mjd_tai - _utc_to_tai(utc)
        utc += step
        if abs(step) < 1e-14:
            break
    return utc


def _tdb_minus_tt(mjd: float) -> float:
    """TDB - TT (s), two-term series (error < 30 us)."""
    g = math.radians(357.53 + 0.98560028 * (mjd - 51544.5))
    return 0.001657 * math.sin(g) + 0.00001385 * math.sin(2.0 * g)


def to_utc_mjd(mjd: float, scale: str) -> float:
    """An MJD in ``scale`` (canonical name, see :func:`_norm_scale`) as an MJD in UTC."""
    if scale in ("UTC", "UT1", "LOCAL"):
        return mjd
    if scale == "TAI":
        return _tai_to_utc(mjd)
    if scale == "GPS":
        return _tai_to_utc(mjd + 19.0 / _DAY)
    if scale == "TCG":
        tt1, tt2 = erfa.tcgtt(_MJD_JD, mjd)
        mjd, scale = (float(tt1) - _MJD_JD) + float(tt2), "TT"
    elif scale == "TCB":
        tdb1, tdb2 = erfa.tcbtdb(_MJD_JD, mjd)
        mjd, scale = (float(tdb1) - _MJD_JD) + float(tdb2), "TDB"
    if scale == "TDB":
        mjd, scale = mjd - _tdb_minus_tt(mjd) / _DAY, "TT"
    if scale == "TT":
        return _tai_to_utc(mjd - 32.184 / _DAY)
    raise ValueError(f"unknown time scale {scale!r}")


def _elapsed_to_utc(ref: float, seconds: float, scale: str) -> float:
    """Reference MJD (in ``scale``) + elapsed seconds, as an MJD in UTC.

    In UTC the seconds are SI seconds: leap seconds between the reference and
    the time are counted (the reference goes through TAI)."""
    if scale == "UTC":
        return _tai_to_utc(_utc_to_tai(ref) + seconds / _DAY)
    return to_utc_mjd(ref + seconds / _DAY, scale)


def plausible_mjd(mjd: float | None) -> bool:
    return mjd is not None and math.isfinite(mjd) and MJD_MIN <= mjd <= MJD_MAX


# --- Dates and numbers -----------------------------------------------------------

_ISO_DATE = re.compile(
    r"\s*([0-9]{4})[-:/]([0-9]{1,2})[-:/]([0-9]{1,2})"
    r"(?:(?:T|\s+)([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}(?:\.[0-9]*)?))?)?\s*(Z)?\s*\Z")
#: Old FITS 'dd/mm/yy' (19yy), and GOES 'dd/mm/yyyy'.
_DMY_DATE = re.compile(r"\s*([0-9]{1,2})/([0-9]{1,2})/([0-9]{2}|[0-9]{4})\s*\Z")
_COMPACT_DATE = re.compile(r"\s*([0-9]{4})([0-9]{2})([0-9]{2})\s*\Z")
_TIME_OF_DAY = re.compile(r"\s*([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}(?:\.[0-9]*)?))?\s*(Z)?\s*\Z")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _day_fraction(h: str, m: str, s: str | None) -> float | None:
    hh, mm, ss = int(h), int(m), float(s) if s else 0.0
    if hh > 24 or mm > 59 or ss >= 61.0 or (hh == 24 and (mm or ss)):
        return None
    return (hh * 3600 + mm * 60 + ss) / _DAY


def parse_date(text: Any) -> tuple[float, float | None, bool] | None:
    """A date string as (MJD of its 00:00, day fraction or None if date only, 'Z' given).

    ISO 8601 ('2011-08-11T23:23:52.266', 'T' or a blank, optional 'Z', also
    ':' or '/' between date fields: '2011:04:18'), old FITS 'dd/mm/yy' (19yy)
    and 'dd/mm/yyyy' (GOES), 'yyyymmdd'.  None if not a valid date.
    """
    if not isinstance(text, str):
        return None
    m = _ISO_DATE.match(text)
    frac: float | None = None
    zulu = False
    if m:
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if m.group(4) is not None:
            frac = _day_fraction(m.group(4), m.group(5), m.group(6))
            if frac is None:
                return None
        zulu = m.group(7) is not None
    else:
        m = _DMY_DATE.match(text)
        if m:
            day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if year < 100:
                year += 1900
        else:
            m = _COMPACT_DATE.match(text)
            if not m:
                return None
            year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= month <= 12 or not 1 <= day <= _MONTH_DAYS[month - 1]:
        return None
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return None
    return float(mjd_from_calendar(year, month, day)), frac, zulu


def parse_time_of_day(text: Any) -> float | None:
    """'hh:mm[:ss.sss]' as a day fraction (None if not one)."""
    if not isinstance(text, str):
        return None
    m = _TIME_OF_DAY.match(text)
    return _day_fraction(m.group(1), m.group(2), m.group(3)) if m else None


_num = keyword_number  # one implementation: derive.context

# --- Units -------------------------------------------------------------------------

#: Time units (seconds per unit): the FITS time units (Table 29 of FITS 4.0)
#: and the spellings met in headers.
_TIME_UNITS = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 1e-3, "us": 1e-6, "ns": 1e-9,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": _DAY, "day": _DAY, "days": _DAY,
    "a": 365.25 * _DAY, "yr": 365.25 * _DAY, "cy": 36525.0 * _DAY,
    "ta": 365.24219 * _DAY, "ba": 365.242198781 * _DAY,
}
_COMMENT_BRACKET = re.compile(r"\[\s*([A-Za-z]+)\s*\]")
_COMMENT_WORD = re.compile(r"\b(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)\b", re.I)
#: A column unit written as an offset, e.g. TESS 'BJD - 2457000, days', Kepler 'BJD - 2454833'.
_OFFSET_UNIT = re.compile(
    r"\s*(B?M?JD|HJD|BTJD|BKJD)?\s*-\s*([0-9]+(?:\.[0-9]*)?)\s*(?:,\s*([A-Za-z]+))?\s*\Z", re.I)


def _unit_factor(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    return _TIME_UNITS.get(text.strip().lower().rstrip("."))


def _comment_unit(comment: str | None) -> tuple[float, str] | None:
    """Unit stated in a card comment: '[d] time on source', 'Exposure Minutes', '(in seconds)'."""
    if not comment:
        return None
    m = _COMMENT_BRACKET.search(comment)
    if m:
        factor = _TIME_UNITS.get(m.group(1).lower())
        if factor is not None:
            return factor, m.group(1)
    units = {_TIME_UNITS[w.lower()] for w in _COMMENT_WORD.findall(comment)}
    if len(units) == 1:
        word = _COMMENT_WORD.search(comment).group(1)  # type: ignore[union-attr]
        return units.pop(), word
    return None


def _card_comment(text: str, key: str) -> str | None:
    """The comment of card ``key`` in a staged header text (80-char cards or lines)."""
    if not text or len(key) > 8:
        return None
    needle = key.ljust(8) + "="
    i = text.find(needle)
    while i != -1:
        if i % 80 == 0 or text[i - 1] in "\n\r":
            end = text.find("\n", i)
            card = text[i:(end if end != -1 and end - i <= 80 else i + 80)]
            body = card[9:]
            start = 0
            stripped = body.lstrip()
            if stripped.startswith("'"):
                j = body.index("'") + 1
                while True:
                    j = body.find("'", j)
                    if j == -1:
                        return None
                    if body[j + 1:j + 2] == "'":
                        j += 2
                        continue
                    start = j + 1
                    break
            slash = body.find("/", start)
            return body[slash + 1:].strip() if slash != -1 else None
        i = text.find(needle, i + 1)
    return None


# --- Values and state -------------------------------------------------------------


@dataclass(slots=True)
class _T:
    """One end of the interval: MJD UTC and how it was obtained."""

    mjd: float
    sources: tuple[str, ...]
    rule: str
    note: str
    date_only: bool = False


@dataclass(slots=True)
class _Frame:
    """How relative times (TSTART, TIME columns) of one header become MJD UTC."""

    ref: float | None  # reference MJD, in ``scale``
    scale: str
    unit: float | None  # seconds per TIMEUNIT
    timezero: float  # in TIMEUNIT
    sources: list[str]
    note: str


@dataclass(slots=True)
class _Exposure:
    seconds: float
    sources: tuple[str, ...]
    rule: str
    note: str


@dataclass(slots=True)
class _Axis:
    """A linear time axis of an image WCS."""

    index: int  # WCS axis i (1-based)
    pixel_axis: int  # the pixel axis j (1-based) it runs along
    n: int  # NAXISj
    step_s: float  # |dt| per pixel (s)
    lo: float  # smallest world value over the array (pixel edges), in CUNITi
    hi: float
    unit_s: float  # seconds per CUNITi
    ctype: str
    sources: list[str]


class _Src:
    """Keyword access on one HDU: the derived one (with inheritance) or a sibling."""

    __slots__ = ("ctx", "suffix", "get", "kw", "inherited")

    def __init__(self, ctx: HDUContext, suffix: str = "") -> None:
        self.ctx = ctx
        self.suffix = suffix
        self.kw = ctx.keywords
        self.inherited = {} if ctx.is_primary or ctx.keywords.get("INHERIT") is False else ctx.primary
        self.get = ctx.get if not suffix else self._get_labelled

    def _get_labelled(self, *names: str) -> tuple[Any, str | None]:
        value, label = self.ctx.get(*names)
        if label is not None and not label.endswith("]"):
            label += self.suffix
        return value, label

    def has(self, name: str) -> bool:
        """Cheap pre-check: the keyword is in this header or the inherited primary one."""
        return name in self.kw or name in self.inherited


@dataclass(slots=True)
class _State:
    ctx: HDUContext
    out: Derivation
    config: RuleConfig
    siblings: Sequence[HDUContext]
    src: _Src
    primary_text: str
    seen: set[tuple[str, str]] = field(default_factory=set)

    def issue(self, code: str, message: str, column: str | None = None,
              severity: str = "warning") -> None:
        if (code, message) not in self.seen:
            self.seen.add((code, message))
            self.out.issue(code, message, column, severity)

    def house(self, name: str) -> bool:
        return bool(getattr(self.config, name, True))

    def comment(self, src: _Src, label: str) -> str | None:
        key = label.split("[", 1)[0]
        if label.endswith("[0]") and not src.ctx.is_primary:
            return _card_comment(self.primary_text, key)
        return _card_comment(src.ctx.header_text, key)

    def scale_of(self, src: _Src, label: str | None) -> tuple[str, str | None]:
        """Scale of a date keyword: TIMESYS of the header holding it (default UTC)."""
        ctx = src.ctx
        if label is not None and label.endswith("[0]") and not ctx.is_primary:
            value, tlabel = ctx.primary.get("TIMESYS"), "TIMESYS[0]"
            if value is None:
                tlabel = None
        else:
            value, tlabel = src.get("TIMESYS")
        return self.scale_value(value, tlabel), tlabel

    def scale_value(self, value: Any, label: str | None) -> str:
        if value is None or value == "":
            return "UTC"
        scale = _norm_scale(value)
        if scale is None:
            self.issue("unknown-time-scale", f"{label} = {value!r} is not a time scale: UTC assumed",
                       "t_min", "info")
            return "UTC"
        if scale == "LOCAL":
            self.issue("unknown-time-scale", f"{label} = 'LOCAL' (free-running clock): read as UTC",
                       "t_min", "info")
        return scale


# --- Entry point ------------------------------------------------------------------


def derive_temporal(ctx: HDUContext, out: Derivation, config: RuleConfig,
                    siblings: Sequence[HDUContext] = ()) -> None:
    """Set t_min, t_max (MJD UTC), t_exptime, t_resolution (s) and t_xel of one HDU."""
    try:
        _derive(ctx, out, config, siblings)
    except Exception as exc:  # never raise: a bad header is an issue, not a crash
        out.issue("temporal-error", f"time derivation failed: {type(exc).__name__}: {exc}",
                  None, "error")


def _derive(ctx: HDUContext, out: Derivation, config: RuleConfig,
            siblings: Sequence[HDUContext]) -> None:
    siblings = [s for s in siblings if s is not ctx and s.hdu != ctx.hdu]
    primary_text = ctx.header_text if ctx.is_primary else next(
        (s.header_text for s in siblings if s.hdu == 0), "")
    st = _State(ctx, out, config, siblings, _Src(ctx), primary_text)
    kind = _kind(ctx)
    axis = _time_axis(st) if kind == "image" else None
    exposure = _exposure(st)
    start, end = _interval(st, exposure, axis)

    if start is not None:
        out.set("t_min", start.mjd, start.sources, start.rule, start.note)
    if end is not None:
        out.set("t_max", end.mjd, end.sources, end.rule, end.note)
    if exposure is not None:
        if start is not None and end is not None and \
                exposure.seconds > (end.mjd - start.mjd) * _DAY * 1.001 + 1.0:
            st.issue("exptime-exceeds-interval",
                     f"{'+'.join(exposure.sources)} = {exposure.seconds:g} s is longer than "
                     f"t_max - t_min = {(end.mjd - start.mjd) * _DAY:g} s", "t_exptime")
        out.set("t_exptime", exposure.seconds, exposure.sources, exposure.rule, exposure.note)

    xel = _xel(st, kind, axis)
    if xel is not None:
        out.set("t_xel", xel[0], xel[1], xel[2], xel[3])
    _resolution(st, kind, axis, start, end, exposure, xel)


# --- Product kind -------------------------------------------------------------------


def _upper(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


#: Tables with spectral columns that are not spectra (responses, energy bounds).
_NOT_SPECTRUM_CLASSES = frozenset({"RESPONSE", "EBOUNDS", "SPECRESP"})
_NOT_SPECTRUM_EXTNAMES = frozenset({"EBOUNDS", "MATRIX", "SPECRESP", "SPECRESP MATRIX", "ENERGIES"})


def _is_gti(ctx: HDUContext) -> bool:
    if not ctx.is_table:
        return False
    extname = ctx.extname
    if isinstance(extname, str) and extname.strip().upper().startswith(("GTI", "STDGTI")):
        return True
    return _upper(ctx.keywords.get("HDUCLAS1")) == "GTI"


def _kind(ctx: HDUContext) -> str:
    """'events', 'gti', 'lightcurve', 'spectrum', 'table' or 'image' (or 'none': no data)."""
    if ctx.is_table:
        extname = _upper(ctx.extname)
        hduclas1 = _upper(ctx.keywords.get("HDUCLAS1"))
        if extname == "EVENTS" or hduclas1 == "EVENTS":
            return "events"
        if extname.startswith(("GTI", "STDGTI")) or hduclas1 == "GTI":
            return "gti"
        if hduclas1 == "SPECTRUM" or extname.startswith("SPECTRUM"):
            return "spectrum"
        roles = {c.get("role") for c in ctx.columns}
        if "temporal" in roles or hduclas1 == "LIGHTCURVE":
            return "lightcurve"
        if "spectral" in roles and hduclas1 not in _NOT_SPECTRUM_CLASSES \
                and extname not in _NOT_SPECTRUM_EXTNAMES:
            return "spectrum"
        return "table"
    if ctx.naxis and all(isinstance(n, int) and n > 0 for n in ctx.naxis):
        return "image"
    return "none"


# --- Exposure ------------------------------------------------------------------------

#: Keywords whose unit is TIMEUNIT when their comment states none (FITS 4.0 / OGIP).
_TIMEUNIT_KEYS = frozenset({"XPOSURE", "EXPOSURE", "LIVETIME", "ONTIME", "TELAPSE", "TIMEDEL"})
#: OGIP timing keywords: their presence makes EXPOSURE (livetime-corrected) the exposure.
_OGIP_MARKERS = ("ONTIME", "LIVETIME", "TSTART", "TSTARTI", "TELAPSE")
_EXPOSURE_OGIP = ("XPOSURE", "EXPOSURE", "LIVETIME", "ONTIME", "EXPTIME", "TELAPSE")
_EXPOSURE_OTHER = ("XPOSURE", "EXPTIME", "EXPOSURE", "EXPOSED", "LIVETIME", "ONTIME", "TELAPSE")


def _duration(st: _State, src: _Src, name: str) -> tuple[float, str, str] | None:
    """A duration keyword in seconds: (seconds, label, unit note)."""
    value, label = src.get(name)
    if label is None:
        return None
    x = _num(value)
    if x is None:
        st.issue("unparseable-time", f"{label} = {value!r} is not a number", "t_exptime")
        return None
    stated = _comment_unit(st.comment(src, label))
    if stated is not None:
        return x * stated[0], label, f"unit from the card comment ('{stated[1]}')"
    if name in _TIMEUNIT_KEYS:
        unit, ulabel = src.get("TIMEUNIT")
        if unit is not None:
            factor = _unit_factor(unit)
            if factor is None:
                st.issue("unknown-time-unit", f"{ulabel} = {unit!r} is not a time unit", "t_exptime")
                return None
            return x * factor, label, f"unit {unit.strip()} ({ulabel})"
    return x, label, "seconds"


def _exposure(st: _State) -> _Exposure | None:
    src = st.src
    ogip = any(src.has(name) for name in _OGIP_MARKERS)
    found = _first_exposure(st, src, _EXPOSURE_OGIP if ogip else _EXPOSURE_OTHER)
    rule = "temporal.exptime"
    if found is None:
        for sib in st.siblings:
            if _is_gti(sib):
                found = _first_exposure(st, _Src(sib, f"[{sib.hdu}]"), ("EXPOSURE", "LIVETIME", "ONTIME"))
                if found is not None:
                    rule = "temporal.exptime.gti-sibling"
                    break
    if found is None:
        return None
    seconds, label, unit_note = found
    note = f"{label}, {unit_note}"
    if label.startswith("TELAPSE"):
        note += "; elapsed time: an upper bound of the exposure"
    return _Exposure(seconds, (label,), rule, note)


def _first_exposure(st: _State, src: _Src, names: Sequence[str]) -> tuple[float, str, str] | None:
    zero = None
    for name in names:
        if not src.has(name):
            continue
        found = _duration(st, src, name)
        if found is None:
            continue
        seconds = found[0]
        if seconds < 0 or seconds > _EXPTIME_MAX:
            st.issue("implausible-exptime", f"{found[1]} = {seconds:g} s is not a plausible exposure",
                     "t_exptime")
            continue
        if seconds == 0:
            zero = zero or found  # 0 only if nothing positive follows (TELAPSE = 0 in H.E.S.S.)
            continue
        return found
    return zero


# --- The interval ----------------------------------------------------------------------


def _check(st: _State, t: _T | None, what: str) -> _T | None:
    if t is None:
        return None
    if plausible_mjd(t.mjd):
        return t
    st.issue("implausible-time", f"{'+'.join(t.sources)} gives MJD {t.mjd:.6f} "
             f"({what}), outside 1800-2100: not used", "t_max" if what == "end" else "t_min")
    return None


def _interval(st: _State, exposure: _Exposure | None,
              axis: _Axis | None) -> tuple[_T | None, _T | None]:
    candidates: list[Callable[[], tuple[_T | None, _T | None] | None]] = [
        lambda: _lamost_lmjm(st),
        lambda: _met(st, st.src, "temporal.met"),
        lambda: _sdss_tai(st),
        lambda: _beg_end(st),
        lambda: _expstart(st),
        lambda: _obs(st),
        lambda: _avg(st, exposure),
        lambda: _wcs_interval(st, axis),
        lambda: _columns_interval(st, st.src, st.ctx, "temporal.columns"),
        lambda: _gti_siblings(st),
    ]
    for candidate in candidates:
        found = candidate()
        if found is None:
            continue
        start, end = _check(st, found[0], "start"), _check(st, found[1], "end")
        if start is None:
            continue
        if end is not None and end.mjd < start.mjd - 1e-9:
            st.issue("implausible-time", f"end {'+'.join(end.sources)} (MJD {end.mjd:.6f}) is before "
                     f"start {'+'.join(start.sources)} (MJD {start.mjd:.6f}): not published", "t_max")
            end = None
        if end is None:
            end = _end_completion(st, start, exposure)
        if not _consistent_with_date_obs(st, start, end):
            return None, None
        if end is None:
            st.issue("no-end-time", f"start from {'+'.join(start.sources)}, but no end time "
                     "or duration: t_max not published", "t_max", "info")
        return start, end
    return None, None


def _consistent_with_date_obs(st: _State, start: _T, end: _T | None) -> bool:
    """Cross-check a computed interval (MET, columns, WCS, house rules) against DATE-OBS."""
    if start.rule in ("temporal.obs", "temporal.beg-end", "temporal.house.lamost-local"):
        return True
    obs = _obs_start(st)
    if obs is None:
        return True
    hi = (end or start).mjd
    if start.mjd - _CROSS_CHECK_DAYS <= obs.mjd <= hi + _CROSS_CHECK_DAYS + (1.0 if obs.date_only else 0.0):
        return True
    st.issue("inconsistent-time",
             f"{'+'.join(start.sources)} gives MJD {start.mjd:.5f} .. {hi:.5f} but "
             f"{'+'.join(obs.sources)} gives MJD {obs.mjd:.5f}: t_min/t_max not published",
             "t_min")
    return False


def _end_completion(st: _State, start: _T, exposure: _Exposure | None) -> _T | None:
    """An end for a start that came alone: explicit end keywords, then start + exposure."""
    for find in (_end_keywords, _end_time_of_day):
        end = _check(st, find(st, start), "end")
        if end is None:
            continue
        if end.mjd < start.mjd - 1e-9:
            st.issue("implausible-time", f"end {'+'.join(end.sources)} (MJD {end.mjd:.6f}) is before "
                     f"start {'+'.join(start.sources)} (MJD {start.mjd:.6f}): not published", "t_max")
            continue
        return end
    if exposure is not None and not start.date_only:
        return _T(start.mjd + exposure.seconds / _DAY, (*start.sources, *exposure.sources),
                  "temporal.end.exptime",
                  f"MJD UTC; start + exposure ({exposure.note})")
    return None


def _note(scale: str, what: str) -> str:
    return f"MJD UTC; {what}" + ("" if scale == "UTC" else f"; converted from {scale}")


_LOCAL_CHECKED = frozenset({"DATE-OBS", "DATE-BEG", "DATE-END", "DATE_OBS", "DATE_END"})


def _date_value(st: _State, src: _Src, names: Sequence[str], role: str,
                time_keys: Sequence[str] = (), *, allow_local: bool = False) -> _T | None:
    """The first usable date keyword of ``names`` (+ a time-of-day keyword if date only).

    A keyword whose card comment says it is local time is skipped (issue
    'local-time'), an implausible one too (issue 'implausible-time').
    """
    for name in names:
        if not src.has(name):
            continue
        value, label = src.get(name)
        if label is None:
            continue
        if not allow_local and name in _LOCAL_CHECKED and _is_local(st, src, label):
            st.issue("local-time", f"{label} is local time (card comment): not used",
                     "t_min" if role == "start" else "t_max", "info")
            continue
        parsed = parse_date(value)
        if parsed is None:
            if name in ("DATE-OBS", "DATE-END", "DATE-BEG", "DATE-AVG"):
                st.issue("unparseable-time", f"{label} = {value!r} is not a date", "t_min")
            continue
        day, frac, zulu = parsed
        sources = [label]
        scale, tlabel = ("UTC", None) if zulu else st.scale_of(src, label)
        date_only = frac is None
        if date_only:
            for tkey in time_keys:
                tvalue, tl = src.get(tkey)
                tfrac = parse_time_of_day(tvalue)
                if tfrac is not None:
                    frac, date_only = tfrac, False
                    sources.append(tl)  # type: ignore[arg-type]
                    if tkey.startswith("UT"):
                        scale, tlabel = "UTC", None
                    break
        if date_only and role == "end":
            frac = 1.0  # a date alone as an end: the end of that day
        mjd = _utc_mjd(day, frac or 0.0) if scale in ("UTC", "UT1") else day + (frac or 0.0)
        if tlabel is not None and scale != "UTC":
            sources.append(tlabel)
        note = _note(scale, f"{'+'.join(sources[:2])}")
        if date_only:
            note += "; date only (day precision: " + ("start of the day" if role == "start"
                                                      else "end of the day") + ")"
        t = _T(to_utc_mjd(mjd, scale), tuple(sources), "", note, date_only)
        if _check(st, t, role) is not None:
            return t
    return None


def _mjd_value(st: _State, src: _Src, names: Sequence[str], *, offset: float = 0.0,
               integral_ok: bool = True) -> _T | None:
    """The first numeric MJD-like keyword of ``names`` (JD: offset -2400000.5)."""
    for name in names:
        if not src.has(name):
            continue
        value, label = src.get(name)
        if label is None:
            continue
        x = _num(value)
        if x is None:
            st.issue("unparseable-time", f"{label} = {value!r} is not a number", "t_min")
            continue
        if not integral_ok and x == int(x):
            continue
        scale, tlabel = st.scale_of(src, label)
        sources = (label,) if tlabel is None or scale == "UTC" else (label, tlabel)
        t = _T(to_utc_mjd(x + offset, scale), sources, "", _note(scale, label))
        if _check(st, t, "value") is not None:
            return t
    return None


def _with_rule(t: _T | None, rule: str) -> _T | None:
    if t is not None:
        t.rule = rule
    return t


# Starts and ends of the observation (DATE-OBS family).
_OBS_TIME_KEYS = ("TIME-OBS", "UTSTART", "UT-TIME", "UTOPEN", "UTC-OBS", "UT", "UTC")
_END_TIME_KEYS = ("TIME-END", "UTEND", "UT-END")


def _obs_start(st: _State) -> _T | None:
    src = st.src
    t = _mjd_value(st, src, ("MJD-OBS", "MJD_OBS"))
    if t is None:
        t = _date_value(st, src, ("DATE-OBS", "DATE_OBS", "DATEOBS"), "start", _OBS_TIME_KEYS)
    if t is None:
        t = _date_value(st, src, ("UTDATE",), "start", ("UTSTART",))
    if t is None:
        t = _date_value(st, src, ("UT-DATE",), "start", ("UT-TIME",))
    if t is None:
        t = _mjd_value(st, src, ("UTMJD",))
    if t is None:
        t = _mjd_value(st, src, ("MJD",), integral_ok=False)
    return _with_rule(t, "temporal.obs")


def _obs(st: _State) -> tuple[_T | None, _T | None] | None:
    start = _obs_start(st)
    return None if start is None else (start, None)


def _end_keywords(st: _State, start: _T) -> _T | None:
    src = st.src
    t = _mjd_value(st, src, ("MJD-END",))
    if t is None:
        t = _date_value(st, src, ("DATE-END", "DATE_END"), "end", ("TIME-END",))
    return _with_rule(t, "temporal.end")


def _end_time_of_day(st: _State, start: _T) -> _T | None:
    """An end time of day (TIME-END, UTEND, UT-END) on the start's UTC date (+1 day if earlier)."""
    if start.date_only:
        return None
    value, label = st.src.get(*_END_TIME_KEYS)
    frac = parse_time_of_day(value)
    if frac is None:
        return None
    day = math.floor(start.mjd)
    mjd = _utc_mjd(day, frac)
    if mjd < start.mjd - 1.0 / _DAY:
        mjd = _utc_mjd(day + 1.0, frac)  # past midnight
    return _T(mjd, (label,), "temporal.end",  # type: ignore[arg-type]
              f"MJD UTC; {label} on the UTC date of the start (next day if earlier)")


def _beg_end(st: _State) -> tuple[_T | None, _T | None] | None:
    """FITS 4.0 DATE-BEG/MJD-BEG and DATE-END/MJD-END (LAMOST local time: house rule)."""
    src = st.src
    start = _mjd_value(st, src, ("MJD-BEG",))
    if start is not None:
        return _with_rule(start, "temporal.beg-end"), _with_rule(
            _mjd_value(st, src, ("MJD-END",)), "temporal.beg-end")
    if not src.has("DATE-BEG"):
        return None
    value, label = src.get("DATE-BEG")
    if label is None:
        return None
    local = _is_local(st, src, label)
    if local:
        if not (st.house("house_lamost_local_time") and _is_lamost(st)):
            st.issue("local-time", f"{label} is local time (card comment): not used", "t_min", "info")
            return None
        start = _date_value(st, src, ("DATE-BEG",), "start", allow_local=True)
        end = _date_value(st, src, ("DATE-END",), "end", allow_local=True)
        if end is not None and not _is_local(st, src, end.sources[0]):
            end = None
        shift = 8.0 / 24.0
        rule = "temporal.house.lamost-local"
        out = []
        for t in (start, end):
            if t is not None:
                t = _T(t.mjd - shift, t.sources, rule,
                       f"MJD UTC; {t.sources[0]} is Beijing time (LAMOST, card comment 'local "
                       "time'): UTC = local - 8 h", t.date_only)
            out.append(t)
        return out[0], out[1]
    start = _with_rule(_date_value(st, src, ("DATE-BEG",), "start"), "temporal.beg-end")
    if start is None:
        return None
    end = _mjd_value(st, src, ("MJD-END",))
    if end is None:
        end = _date_value(st, src, ("DATE-END",), "end", ("TIME-END",))
    return start, _with_rule(end, "temporal.beg-end")


_UNIVERSAL_WORDS = re.compile(r"\b(?:utc?|gmt|universal|tai|tt)\b")


def _is_local(st: _State, src: _Src, label: str) -> bool:
    """The card comment says local time ('The observation start local time'), not UT."""
    comment = st.comment(src, label)
    if not comment:
        return False
    lower = comment.lower()
    return "local" in lower and _UNIVERSAL_WORDS.search(lower) is None


def _is_lamost(st: _State) -> bool:
    return _upper(st.ctx.get("TELESCOP")[0]).startswith("LAMOST")


def _expstart(st: _State) -> tuple[_T | None, _T | None] | None:
    """EXPSTART/EXPEND: MJD of the exposure start/end (HST, JWST)."""
    start = _mjd_value(st, st.src, ("EXPSTART",))
    if start is None:
        return None
    return _with_rule(start, "temporal.expstart"), _with_rule(
        _mjd_value(st, st.src, ("EXPEND",)), "temporal.expstart")


def _avg(st: _State, exposure: _Exposure | None) -> tuple[_T | None, _T | None] | None:
    """A mid-exposure epoch (MJD-AVG, DATE-AVG, JD): the interval is mid +/- exposure/2."""
    src = st.src
    mid = _mjd_value(st, src, ("MJD-AVG",))
    if mid is None:
        mid = _date_value(st, src, ("DATE-AVG",), "mid")
        if mid is not None and mid.date_only:
            mid = None
    if mid is None:
        mid = _mjd_value(st, src, ("JD",), offset=-_MJD_JD)
    if mid is None:
        return None
    if exposure is None:
        st.issue("mid-time-only", f"{'+'.join(mid.sources)} is a mid-exposure epoch and the "
                 "duration is unknown: t_min/t_max not published", "t_min", "info")
        return None
    half = exposure.seconds / 2.0 / _DAY
    sources = (*mid.sources, *exposure.sources)
    note = f"{mid.note}; mid-exposure epoch -/+ exposure/2 ({exposure.note})"
    return (_T(mid.mjd - half, sources, "temporal.avg", note),
            _T(mid.mjd + half, sources, "temporal.avg", note))


# --- Relative times: MET, columns --------------------------------------------------------


def _frame(st: _State, src: _Src, *, days_default: bool = False) -> _Frame | None:
    """Reference, scale, unit and TIMEZERO of relative times in one header.

    Reference: MJDREFI+MJDREFF, MJDREF, JDREFI+JDREFF, JDREF, BJDREFI+BJDREFF /
    BJDREF (Kepler, TESS: TDB), DATEREF.  None when there is none (the
    standard's default MJDREF = 0 is used only when ``days_default``).
    House rule (GOES): TIMESYS = 'MJD' with an MJD-like TIMEZERO: TIMEZERO is
    the reference MJD (UTC) and the times are seconds from it.
    """
    timesys, slabel = src.get("TIMESYS")
    unit_value, ulabel = src.get("TIMEUNIT")
    unit = 1.0 if unit_value is None else _unit_factor(unit_value)
    if unit is None:
        st.issue("unknown-time-unit", f"{ulabel} = {unit_value!r} is not a time unit", "t_min")
    tz_value, tzlabel = src.get("TIMEZERO")
    timezero = _num(tz_value) or 0.0
    if (_upper(timesys) == "MJD" and st.house("house_goes_timezero") and plausible_mjd(_num(tz_value))
            and unit is not None):
        sources = [tzlabel, slabel]  # type: ignore[list-item]
        if ulabel:
            sources.append(ulabel)
        return _Frame(timezero, "UTC", unit, 0.0, sources,  # type: ignore[arg-type]
                      f"house rule (GOES): {slabel} = 'MJD', {tzlabel} = {timezero:g} is the reference "
                      f"MJD (UTC); MJDREF ignored")
    sources: list[str] = []
    ref: float | None = None
    default_scale = None
    what = ""
    i_value, i_label = src.get("MJDREFI")
    f_value, f_label = src.get("MJDREFF")
    if i_label or f_label:
        ref = (_num(i_value) or 0.0) + (_num(f_value) or 0.0)
        sources += [x for x in (i_label, f_label) if x]
        what = "MJDREFI+MJDREFF"
    if ref is None:
        value, label = src.get("MJDREF")
        if _num(value) is not None:
            ref, what = _num(value), "MJDREF"
            sources.append(label)  # type: ignore[arg-type]
    if ref is None:
        for prefix, scale in (("JDREF", None), ("BJDREF", "TDB")):
            i_value, i_label = src.get(prefix + "I")
            f_value, f_label = src.get(prefix + "F")
            if i_label or f_label:
                ref = ((_num(i_value) or 0.0) - _MJD_JD) + (_num(f_value) or 0.0)
                sources += [x for x in (i_label, f_label) if x]
                what = f"{prefix}I+{prefix}F (JD)"
            else:
                value, label = src.get(prefix)
                if _num(value) is not None:
                    ref, what = _num(value) - _MJD_JD, f"{prefix} (JD)"  # type: ignore[operator]
                    sources.append(label)  # type: ignore[arg-type]
            if ref is not None:
                default_scale = scale
                break
    if ref is None:
        value, label = src.get("DATEREF")
        parsed = parse_date(value)
        if parsed is not None:
            ref, what = parsed[0] + (parsed[1] or 0.0), "DATEREF"
            sources.append(label)  # type: ignore[arg-type]
    if ref is None and days_default and unit == _DAY:
        ref, what = 0.0, "MJDREF = 0 (FITS default; times in days)"
    if ref is None or unit is None:
        return None
    if timesys is None and default_scale is not None:
        scale = default_scale
    else:
        scale = st.scale_value(timesys, slabel)
    if slabel:
        sources.append(slabel)
    if ulabel:
        sources.append(ulabel)
    if tzlabel and timezero:
        sources.append(tzlabel)
    note = f"{what} + {'TIMEZERO + ' if timezero else ''}times in {unit_value or 's'}"
    if scale != "UTC":
        note += f"; converted from {scale}"
    elif _upper(timesys) in ("UTC", "UT"):
        note += "; elapsed SI seconds from a UTC reference"
    timeref, rlabel = src.get("TIMEREF")
    if _upper(timeref) in ("SOLARSYSTEM", "BARYCENTER", "BARYCENTRIC", "HELIOCENTER", "HELIOCENTRIC"):
        note += f"; TIMEREF={_upper(timeref)}: light-travel time (up to 8.3 min) not removed"
        sources.append(rlabel)  # type: ignore[arg-type]
    return _Frame(ref, scale, unit, timezero, sources, note)


def _met_value(frame: _Frame, value: float) -> float:
    return _elapsed_to_utc(frame.ref, (frame.timezero + value) * frame.unit, frame.scale)  # type: ignore[arg-type,operator]


def _met_keyword(src: _Src, name: str) -> tuple[float | None, list[str]]:
    """TSTART (or TSTARTI + TSTARTF) as a number, with the labels read."""
    if not (src.has(name) or src.has(name + "I") or src.has(name + "F")):
        return None, []
    value, label = src.get(name)
    x = _num(value)
    if x is not None:
        return x, [label]  # type: ignore[list-item]
    i_value, i_label = src.get(name + "I")
    f_value, f_label = src.get(name + "F")
    if i_label is None and f_label is None:
        return None, []
    return (_num(i_value) or 0.0) + (_num(f_value) or 0.0), [x for x in (i_label, f_label) if x]


def _met(st: _State, src: _Src, rule: str) -> tuple[_T | None, _T | None] | None:
    """TSTART/TSTOP (mission elapsed time) with the header's reference."""
    tstart, labels = _met_keyword(src, "TSTART")
    if tstart is None:
        return None
    frame = _frame(st, src)
    if frame is None:
        unit_value = src.get("TIMEUNIT")[0]
        if unit_value is not None and _unit_factor(unit_value) is None:
            return None
        st.issue("no-time-reference", f"{'+'.join(labels)} given without MJDREF/JDREF/DATEREF: not used",
                 "t_min", "info")
        return None
    if frame.note.startswith("house rule (GOES)"):
        rule = "temporal.house.goes-timezero"
    start = _T(_met_value(frame, tstart), (*labels, *frame.sources), rule, f"MJD UTC; {frame.note}")
    tstop, stop_labels = _met_keyword(src, "TSTOP")
    end = None
    if tstop is not None:
        end = _T(_met_value(frame, tstop), (*stop_labels, *frame.sources), rule, f"MJD UTC; {frame.note}")
    return start, end


def _sdss_tai(st: _State) -> tuple[_T | None, _T | None] | None:
    """House rule (SDSS): TAI-BEG/TAI-END are TAI seconds since MJD 0."""
    if not st.house("house_sdss_tai") or not st.src.has("TAI-BEG"):
        return None
    beg, blabel = st.src.get("TAI-BEG")
    end, elabel = st.src.get("TAI-END")
    b, e = _num(beg), _num(end)
    if b is None:
        return None
    note = "MJD UTC; house rule (SDSS): TAI seconds since MJD 0; converted from TAI"
    start = _T(_tai_to_utc(b / _DAY), (blabel,), "temporal.house.sdss-tai", note)  # type: ignore[arg-type]
    stop = None if e is None else _T(_tai_to_utc(e / _DAY), (elabel,), "temporal.house.sdss-tai", note)  # type: ignore[arg-type]
    return start, stop


def _lamost_lmjm(st: _State) -> tuple[_T | None, _T | None] | None:
    """House rule (LAMOST MRS): LMJM is the local (UTC+8) Modified Julian Minute of an exposure."""
    if not st.house("house_lamost_local_time") or not _is_lamost(st):
        return None
    spans = []
    own, label = st.ctx.get("LMJM", inherit=False)
    if _num(own) is not None:
        hdus = [(st.src, own, label)]
    else:
        hdus = [(src, *src.get("LMJM")) for src in
                (_Src(sib, f"[{sib.hdu}]") for sib in st.siblings
                 if _num(sib.keywords.get("LMJM")) is not None)]
    for src, value, lab in hdus:
        start = _num(value) / 1440.0 - 8.0 / 24.0  # type: ignore[operator]
        exptime = _num(src.ctx.keywords.get("EXPTIME"))  # LAMOST: '[s] Exposure duration time'
        spans.append((start, None if exptime is None else start + exptime / _DAY, lab,
                      "EXPTIME" + src.suffix))
    if not spans:
        return None
    rule = "temporal.house.lamost-lmjm"
    note = ("MJD UTC; house rule (LAMOST): LMJM = local (Beijing, UTC+8) Modified Julian Minute "
            "of the exposure start (minute precision)")
    first = min(spans, key=lambda s: s[0])
    start_t = _T(first[0], (first[2],), rule, note + ("" if len(spans) == 1 else
                                                      f"; earliest of {len(spans)} exposures"))
    ends = [s for s in spans if s[1] is not None]
    end_t = None
    if ends:
        last = max(ends, key=lambda s: s[1])
        end_t = _T(last[1], (last[2], last[3]), rule, note + "; + EXPTIME" + (
            "" if len(spans) == 1 else f"; latest end of {len(spans)} exposures"))
    return start_t, end_t


_JD_COLUMN = re.compile(
    r"(B?MJD|MJD|B?JD|HJD|BMJD)(?:[-_ ]?(TDB|TT|UTC|TCB|TAI|UT|OBS|MID))?(?:[-_ ]?([0-9]+(?:\.[0-9]+)?))?",
    re.I)


def _column_converter(st: _State, src: _Src, column: dict[str, Any]
                      ) -> tuple[Callable[[float], float], list[str], str, float] | None:
    """(value -> MJD UTC, sources, note, seconds per column unit) for one temporal column."""
    name = (column.get("ttype") or "").strip()
    label = f"column:{name}{src.suffix}"
    m = _JD_COLUMN.fullmatch(name)
    if m:
        family, suffix, offset = m.group(1).upper(), (m.group(2) or "").upper(), m.group(3)
        off = float(offset) if offset else 0.0
        if "MJD" not in family:
            off -= _MJD_JD
        scale = _SCALES.get(suffix) if suffix not in ("", "OBS", "MID") else None
        sources = [label]
        if scale is None:
            if family.startswith("B"):
                scale = "TDB"
            else:
                timesys, slabel = src.get("TIMESYS")
                scale = st.scale_value(timesys, slabel)
                if slabel and scale != "UTC":
                    sources.append(slabel)
        note = _note(scale, f"{label} is {family}{'-' + offset if offset else ''} (from its name)")
        if family in ("BJD", "BMJD", "HJD"):
            note += "; barycentric/heliocentric: light-travel time not removed"
        return (lambda v, off=off, scale=scale: to_utc_mjd(v + off, scale)), sources, note, _DAY
    frame = _frame(st, src, days_default=True)
    tunit = column.get("tunit")
    factor = None
    jd_offset = None
    if tunit and tunit.strip():
        factor = _unit_factor(tunit)
        if factor is None:
            mo = _OFFSET_UNIT.match(tunit)
            if mo is None:
                st.issue("unknown-time-unit", f"TUNIT of {label} = {tunit!r} is not a time unit", "t_min")
                return None
            jd_offset = float(mo.group(2))
            factor = _unit_factor(mo.group(3)) if mo.group(3) else None
            if factor is None and mo.group(3):
                st.issue("unknown-time-unit", f"TUNIT of {label} = {tunit!r} is not a time unit", "t_min")
                return None
    if frame is None and jd_offset is not None:
        unit_value, _ = src.get("TIMEUNIT")
        timesys, slabel = src.get("TIMESYS")
        frame = _Frame(jd_offset - _MJD_JD if jd_offset > _MJD_JD else jd_offset,
                       "TDB" if timesys is None else st.scale_value(timesys, slabel),
                       _unit_factor(unit_value) if unit_value else _DAY, 0.0, [],
                       f"JD offset from TUNIT {tunit!r}")
    if frame is None or frame.unit is None:
        return None
    if factor is not None and factor != frame.unit:
        frame = _Frame(frame.ref, frame.scale, factor, frame.timezero * frame.unit / factor,
                       frame.sources, f"{frame.note}; column unit {tunit.strip()!r} (TUNIT)")  # type: ignore[union-attr]
    return (lambda v, frame=frame: _met_value(frame, v)), [label, *frame.sources], \
        f"MJD UTC; {frame.note}", frame.unit


def _columns_interval(st: _State, src: _Src, ctx: HDUContext, rule: str
                      ) -> tuple[_T | None, _T | None] | None:
    """Min/max of the temporal columns (staged), converted; TIME bins widened by TIMEPIXR/TIMEDEL."""
    lo = hi = None
    for column in ctx.columns:
        if column.get("role") != "temporal":
            continue
        cmin, cmax = _num(column.get("min")), _num(column.get("max"))
        if cmin is None or cmax is None:
            continue
        conv = _column_converter(st, src, column)
        if conv is None:
            continue
        f, sources, note, unit_s = conv
        a, b = f(cmin), f(cmax)
        if (column.get("ttype") or "").strip().upper() == "TIME":
            delta = _duration(st, src, "TIMEDEL") if src.get("TIMEDEL")[1] else None
            if delta is not None and delta[0] > 0:
                pixr = _num(src.get("TIMEPIXR")[0])
                pixr = 0.5 if pixr is None else pixr
                a -= pixr * delta[0] / _DAY
                b += (1.0 - pixr) * delta[0] / _DAY
                sources = [*sources, delta[1]]
                note += f"; TIME bins widened by TIMEPIXR={pixr:g} x TIMEDEL"
        if lo is None or a < lo.mjd:
            lo = _T(a, tuple(sources), rule, note + " (column minimum)")
        if hi is None or b > hi.mjd:
            hi = _T(b, tuple(sources), rule, note + " (column maximum)")
    if lo is None:
        return None
    return lo, hi


def _gti_siblings(st: _State) -> tuple[_T | None, _T | None] | None:
    """Union of the file's GTI extensions (TSTART/TSTOP, else START/STOP columns)."""
    lo = hi = None
    for sib in st.siblings:
        if not _is_gti(sib):
            continue
        src = _Src(sib, f"[{sib.hdu}]")
        found = _met(st, src, "temporal.gti-sibling") or \
            _columns_interval(st, src, sib, "temporal.gti-sibling")
        if not found or found[0] is None:
            continue
        a, b = found
        a.rule = "temporal.gti-sibling"
        if b is not None:
            b.rule = "temporal.gti-sibling"
        if lo is None or a.mjd < lo.mjd:
            lo = a
        if b is not None and (hi is None or b.mjd > hi.mjd):
            hi = b
    return None if lo is None else (lo, hi)


# --- Time WCS axis -------------------------------------------------------------------------

_TIME_CTYPES = frozenset({"TIME", "UTC", "UT", "UT1", "GMT", "TAI", "IAT", "TT", "TDT", "ET",
                          "TDB", "TCG", "TCB", "GPS", "LOCAL", "MJD", "JD"})


def _time_axis(st: _State) -> _Axis | None:
    """The linear time axis of an image WCS, from its keywords (see the docs)."""
    kw = st.ctx.keywords
    naxes = len(st.ctx.naxis)
    for i in range(1, naxes + 1):
        ctype = kw.get(f"CTYPE{i}")
        if not isinstance(ctype, str):
            continue
        code = ctype.strip().upper()
        base, algo = code, ""
        if len(code) > 5 and "-" in code[2:5]:
            base, algo = code[:4].rstrip("-"), code[4:].lstrip("-")
        if base not in _TIME_CTYPES:
            continue
        if algo:
            st.issue("unsupported-time-axis", f"CTYPE{i} = {ctype!r}: only linear time axes are read",
                     "t_xel", "info")
            return None
        break
    else:
        return None
    if st.ctx.wcs_status != "ok":
        st.issue("time-axis-unchecked", f"CTYPE{i} = {ctype!r} but the WCS pre-check did not accept "
                 f"the header ({st.ctx.wcs_status}): the time axis is not used", "t_xel", "info")
        return None
    sources = [f"CTYPE{i}"]
    cunit = kw.get(f"CUNIT{i}")
    if isinstance(cunit, str) and cunit.strip():
        unit_s = _unit_factor(cunit)
        sources.append(f"CUNIT{i}")
        if unit_s is None:
            st.issue("unknown-time-unit", f"CUNIT{i} = {cunit!r} is not a time unit", "t_xel")
            return None
    else:
        unit_s = _DAY if base in ("MJD", "JD") else 1.0
    row = _matrix_row(kw, i, naxes, sources)
    crval = _num(kw.get(f"CRVAL{i}")) or 0.0
    sources.append(f"CRVAL{i}")
    lo = hi = crval
    best_j, best_extent = i, -1.0
    for j in range(1, naxes + 1):
        m = row[j - 1]
        if m == 0.0:
            continue
        n = st.ctx.naxis[j - 1]
        crpix = _num(kw.get(f"CRPIX{j}")) or 0.0
        a, b = m * (0.5 - crpix), m * (n + 0.5 - crpix)
        lo += min(a, b)
        hi += max(a, b)
        if abs(m) * n > best_extent:
            best_j, best_extent = j, abs(m) * n
        sources.append(f"CRPIX{j}")
    step = abs(row[best_j - 1]) * unit_s
    sources.append(f"NAXIS{best_j}")
    return _Axis(i, best_j, st.ctx.naxis[best_j - 1], step, lo, hi, unit_s, base,
                 list(dict.fromkeys(sources)))


def _matrix_row(kw: dict[str, Any], i: int, naxes: int, sources: list[str]) -> list[float]:
    """Row i of the linear transformation (world units per pixel), as wcslib builds it.

    PCi_j (default: unit matrix) scaled by CDELTi (default 1); CDi_j only when
    no PCi_j is present (a row of CDi_j all absent falls back to CDELTi, like
    wcslib's unity rule for axes the CD matrix leaves out).
    """
    pc_any = cd_any = False
    for a in range(1, naxes + 1):
        for b in range(1, naxes + 1):
            if f"PC{a}_{b}" in kw:
                pc_any = True
            if f"CD{a}_{b}" in kw:
                cd_any = True
    cdelt = _num(kw.get(f"CDELT{i}"))
    if cdelt is not None:
        sources.append(f"CDELT{i}")
    if cd_any and not pc_any:
        row = [_num(kw.get(f"CD{i}_{j}")) or 0.0 for j in range(1, naxes + 1)]
        if any(row):
            sources.extend(f"CD{i}_{j}" for j in range(1, naxes + 1) if f"CD{i}_{j}" in kw)
            return row
    row = []
    for j in range(1, naxes + 1):
        pc = _num(kw.get(f"PC{i}_{j}"))
        if pc is not None:
            sources.append(f"PC{i}_{j}")
        else:
            pc = 1.0 if i == j else 0.0
        row.append((1.0 if cdelt is None else cdelt) * pc)
    return row


def _wcs_interval(st: _State, axis: _Axis | None) -> tuple[_T | None, _T | None] | None:
    """Absolute t_min/t_max from the time axis (only when no keyword gave them)."""
    if axis is None:
        return None
    if axis.ctype in ("MJD", "JD"):
        off = -_MJD_JD if axis.ctype == "JD" else 0.0
        timesys, slabel = st.src.get("TIMESYS")
        scale = st.scale_value(timesys, slabel)
        conv: Callable[[float], float] = lambda v: to_utc_mjd(v * axis.unit_s / _DAY + off, scale)
        note = _note(scale, f"time axis {axis.index} in {axis.ctype} (pixel edges)")
        sources = axis.sources
    else:
        frame = _frame(st, st.src)
        if frame is None:
            st.issue("no-time-reference", f"time axis CTYPE{axis.index} without MJDREF/JDREF/DATEREF: "
                     "no absolute times from the WCS", "t_min", "info")
            return None
        if axis.ctype not in ("TIME",):
            frame.scale = _SCALES.get(axis.ctype, frame.scale)
        conv = lambda v: _elapsed_to_utc(frame.ref, v * axis.unit_s, frame.scale)  # type: ignore[arg-type]
        note = f"MJD UTC; time axis {axis.index} (pixel edges) + {frame.note}"
        sources = [*axis.sources, *frame.sources]
    rule = "temporal.wcs"
    return (_T(conv(axis.lo), tuple(sources), rule, note),
            _T(conv(axis.hi), tuple(sources), rule, note))


# --- t_xel, t_resolution -----------------------------------------------------------------------


def _rows(ctx: HDUContext) -> tuple[int, str] | None:
    """Number of time samples of a table: NAXIS2, or the repeat of its TIME column if one row."""
    rows = ctx.naxis[1] if len(ctx.naxis) >= 2 else None
    if not isinstance(rows, int) or rows < 1:
        return None
    if rows == 1:
        for c in ctx.columns:
            if c.get("role") == "temporal":
                m = re.match(r"\s*([0-9]+)", c.get("tform") or "")
                if m and int(m.group(1)) > 1:
                    return int(m.group(1)), f"TFORM{c.get('n')}"
    return rows, "NAXIS2"


def _xel(st: _State, kind: str, axis: _Axis | None) -> tuple[int, tuple[str, ...], str, str] | None:
    out = st.out
    if kind == "events":
        return -1, ("EXTNAME" if _upper(st.ctx.extname) == "EVENTS" else "HDUCLAS1",), \
            "temporal.xel.events", "event list: not pixelated in time"
    if axis is not None:
        return axis.n, (f"NAXIS{axis.pixel_axis}", f"CTYPE{axis.index}"), "temporal.xel.wcs", \
            f"length of the time axis (CTYPE{axis.index} = {axis.ctype})"
    if kind == "lightcurve":
        rows = _rows(st.ctx)
        if rows is not None:
            return rows[0], (rows[1],), "temporal.xel.rows", "time samples: rows of the time series"
        return None
    if kind in ("image", "spectrum") and (out.has("t_min") or out.has("t_exptime")):
        return 1, ("NAXIS",), "temporal.xel.single", "no time axis: one time sample"
    return None


def _resolution(st: _State, kind: str, axis: _Axis | None, start: _T | None, end: _T | None,
                exposure: _Exposure | None, xel: tuple[int, tuple[str, ...], str, str] | None) -> None:
    out = st.out
    src = st.src
    span_s = (end.mjd - start.mjd) * _DAY if start is not None and end is not None else None
    if axis is not None:
        if axis.step_s <= 0:
            return
        keyword_span = span_s if start is not None and start.rule != "temporal.wcs" else None
        if keyword_span is not None and axis.n > 1 and keyword_span > 0:
            wcs_span = (axis.n - 1) * axis.step_s
            if abs(wcs_span - keyword_span) > 0.5 * max(wcs_span, keyword_span) + axis.step_s:
                st.issue("inconsistent-time-axis",
                         f"time axis {axis.index}: {axis.n} samples x {axis.step_s:g} s "
                         f"({wcs_span:g} s) but {'+'.join(start.sources)} .. "  # type: ignore[union-attr]
                         f"{'+'.join(end.sources)} span {keyword_span:g} s: the axis step "  # type: ignore[union-attr]
                         "is not used", "t_resolution")
                cadence = keyword_span / (axis.n - 1)
                out.set("t_resolution", cadence,
                        (*start.sources, *end.sources, f"NAXIS{axis.pixel_axis}"),  # type: ignore[union-attr]
                        "temporal.resolution.mean-cadence",
                        "mean cadence: (t_max - t_min) / (samples - 1)")
                return
        out.set("t_resolution", axis.step_s, axis.sources, "temporal.resolution.wcs",
                f"time step of WCS axis {axis.index} (s)")
        return
    if kind in ("events", "lightcurve"):
        found = _duration(st, src, "TIMEDEL") if src.get("TIMEDEL")[1] else None
        if found is not None and found[0] > 0:
            out.set("t_resolution", found[0], (found[1],), "temporal.resolution.timedel",
                    f"{found[1]}, {found[2]}")
            return
        if kind == "events":
            return
        cadence = _mean_cadence(st)
        if cadence is not None:
            out.set("t_resolution", cadence[0], cadence[1], "temporal.resolution.mean-cadence",
                    cadence[2])
            return
        found = _duration(st, src, "INT_TIME") if src.get("INT_TIME")[1] else None
        if found is not None and found[0] > 0:
            out.set("t_resolution", found[0], (found[1],), "temporal.resolution.int-time",
                    f"{found[1]}, {found[2]}: integration time per sample (no TIMEDEL)")
        return
    if xel is not None and xel[0] == 1 and exposure is not None and exposure.seconds > 0:
        out.set("t_resolution", exposure.seconds, exposure.sources, "temporal.resolution.exptime",
                "one exposure: the resolution is the exposure time")


def _mean_cadence(st: _State) -> tuple[float, tuple[str, ...], str] | None:
    """(max - min) / (samples - 1) of the first temporal column, in seconds."""
    rows = _rows(st.ctx)
    if rows is None or rows[0] < 2:
        return None
    for column in st.ctx.columns:
        if column.get("role") != "temporal":
            continue
        cmin, cmax = _num(column.get("min")), _num(column.get("max"))
        if cmin is None or cmax is None or cmax <= cmin:
            continue
        conv = _column_converter(st, st.src, column)
        if conv is None:
            continue
        step = (cmax - cmin) * conv[3] / (rows[0] - 1)
        return step, (f"column:{column.get('ttype')}", rows[1]), \
            "mean cadence: (column max - min) / (samples - 1)"
    return None
