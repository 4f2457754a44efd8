"""The search form as a query: parsed from the URL, turned into SQL and into ADQL.

One parsed :class:`Search` gives both the parameterised SQL the page runs and
the ADQL a TAP client (TOPCAT) would send to ``ivoa.obscore`` for the same
rows, so the "show as ADQL" button never drifts from what the page does.
Every value from the form reaches SQL as a bind parameter; only the names of
whitelisted columns (sort keys) are ever written into the statement text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .units import BAND_UNITS, RADIUS_UNITS, band_to_metres, parse_time

#: Product types of the form -> ObsCore dataproduct_type.
PRODUCT_TYPES = {"image": "image", "cube": "cube", "spectrum": "spectrum",
                 "timeseries": "timeseries", "event": "event"}
PAGE_SIZES = (10, 25, 100)
#: At most this many rows are shown or downloaded (as the current VizieR page).
ROW_CAP = 500
#: Columns the results may be sorted by (the only names ever put into SQL text).
SORTABLE = ("target_name", "source_catalogue", "s_ra", "s_dec", "em_min", "em_max",
            "t_min", "t_max", "facility_name", "dataproduct_type", "obs_publisher_did")
#: Catalogues of authors' submissions (web.submission): never in the public search.
SUBMISSION_PREFIX = "SUBMIT/"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_DEGREES = re.compile(rf"^\s*({_NUMBER})\s*[,\s]\s*({_NUMBER})\s*$")
_SEXAGESIMAL = re.compile(r"^[\s0-9:hdms°'\"+\-.,]+$")


class QueryError(ValueError):
    """A form value that cannot be used; the message says which field and why."""


@dataclass(frozen=True)
class Position:
    ra: float
    dec: float
    label: str  # what to show: the resolved name or the coordinates


@dataclass
class Search:
    """One search of the page, as the URL states it (the permalink)."""

    position: str = ""
    radius: float = 2.0
    radius_unit: str = "arcmin"
    band_min: float | None = None
    band_max: float | None = None
    band_unit: str = "nm"
    time_start: str = ""
    time_stop: str = ""
    catalogue: str = ""
    target: str = ""
    types: list[str] = field(default_factory=list)
    sort: str = "obs_publisher_did"
    order: str = "asc"
    page: int = 1
    size: int = 25
    errors: list[str] = field(default_factory=list)

    # -- parsing ----------------------------------------------------------------------------

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "Search":
        """The search a URL's query string describes; bad fields become ``errors``, not exceptions."""
        s = cls()
        def get(key: str) -> str:
            value = params.get(key)
            return value if isinstance(value, str) else ""
        s.position = get("pos").strip()[:200]
        s.radius = _number(s, "radius", get("radius"), s.radius)
        unit = get("radius_unit") or s.radius_unit
        if unit not in RADIUS_UNITS:
            s.errors.append(f"radius unit {unit!r}: use one of {', '.join(RADIUS_UNITS)}")
        else:
            s.radius_unit = unit
        if not (s.radius > 0):
            s.errors.append("radius must be positive")
        s.band_min = _number(s, "band min", get("band_min"), None)
        s.band_max = _number(s, "band max", get("band_max"), None)
        bunit = get("band_unit") or s.band_unit
        if bunit not in BAND_UNITS:
            s.errors.append(f"band unit {bunit!r}: use one of {', '.join(BAND_UNITS)}")
        else:
            s.band_unit = bunit
        s.time_start = get("t_start").strip()[:40]
        s.time_stop = get("t_stop").strip()[:40]
        s.catalogue = get("cat").strip()[:120]
        s.target = get("target").strip()[:120]
        types = params.getlist("type") if hasattr(params, "getlist") else (
            params.get("type") or [])
        if isinstance(types, str):
            types = [types]
        for t in types:
            if t in PRODUCT_TYPES and t not in s.types:
                s.types.append(t)
            elif t:
                s.errors.append(f"product type {t!r}: use one of {', '.join(PRODUCT_TYPES)}")
        sort = get("sort") or s.sort
        s.sort = sort if sort in SORTABLE else "obs_publisher_did"
        s.order = "desc" if get("order") == "desc" else "asc"
        size = int(_number(s, "page size", get("size"), 25) or 25)
        s.size = size if size in PAGE_SIZES else 25
        page = _number(s, "page", get("page"), 1) or 1
        s.page = max(1, min(int(page), math.ceil(ROW_CAP / s.size)))
        return s

    def params(self, **change: Any) -> list[tuple[str, str]]:
        """The query string of this search (with ``change`` applied): the permalink."""
        values: dict[str, Any] = {
            "pos": self.position, "radius": _fmt(self.radius) if self.position else "",
            "radius_unit": self.radius_unit if self.position else "",
            "band_min": _fmt(self.band_min), "band_max": _fmt(self.band_max),
            "band_unit": self.band_unit if (self.band_min is not None or self.band_max is not None) else "",
            "t_start": self.time_start, "t_stop": self.time_stop, "cat": self.catalogue,
            "target": self.target, "sort": self.sort if self.sort != "obs_publisher_did" else "",
            "order": self.order if self.order != "asc" else "",
            "size": str(self.size) if self.size != 25 else "",
            "page": str(self.page) if self.page != 1 else "",
        }
        values.update({k: ("" if v is None else str(v)) for k, v in change.items() if k != "type"})
        out = [(k, v) for k, v in values.items() if v]
        out += [("type", t) for t in change.get("type", self.types)]
        return out

    @property
    def is_empty(self) -> bool:
        return not (self.position or self.band_min is not None or self.band_max is not None
                    or self.time_start or self.time_stop or self.catalogue or self.target
                    or self.types)

    # -- building -----------------------------------------------------------------------------

    def radius_degrees(self) -> float:
        return self.radius * RADIUS_UNITS[self.radius_unit]

    def build(self, resolve: Callable[[str], Position]) -> "Built":
        """The WHERE clause with its parameters, and the ADQL equivalent.

        ``resolve`` turns the position field into coordinates (the name
        resolver); its QueryError lands in ``errors``.
        """
        sql: list[str] = []  # submissions are in their own database (web/area.py), never here
        adql: list[str] = []
        args: list[Any] = []
        pos: Position | None = None
        if self.position:
            try:
                pos = resolve(self.position)
            except QueryError as exc:
                self.errors.append(str(exc))
        if pos is not None:
            r = self.radius_degrees()
            # a row whose centre is in the cone (the GiST index obscore_spoint_gist, on the
            # expression Vollt emits) or whose footprint meets it (obscore_s_region_gist): an
            # image is found wherever in it the position falls; the planner ORs both indexes
            sql.append("(spoint(radians(o.s_ra), radians(o.s_dec)) <@ "
                       "scircle(spoint(radians(%s), radians(%s)), radians(%s)) "
                       "OR o.s_region && scircle(spoint(radians(%s), radians(%s)), radians(%s)))")
            args += [pos.ra, pos.dec, r, pos.ra, pos.dec, r]
            circle = f"CIRCLE('ICRS', {_fmt(pos.ra)}, {_fmt(pos.dec)}, {_fmt(r)})"
            adql.append(f"(1 = CONTAINS(POINT('ICRS', s_ra, s_dec), {circle}) "
                        f"OR 1 = INTERSECTS(s_region, {circle}))")
        if self.band_min is not None or self.band_max is not None:
            try:
                lo, hi = band_to_metres(self.band_min, self.band_max, self.band_unit)
            except ValueError as exc:
                self.errors.append(str(exc))
            else:
                if hi is not None:  # the row's band starts below the wanted maximum
                    sql.append("o.em_min <= %s")
                    args.append(hi)
                    adql.append(f"em_min <= {_fmt(hi)}")
                if lo is not None:
                    sql.append("o.em_max >= %s")
                    args.append(lo)
                    adql.append(f"em_max >= {_fmt(lo)}")
        for text, column, op, label in ((self.time_stop, "t_min", "<=", "time stop"),
                                         (self.time_start, "t_max", ">=", "time start")):
            if not text:
                continue
            try:
                mjd = parse_time(text)
            except ValueError as exc:
                self.errors.append(f"{label}: {exc}")
                continue
            sql.append(f"o.{column} {op} %s")
            args.append(mjd)
            adql.append(f"{column} {op} {_fmt(mjd)}")
        if self.catalogue:
            sql.append("o.source_catalogue LIKE %s")
            args.append(_like_prefix(self.catalogue))
            adql.append(f"source_catalogue LIKE {_adql_str(self.catalogue + '%')}")
        if self.target:
            pattern = "%" + _like_escape(self.target) + "%"
            sql.append("(o.target_name ILIKE %s OR o.obs_id ILIKE %s)")
            args += [pattern, pattern]
            p = _adql_str("%" + self.target + "%")
            adql.append(f"(target_name ILIKE {p} OR obs_id ILIKE {p})")
        if self.types:
            sql.append("o.dataproduct_type = ANY(%s)")
            args.append([PRODUCT_TYPES[t] for t in self.types])
            adql.append("dataproduct_type IN (" + ", ".join(
                _adql_str(PRODUCT_TYPES[t]) for t in self.types) + ")")
        order = f"o.{self.sort} {self.order.upper()} NULLS LAST"
        if self.sort != "obs_publisher_did":
            order += ", o.obs_publisher_did"
        where = " AND ".join(sql) or "true"
        adql_text = "SELECT TOP {} *\nFROM ivoa.obscore".format(ROW_CAP)
        if adql:
            adql_text += "\nWHERE " + "\n  AND ".join(adql)
        adql_text += f"\nORDER BY {self.sort} {self.order.upper()}"
        return Built(where, args, order, adql_text, pos)


@dataclass(frozen=True)
class Built:
    where: str  # SQL with %s placeholders; column names only from whitelists
    args: list[Any]
    order: str
    adql: str
    position: Position | None


def _number(s: Search, label: str, text: str, default: Any) -> Any:
    text = (text or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        s.errors.append(f"{label}: {text[:40]!r} is not a number")
        return default
    if not math.isfinite(value):
        s.errors.append(f"{label}: {text[:40]!r} is not a finite number")
        return default
    return value


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.12g}"


def _like_escape(text: str) -> str:
    """A literal for LIKE: its own % and _ and \\ match themselves (PostgreSQL's default escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_prefix(text: str) -> str:
    return _like_escape(text) + "%"


def _adql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parse_coordinates(text: str) -> Position | None:
    """Degrees ("83.63 22.01", "83.63, +22.01") or sexagesimal ("05:34:31.9 +22:00:52",
    "05h34m31.9s +22d00m52s"); None when the text is not coordinates (then it is a name)."""
    m = _DEGREES.match(text)
    if m:
        ra, dec = float(m.group(1)), float(m.group(2))
        if not (0 <= ra < 360 or ra == 360) or not (-90 <= dec <= 90):
            raise QueryError(f"position {text!r}: RA must be in [0, 360) and Dec in [-90, 90] degrees")
        return Position(ra % 360.0, dec, f"{ra:.6f} {dec:+.6f}")
    if not _SEXAGESIMAL.match(text) or not any(ch in text for ch in ":hdm° "):
        return None
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    try:
        c = SkyCoord(text.replace(",", " "), unit=(u.hourangle, u.deg), frame="icrs")
    except Exception as exc:  # astropy's message names the part it could not read
        raise QueryError(f"position {text!r}: not coordinates astropy can read ({exc})") from None
    return Position(float(c.ra.deg), float(c.dec.deg), c.to_string("hmsdms", precision=1))
