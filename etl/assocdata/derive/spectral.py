"""Spectral axis rules: em_min, em_max, em_xel, em_res_power, em_ucd.

One public function, :func:`derive_spectral`, called for the HDU that carries
a data product.  It tries the sources below in order and publishes the first
that describes the spectral axis (docs/derivation/spectral.md has the rule ids,
the switches and the documented choices):

1. the standard spectral WCS (FITS Paper III): ``spectral.wcs`` (linear axes
   read from the keywords), ``spectral.wcs.wcslib`` (non-linear algorithm
   codes, AIPS types and coupled axes, through :mod:`assocdata.wcscheck` and
   ``p2s`` only when the pre-check said 'ok');
2. house rules for non-standard spectra, each switchable: IRAF/ESO
   LINEAR/WAVELENGTH/LAMBDA axes, IRAF log-linear (DC-FLAG = 1), IRAF
   MULTISPEC, SDSS/LAMOST COEFF0/COEFF1, CLASS offset frequencies,
   VELOCITY/FREQUENCY axis names;
3. staged table columns with role 'spectral' (their min/max);
4. X-ray/gamma-ray: EBOUNDS of a sibling HDU, E_MIN/E_MAX keywords, TLMIN/TLMAX
   of the ENERGY column, ENERGY data-subspace keywords, and as a last resort
   a documented instrument band.

Values are vacuum wavelengths in metres.  Implausible results (not positive,
inverted, outside :data:`LAMBDA_MIN` .. :data:`LAMBDA_MAX`) are not published
and become issues.  The rules never raise: any failure becomes an issue.

Performance: a linear spectral axis (the vast majority) is computed from the
keywords exactly as wcslib does for a linear axis (CRVAL + M_ii (p - CRPIX),
PC/CD precedence as in wcsset); parsing a header with wcslib costs 0.2-2 ms,
so wcslib is used only where its algorithms are needed (non-linear codes such
as F2W, GRI, the AIPS conventions, or a spectral axis coupled to others).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .context import keyword_number, Derivation, HDUContext, RuleConfig

__all__ = ["derive_spectral", "LAMBDA_MIN", "LAMBDA_MAX", "air_to_vacuum"]

# -- constants (CODATA 2018, exact SI) ------------------------------------------------
C = 299_792_458.0               # m/s
H = 6.62607015e-34              # J s
EV = 1.602176634e-19            # J
HC = H * C                      # J m
#: Plausible vacuum wavelengths (m): 1e-22 m is 12 PeV (beyond LHAASO), 1e3 m is 300 kHz.
LAMBDA_MIN = 1e-22
LAMBDA_MAX = 1e3
#: Longest span (hi/lo) of one MULTISPEC spectrum (an order or a fibre) that is believed.
MULTISPEC_MAX_SPAN = 20.0

# -- rule ids ---------------------------------------------------------------------------
R_WCS = "spectral.wcs"
R_WCSLIB = "spectral.wcs.wcslib"
R_LINEAR = "spectral.house.linear-units"
R_LOGLIN = "spectral.house.iraf-log-linear"
R_MULTISPEC = "spectral.house.multispec"
R_SDSS = "spectral.house.sdss-coeff"
R_CLASS = "spectral.house.class-offset-frequency"
R_NAMED = "spectral.house.axis-name"
R_REST = "spectral.house.rest-frame-axis"
R_COLUMN = "spectral.column"
R_EBOUNDS = "spectral.xray.ebounds"
R_EKEYS = "spectral.xray.energy-keywords"
R_TLM = "spectral.xray.tlmin-tlmax"
R_DSS = "spectral.xray.data-subspace"
R_BAND = "spectral.xray.instrument-band"
R_RESKEY = "spectral.res-power.keyword"

#: Standard spectral type codes (Paper III table 1) -> kind of the native coordinate.
_STD_KIND = {
    "FREQ": "frequency", "ENER": "energy", "WAVN": "wavenumber", "VRAD": "velocity",
    "WAVE": "length", "VOPT": "velocity", "ZOPT": "dimensionless", "AWAV": "length",
    "VELO": "velocity", "BETA": "dimensionless",
}
_STD_UCD = {
    "FREQ": "em.freq", "ENER": "em.energy", "WAVN": "em.wavenumber", "WAVE": "em.wl",
    "AWAV": "em.wl", "VRAD": "spect.dopplerVeloc.radio", "VOPT": "spect.dopplerVeloc.opt",
    "VELO": "spect.dopplerVeloc", "BETA": "spect.dopplerVeloc", "ZOPT": "src.redshift",
    "FELO": "spect.dopplerVeloc.opt",
}
_KIND_UCD = {"length": "em.wl", "frequency": "em.freq", "energy": "em.energy",
             "wavenumber": "em.wavenumber", "velocity": "spect.dopplerVeloc.radio"}
_ALGORITHMS = frozenset({"F2W", "F2V", "F2A", "W2F", "W2V", "W2A", "V2F", "V2W", "V2A",
                         "A2F", "A2W", "A2V", "LOG", "GRI", "GRA", "TAB"})
_RES_KEYWORDS = ("SPEC_RES", "SPECRES", "RESPOWER", "RES_POWER")
_LOG_NAMES = frozenset({"LOGLAM", "LOGLAMBDA", "LOGWAVE", "LOGWAVELENGTH", "LOG_LAMBDA"})
_WAVE_NAMES = frozenset({"WAVE", "WAVELENGTH", "LAMBDA", "WAVELEN", "WAVEL", "LAM"})
_FREQ_NAMES = frozenset({"FREQ", "FREQUENCY"})
_ENERGY_NAMES = frozenset({"ENERGY", "ENERG_LO", "ENERG_HI", "E_MIN", "E_MAX", "ENERGIES"})
_WAVN_NAMES = frozenset({"WAVN", "WAVENUMBER"})
_SPECTRUM_HINTS = ("DISPAXIS", "DC-FLAG", "WAVECAL", "NORDERS", "SPEC_RES", "SPECRES")

#: Nominal instrument bands (keV) for energy-less X-ray/gamma-ray products: the last resort.
#: (telescope, instrument prefix or None, grating arm or None) -> (lo keV, hi keV, label)
_BANDS: tuple[tuple[str, str | None, str | None, float, float, str], ...] = (
    ("CHANDRA", None, "HEG", 0.8, 10.0, "Chandra HETG/HEG"),
    ("CHANDRA", None, "MEG", 0.4, 5.0, "Chandra HETG/MEG"),
    ("CHANDRA", None, "HETG", 0.4, 10.0, "Chandra HETG"),
    ("CHANDRA", None, "LEG", 0.07, 10.0, "Chandra LETG"),
    ("CHANDRA", None, "LETG", 0.07, 10.0, "Chandra LETG"),
    ("CHANDRA", "ACIS", None, 0.3, 10.0, "Chandra ACIS"),
    ("CHANDRA", "HRC", None, 0.1, 10.0, "Chandra HRC"),
    ("XMM", "RGS", None, 0.33, 2.5, "XMM-Newton RGS"),
    ("XMM", "EMOS", None, 0.15, 12.0, "XMM-Newton EPIC MOS"),
    ("XMM", "EPN", None, 0.15, 12.0, "XMM-Newton EPIC pn"),
    ("XMM", "EPIC", None, 0.15, 12.0, "XMM-Newton EPIC"),
    ("SWIFT", "XRT", None, 0.2, 10.0, "Swift XRT"),
    ("SWIFT", "BAT", None, 15.0, 150.0, "Swift BAT"),
    ("NUSTAR", None, None, 3.0, 79.0, "NuSTAR FPM"),
    ("ROSAT", None, None, 0.1, 2.4, "ROSAT PSPC/HRI"),
    ("SUZAKU", "XIS", None, 0.2, 12.0, "Suzaku XIS"),
    ("NICER", None, None, 0.2, 12.0, "NICER XTI"),
    ("SRG", "EROSITA", None, 0.2, 10.0, "SRG eROSITA"),
    ("GLAST", "LAT", None, 2e4, 3e8, "Fermi LAT"),
    ("FERMI", "LAT", None, 2e4, 3e8, "Fermi LAT"),
    ("GLAST", "GBM", None, 8.0, 4e4, "Fermi GBM"),
    ("FERMI", "GBM", None, 8.0, 4e4, "Fermi GBM"),
    ("HESS", None, None, 3e7, 1e11, "H.E.S.S."),
    ("MAGIC", None, None, 5e7, 5e10, "MAGIC"),
    ("VERITAS", None, None, 8.5e7, 3e10, "VERITAS"),
    ("HAWC", None, None, 3e8, 1e11, "HAWC"),
)
_TELESCOPE_ALIASES = {"XMM-NEWTON": "XMM", "H.E.S.S.": "HESS", "H.E.S.S": "HESS",
                      "FERMI-LAT": "FERMI", "AXAF": "CHANDRA", "ROSAT": "ROSAT", "SRG/EROSITA": "SRG"}
#: Missions whose energy keywords/columns without a unit are in this unit (documented).
_MISSION_ENERGY_UNIT = {"CHANDRA": "eV", "XMM": "eV", "GLAST": "MeV", "FERMI": "MeV",
                        "HESS": "TeV", "MAGIC": "TeV", "VERITAS": "TeV", "HAWC": "TeV",
                        "SWIFT": "keV", "NUSTAR": "keV", "ROSAT": "keV", "SUZAKU": "keV"}

_BRACKET_UNIT = re.compile(r"[\[(]\s*([^\])]+?)\s*[\])]")
_WAT_ATTR = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|(\S+))')
_SPEC_ATTR = re.compile(r'spec(\d+)\s*=\s*"([^"]*)"')
_REPEAT = re.compile(r"\s*(\d*)\s*([A-Za-z])")


class _Skip(Exception):
    """A source does not apply or failed: (issue code, message) or silent."""

    def __init__(self, code: str | None = None, message: str = "", severity: str = "warning"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.severity = severity


@dataclass(slots=True)
class _Axis:
    """What one rule found."""

    rule: str
    sources: list[str]
    ucd: str | None = None
    xel: int | None = None
    lo: float | None = None          # metres
    hi: float | None = None          # metres
    note: str | None = None
    res_power: float | None = None
    res_note: str | None = None
    #: why the range is deliberately not published (e.g. rest frame), or None
    withheld: str | None = None
    extra_sources: list[str] = field(default_factory=list)


# ======================================================================================
# Public entry point
# ======================================================================================

def derive_spectral(ctx: HDUContext, out: Derivation, config: RuleConfig,
                    siblings: Sequence[HDUContext] = ()) -> None:
    """Set em_min/em_max/em_xel/em_res_power/em_ucd of one product HDU (first rule wins).

    ``siblings``: the file's other HDUs (for an EBOUNDS extension).  HDUs without
    spectral information get nothing (no issue either, except when the header
    hints at an undescribed spectrum).  Never raises.
    """
    try:
        axis = _find_axis(ctx, out, config, siblings)
        if axis is not None:
            _publish(ctx, out, axis)
    except Exception as exc:  # noqa: BLE001 - a rule bug must become an issue, not a lost row
        out.issue("spectral-rule-error", f"spectral rules failed: {type(exc).__name__}: {exc}",
                  None, "error")


def _find_axis(ctx: HDUContext, out: Derivation, config: RuleConfig,
               siblings: Sequence[HDUContext]) -> _Axis | None:
    if ctx.is_table and ctx.keywords.get("ZIMAGE") is not True:
        return _table_axis(ctx, out, config, siblings)
    if ctx.is_table:  # a tile-compressed image: its image keywords describe the image
        return _image_axis(ctx, out, config, siblings)
    if ctx.xtension is not None and ctx.xtension.strip().upper() not in ("IMAGE", "IUEIMAGE"):
        return None
    axis = _image_axis(ctx, out, config, siblings)
    if axis is None and _looks_like_spectrum(ctx):
        out.issue("spectral-axis-not-described",
                  "the header suggests a spectrum (e.g. DISPAXIS, WAVECAL, XUNITS) but describes "
                  "no spectral axis (no spectral CTYPE, WAT or COEFF keywords): no em_* published",
                  "em_min", "info")
    return axis


# ======================================================================================
# Publishing
# ======================================================================================

def _publish(ctx: HDUContext, out: Derivation, ax: _Axis) -> None:
    sources = ax.sources + ax.extra_sources
    published_range = False
    if ax.withheld is None and ax.lo is not None and ax.hi is not None:
        lo, hi = ax.lo, ax.hi
        problem = _implausible(lo, hi)
        if problem:
            out.issue("implausible-spectral-range",
                      f"{ax.rule}: spectral range {lo!r} .. {hi!r} m {problem}: em_min/em_max "
                      "not published", "em_min", "warning")
        else:
            out.set("em_min", lo, sources, ax.rule, ax.note)
            out.set("em_max", hi, sources, ax.rule, ax.note)
            published_range = True
    if ax.xel is not None:
        out.set("em_xel", int(ax.xel), ax.sources, ax.rule)
    if ax.ucd:
        out.set("em_ucd", ax.ucd, ax.sources[:1] or ax.sources, ax.rule, "native spectral axis")
    # resolving power: a keyword that states it wins over the sampling estimate
    value, key = ctx.get(*_RES_KEYWORDS)
    r = _number(value)
    if r is not None and r > 1:
        out.set("em_res_power", r, (key,), R_RESKEY, "resolving power stated by the header")
        return
    if value is not None:
        out.issue("invalid-resolving-power", f"{key} = {value!r} is not a resolving power > 1",
                  "em_res_power", "info")
    if ax.res_power is not None and (published_range or ax.withheld == "rest-frame-spectral-axis") \
            and math.isfinite(ax.res_power) and ax.res_power > 1:
        out.set("em_res_power", float(ax.res_power), sources, ax.rule, ax.res_note)


def _implausible(lo: float, hi: float) -> str | None:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "is not finite"
    if lo <= 0:
        return "is not positive"
    if hi < lo:
        return "is inverted"
    if lo < LAMBDA_MIN or hi > LAMBDA_MAX:
        return f"is outside {LAMBDA_MIN:g} .. {LAMBDA_MAX:g} m"
    return None


def _issue(out: Derivation, exc: _Skip) -> None:
    if exc.code:
        out.issue(exc.code, exc.message, "em_min", exc.severity)


# ======================================================================================
# Units
# ======================================================================================

# factor to SI of each kind: m, Hz, J, 1/m, m/s
_LENGTH = {"m": 1.0, "cm": 1e-2, "mm": 1e-3, "um": 1e-6, "nm": 1e-9, "pm": 1e-12, "km": 1e3,
           "angstrom": 1e-10, "ang": 1e-10, "aa": 1e-10, "\u00c5": 1e-10, "0.1nm": 1e-10,
           "micron": 1e-6, "micrometer": 1e-6, "micrometre": 1e-6, "mum": 1e-6, "\u00b5m": 1e-6,
           "meter": 1.0, "metre": 1.0, "nanometer": 1e-9, "nanometre": 1e-9,
           "millimeter": 1e-3, "centimeter": 1e-2}
_FREQUENCY = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9, "THz": 1e12}
_ENERGY = {"eV": EV, "keV": 1e3 * EV, "MeV": 1e6 * EV, "GeV": 1e9 * EV, "TeV": 1e12 * EV,
           "PeV": 1e15 * EV, "J": 1.0, "erg": 1e-7}
_VELOCITY = {"m/s": 1.0, "ms-1": 1.0, "m.s-1": 1.0, "km/s": 1e3, "kms-1": 1e3, "km.s-1": 1e3,
             "cm/s": 1e-2, "cms-1": 1e-2}
_WAVENUMBER = {"/m": 1.0, "m-1": 1.0, "1/m": 1.0, "/cm": 100.0, "cm-1": 100.0, "1/cm": 100.0}
# Upper-case spellings of old headers: the usual meaning (MHZ is MHz, not mHz).
_UPPER = {"HZ": ("frequency", 1.0), "KHZ": ("frequency", 1e3), "MHZ": ("frequency", 1e6),
          "GHZ": ("frequency", 1e9), "THZ": ("frequency", 1e12),
          "EV": ("energy", EV), "KEV": ("energy", 1e3 * EV), "MEV": ("energy", 1e6 * EV),
          "GEV": ("energy", 1e9 * EV), "TEV": ("energy", 1e12 * EV)}


@lru_cache(maxsize=512)
def _unit(text: str | None) -> tuple[str, float] | None:
    """(kind, factor to SI) of a unit string, or None if unknown or not spectral.

    Kinds: 'length' (m), 'frequency' (Hz), 'energy' (J), 'wavenumber' (1/m),
    'velocity' (m/s), 'dimensionless'.  Lenient: IRAF plurals ('angstroms'),
    case variants of old headers ('KM/S', 'MHZ'); astropy.units for the rest.
    """
    if text is None:
        return None
    t = text.strip()
    if not t:
        return None
    compact = t.replace(" ", "").replace("**", "").replace("^", "")
    for table, kind in ((_FREQUENCY, "frequency"), (_ENERGY, "energy")):
        if compact in table:
            return kind, table[compact]
    low = compact.lower()
    for table, kind in ((_VELOCITY, "velocity"), (_WAVENUMBER, "wavenumber")):
        if low in table:
            return kind, table[low]
    word = low[:-1] if low.endswith("s") and len(low) > 3 and low[:-1] in _LENGTH else low
    if word in _LENGTH:
        return "length", _LENGTH[word]
    if compact.upper() in _UPPER and compact.upper() == compact:
        return _UPPER[compact.upper()]
    if low in ("", "1", "none", "dimensionless"):
        return "dimensionless", 1.0
    return _astropy_unit(t)


def _astropy_unit(text: str) -> tuple[str, float] | None:
    import warnings

    from astropy import units as u

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fmt in ("fits", None):
            try:
                unit = u.Unit(text, format=fmt, parse_strict="silent") if fmt else \
                    u.Unit(text, parse_strict="silent")
            except Exception:  # noqa: BLE001 - any odd string
                continue
            if isinstance(unit, u.UnrecognizedUnit):
                continue
            for kind, si in (("length", u.m), ("frequency", u.Hz), ("energy", u.J),
                             ("wavenumber", u.m ** -1), ("velocity", u.m / u.s)):
                try:
                    return kind, float(unit.to(si))
                except Exception:  # noqa: BLE001 - not convertible
                    continue
            return None
    return None


def _to_metres(kind: str, value: float) -> float:
    """A native value in SI (m, Hz, J, 1/m) -> vacuum wavelength (m); nan if impossible."""
    if kind == "length":
        return value
    if value == 0:
        return math.nan
    if kind == "frequency":
        return C / value
    if kind == "energy":
        return HC / value
    if kind == "wavenumber":
        return 1.0 / value
    return math.nan


def air_to_vacuum(awav: float) -> float:
    """Air -> vacuum wavelength (m), the formula of wcslib's awavwave() (Greisen et al. 2006, eq. 65)."""
    if awav == 0:
        return math.nan
    s = (1.0 / awav) ** 2
    n = 2.554e8 / (0.41e14 - s) + 294.981e8 / (1.46e14 - s) + 1.000064328
    return awav * n


def _doppler_to_metres(code: str, v: float, restfrq: float, restwav: float) -> float:
    """A velocity (m/s) or redshift on a spectral axis -> vacuum wavelength (m)."""
    if restwav <= 0 and restfrq > 0:
        restwav = C / restfrq
    if restwav <= 0:
        return math.nan
    if code == "VRAD":
        f = 1.0 - v / C                         # nu = nu0 (1 - v/c)
        return restwav / f if f > 0 else math.nan
    if code in ("VOPT", "FELO"):
        return restwav * (1.0 + v / C)          # lambda = lambda0 (1 + v/c)
    if code == "ZOPT":
        return restwav * (1.0 + v)
    beta = v / C if code == "VELO" else v
    if not -1.0 < beta < 1.0:
        return math.nan
    return restwav * math.sqrt((1.0 + beta) / (1.0 - beta))


# ======================================================================================
# Small helpers
# ======================================================================================

_number = keyword_number  # one implementation: derive.context

def _int(value: Any) -> int | None:
    n = _number(value)
    return int(n) if n is not None and n == int(n) else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _kw(ctx: HDUContext, name: str) -> Any:
    """A keyword of this HDU only (axis keywords are never inherited)."""
    value = ctx.keywords.get(name)
    return None if value == "" else value


def _wat(ctx: HDUContext, axis: int) -> tuple[str, list[str]]:
    """The IRAF WATn_mmm string of an axis (values padded to 68 characters, as IRAF writes them)."""
    parts: list[str] = []
    keys: list[str] = []
    k = 1
    kw = ctx.keywords
    while True:
        key = f"WAT{axis}_{k:03d}"
        value = kw.get(key)
        if value is None:
            break
        parts.append(str(value).ljust(68))
        keys.append(key)
        k += 1
    return "".join(parts).strip(), keys


def _wat_attrs(text: str) -> dict[str, str]:
    return {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
            for m in _WAT_ATTR.finditer(text)}


def _key_range(keys: list[str]) -> list[str]:
    if len(keys) <= 2:
        return keys
    return [f"{keys[0]}..{keys[-1]}"]


def _rest(ctx: HDUContext) -> tuple[float, float, list[str]]:
    """(rest frequency Hz, rest wavelength m, keywords read) of the primary WCS (0 if absent)."""
    f, fk = ctx.get("RESTFRQ", "RESTFREQ")
    w, wk = ctx.get("RESTWAV")
    if w is None and "CTYPE1E" not in ctx.keywords and "CTYPE2E" not in ctx.keywords:
        w, wk = ctx.get("RESTWAVE")  # non-standard alias, unless it is RESTWAV of alternate E
    fv, wv = _number(f) or 0.0, _number(w) or 0.0
    keys = ([fk] if fv > 0 else []) + ([wk] if wv > 0 and fv <= 0 else [])
    return max(fv, 0.0), max(wv, 0.0), keys  # type: ignore[list-item]


def _telescope(ctx: HDUContext) -> tuple[str | None, str | None]:
    tel, _ = ctx.get("TELESCOP")
    t = _text(tel)
    if t is None:
        mission, _ = ctx.get("MISSION")
        t = _text(mission)
    if t is None:
        return None, None
    u = t.upper()
    u = _TELESCOPE_ALIASES.get(u, u)
    return u, t


# ======================================================================================
# Images: the spectral axis of the WCS, standard then house rules
# ======================================================================================

@dataclass(slots=True)
class _Ctype:
    axis: int
    raw: str
    upper: str
    category: str   # std | multispec | linear | wavelength | rest | velocity | frequency | energy
    code: str = ""
    algo: str = ""
    bracket: str | None = None


def _classify(axis: int, raw: str) -> _Ctype | None:
    u = raw.strip().upper()
    if not u:
        return None
    head = u[:4]
    if head in _STD_KIND and (len(u) == 4 or (len(u) == 8 and u[4] == "-")):
        return _Ctype(axis, raw, u, "std", head, u[5:8].strip("-"))
    if head == "FELO" and len(u) == 8 and u[4] == "-":
        return _Ctype(axis, raw, u, "std", "FELO", u[5:8])
    if u.startswith("MULTISPE"):
        return _Ctype(axis, raw, u, "multispec")
    m = _BRACKET_UNIT.search(raw)
    bracket = m.group(1) if m else None
    base = _BRACKET_UNIT.sub("", u).strip().replace("_", "").replace("-", "")
    if base == "LINEAR":
        return _Ctype(axis, raw, u, "linear", bracket=bracket)
    if "REST" in base and (base.startswith(("WAVE", "LAMBDA", "FREQ"))):
        return _Ctype(axis, raw, u, "rest", bracket=bracket)
    if base in ("WAVELENGTH", "LAMBDA", "WAVELEN", "WAVEL", "WAVE", "AWAV", "WAVELENGTHS"):
        return _Ctype(axis, raw, u, "wavelength", bracket=bracket)
    if base in ("VELOCITY", "VELO", "VELOLSR", "VELOCITYLSR"):
        return _Ctype(axis, raw, u, "velocity", bracket=bracket)
    if base in ("FREQUENCY", "FREQ"):
        return _Ctype(axis, raw, u, "frequency", bracket=bracket)
    if base in ("ENERGY", "EBIN", "ENERGIES"):
        return _Ctype(axis, raw, u, "energy", bracket=bracket)
    return None


def _n_axes(ctx: HDUContext) -> int:
    kw = ctx.keywords
    if kw.get("ZIMAGE") is True:
        n = max(_int(kw.get("ZNAXIS")) or 0, _int(kw.get("WCSAXES")) or 0)
    else:
        n = max(_int(kw.get("NAXIS")) or 0, _int(kw.get("WCSAXES")) or 0, len(ctx.naxis))
    return min(n, 99)


def _axis_length(ctx: HDUContext, i: int) -> int:
    if ctx.keywords.get("ZIMAGE") is True:
        n = _int(ctx.keywords.get(f"ZNAXIS{i}"))
        return n if n is not None else 1
    if i <= len(ctx.naxis):
        return int(ctx.naxis[i - 1])
    n = _int(ctx.keywords.get(f"NAXIS{i}"))
    return n if n is not None else 1


def _image_axis(ctx: HDUContext, out: Derivation, config: RuleConfig,
                siblings: Sequence[HDUContext]) -> _Axis | None:
    n = _n_axes(ctx)
    kw = ctx.keywords
    ctypes: list[_Ctype] = []
    for i in range(1, n + 1):
        raw = kw.get(f"CTYPE{i}")
        if isinstance(raw, str):
            c = _classify(i, raw)
            if c is not None:
                ctypes.append(c)
    by_cat: dict[str, _Ctype] = {}
    for c in ctypes:
        by_cat.setdefault(c.category, c)

    # 1. the standard spectral WCS
    std = by_cat.get("std")
    if std is not None:
        try:
            return _standard_axis(ctx, out, config, std)
        except _Skip as exc:
            # a standard axis is never second-guessed by a house rule: report and stop
            _issue(out, exc)
            return _withheld_axis(ctx, std, exc) if exc.code in _KEEP_AXIS else None
    # 2. house rules
    if "multispec" in by_cat and config.house_multispec:
        try:
            return _multispec_axis(ctx, out, by_cat["multispec"])
        except _Skip as exc:
            _issue(out, exc)
            return None
    coeff = _sdss_applies(ctx, by_cat)
    if coeff and config.house_sdss_coeff:
        try:
            return _sdss_axis(ctx, out)
        except _Skip as exc:
            _issue(out, exc)
    lin = _linear_candidate(ctx, ctypes, std)
    if lin is not None:
        log = _int(kw.get("DC-FLAG")) == 1
        if (config.house_iraf_log_linear if log else config.house_linear_units):
            try:
                return _house_linear_axis(ctx, out, config, lin, log)
            except _Skip as exc:
                _issue(out, exc)
                return None
    rest = by_cat.get("rest")
    if rest is not None:
        return _rest_named_axis(ctx, out, config, rest)
    for cat in ("velocity", "frequency"):
        c = by_cat.get(cat)
        if c is not None and config.house_linear_units:
            try:
                return _named_axis(ctx, out, c)
            except _Skip as exc:
                _issue(out, exc)
                return None
    # 3. energy axes and energy information of gamma/X-ray images
    return _image_energy_axis(ctx, out, config, siblings, by_cat.get("energy"))


#: Failures after which the axis itself is still published (em_xel, em_ucd), not its range.
_KEEP_AXIS = frozenset({"velocity-without-rest-frequency", "rest-frame-spectral-axis",
                        "spectral-wcs-unavailable", "spectral-tab-unavailable",
                        "spectral-axis-incomplete", "coupled-spectral-axis",
                        "unknown-spectral-unit"})


def _withheld_axis(ctx: HDUContext, c: _Ctype, exc: _Skip) -> _Axis:
    return _Axis(R_WCS, [f"CTYPE{c.axis}", f"NAXIS{c.axis}"], _STD_UCD.get(c.code),
                 _axis_length(ctx, c.axis), withheld=exc.code)


# -- the linear part of one axis ----------------------------------------------------------

@dataclass(slots=True)
class _Linear:
    crval: float
    crpix: float
    scale: float          # M_ii: the pixel -> intermediate scale of the axis
    n: int
    sources: list[str]

    def at(self, p: float) -> float:
        return self.crval + self.scale * (p - self.crpix)

    def probes(self) -> tuple[float, float, float, float, float]:
        """Edge, edge, centre-0.5, centre, centre+0.5 (1-based pixel coordinates)."""
        c = (self.n + 1) / 2.0
        return 0.5, self.n + 0.5, c - 0.5, c, c + 0.5


def _linear(ctx: HDUContext, i: int, *, require_crval: bool = True) -> _Linear:
    """CRVAL/CRPIX/M_ii of axis i as wcsset() reads them; raises _Skip if coupled or incomplete.

    PCi_j present anywhere -> M = CDELT x PC; else CDi_j anywhere -> M = CD (CDELT
    ignored; an all-zero row gets CD_ii = 1, as wcslib's cdfix); else M = CDELT.
    """
    kw = ctx.keywords
    n_ax = max(_n_axes(ctx), i)
    crval = _number(kw.get(f"CRVAL{i}"))
    if crval is None:
        if require_crval:
            raise _Skip("spectral-axis-incomplete",
                        f"CTYPE{i} = {kw.get(f'CTYPE{i}')!r} has no CRVAL{i}: the spectral "
                        "coordinates are not defined")
        crval = 0.0
    crpix = _number(kw.get(f"CRPIX{i}"))
    sources = ([f"CTYPE{i}"] if f"CTYPE{i}" in kw else []) + [f"CRVAL{i}"]
    if crpix is not None:
        sources.append(f"CRPIX{i}")
    else:
        crpix = 0.0
    axes = range(1, n_ax + 1)
    pc_mode = any(f"PC{a}_{b}" in kw for a in axes for b in axes)
    cd_mode = not pc_mode and any(f"CD{a}_{b}" in kw for a in axes for b in axes)
    if pc_mode or cd_mode:
        prefix = "PC" if pc_mode else "CD"
        row = {j: _number(kw.get(f"{prefix}{i}_{j}")) for j in axes}
        for j, v in row.items():
            if j != i and v:
                raise _Skip("coupled-spectral-axis",
                            f"{prefix}{i}_{j} = {v!r} couples the spectral axis {i} to axis {j}")
        diag = row.get(i)
        if pc_mode:
            cdelt = _number(kw.get(f"CDELT{i}"))
            scale = (1.0 if cdelt is None else cdelt) * (1.0 if diag is None else diag)
            sources += [k for k in (f"CDELT{i}", f"PC{i}_{i}") if k in kw]
        else:
            scale = diag if diag else (1.0 if not any(row.values()) else 0.0)
            sources.append(f"CD{i}_{i}")
    else:
        cdelt = _number(kw.get(f"CDELT{i}"))
        if cdelt is None:
            raise _Skip("spectral-axis-incomplete",
                        f"spectral axis {i} has neither CDELT{i} nor CD{i}_{i}/PC{i}_{i}: the "
                        "pixel spacing is not defined")
        scale = cdelt
        sources.append(f"CDELT{i}")
    if scale == 0:
        raise _Skip("spectral-axis-incomplete", f"spectral axis {i} has a zero pixel spacing")
    n = _axis_length(ctx, i)
    sources.append(f"NAXIS{i}")
    return _Linear(crval, crpix, scale, n, sources)


def _res_from(values_m: Sequence[float]) -> float | None:
    """Nyquist-limited resolving power lambda_c / (2 |d lambda / d pixel|) from centre probes."""
    lm, lc, lp = values_m
    d = abs(lp - lm)
    if not (math.isfinite(d) and d > 0 and math.isfinite(lc) and lc > 0):
        return None
    return lc / (2.0 * d)


_RES_NOTE = ("Nyquist-limited estimate lambda/(2 dlambda) at the axis centre (2 pixels per "
             "resolution element)")


def _specsys_rest(ctx: HDUContext, code: str) -> tuple[bool, float | None, list[str]]:
    """(declared in the source rest frame?, ZSOURCE, keywords read)."""
    specsys, sk = ctx.get("SPECSYS")
    s = _text(specsys)
    if s is None:
        return False, None, []
    su = s.upper()
    if su == "SOURCE" or (su in ("REST", "RESTFRAME", "REST-FRAME") and code not in
                          ("VRAD", "VOPT", "VELO", "BETA", "FELO", "ZOPT")):
        z, zk = ctx.get("ZSOURCE")
        return True, _number(z), [k for k in (sk, zk) if k]
    return False, None, []


def _standard_axis(ctx: HDUContext, out: Derivation, config: RuleConfig, c: _Ctype) -> _Axis:
    code, algo, i = c.code, c.algo, c.axis
    if algo and algo not in _ALGORITHMS:
        algo_ok = False  # AIPS-style suffix (FREQ-LSR, VELO-HEL): wcslib's spcfix translates it
    else:
        algo_ok = True
    if algo == "TAB":
        raise _Skip("spectral-tab-unavailable",
                    f"CTYPE{i} = {c.raw!r}: a -TAB spectral axis needs its lookup table, which "
                    "is not staged: em_min/em_max not derived")
    if code == "FELO" or not algo_ok or algo not in ("", "LOG"):
        return _wcslib_axis(ctx, out, config, c)
    try:
        lin = _linear(ctx, i)
    except _Skip as exc:
        if exc.code == "coupled-spectral-axis" and ctx.wcs_status == "ok":
            return _wcslib_axis(ctx, out, config, c)
        raise
    kind = _STD_KIND[code]
    cunit = _text(_kw(ctx, f"CUNIT{i}"))
    sources = list(lin.sources)
    factor = 1.0
    note_unit = None
    if kind != "dimensionless":
        if cunit is not None:
            u = _unit(cunit)
            if u is None or u[0] != kind:
                raise _Skip("unknown-spectral-unit",
                            f"CUNIT{i} = {cunit!r} is not a {kind} unit for CTYPE{i} = {c.raw!r}")
            factor = u[1]
            sources.append(f"CUNIT{i}")
        else:
            note_unit = f"CUNIT{i} absent: SI default (FITS Paper III)"
    raw = lin.probes()
    if algo == "LOG":
        if lin.crval <= 0:
            raise _Skip("implausible-spectral-range", f"CTYPE{i} = {c.raw!r} with CRVAL{i} <= 0")
        native = [lin.crval * math.exp((lin.at(p) - lin.crval) / lin.crval) for p in raw]
    else:
        native = [lin.at(p) for p in raw]
    si = [v * factor for v in native]

    # CLASS: FREQ axis written as an offset from the rest frequency (CRVAL = 0)
    rule = R_WCS
    notes: list[str] = []
    restfrq, restwav, rest_keys = _rest(ctx)
    if code == "FREQ" and lin.crval == 0 and min(si[0], si[1]) <= 0 and restfrq > 0 and \
            getattr(config, "house_class_offset_frequency", True):
        si = [restfrq + v for v in si]
        rule = R_CLASS
        sources += rest_keys
        notes.append("FREQ axis with CRVAL = 0 read as an offset from the rest frequency "
                      "(CLASS convention)")
    if kind == "velocity" or kind == "dimensionless":
        if restfrq <= 0 and restwav <= 0:
            raise _Skip("velocity-without-rest-frequency",
                        f"CTYPE{i} = {c.raw!r} is a Doppler axis but RESTFRQ/RESTWAV are absent: "
                        "no wavelengths")
        metres = [_doppler_to_metres(code, v, restfrq, restwav) for v in si]
        sources += rest_keys
        notes.append(f"{code} converted with the rest {'frequency' if restfrq > 0 else 'wavelength'}")
    else:
        metres = [_to_metres(kind, v) for v in si]
        if code == "AWAV":
            metres = [air_to_vacuum(v) for v in metres]
            notes.append("air wavelengths converted to vacuum (wcslib awavwave formula)")
    if note_unit:
        notes.append(note_unit)
        if kind == "length" and (_implausible(min(metres[:2]), max(metres[:2])) is not None):
            # WAVE/AWAV without CUNIT and absurd in metres (e.g. 4000 m): house unit rule
            if config.house_linear_units and cunit is None:
                return _house_linear_axis(ctx, out, config, c, False, standard_code=code)
    return _finish_axis(ctx, out, rule, sources, _STD_UCD.get(code), lin.n, metres, notes, code)


def _finish_axis(ctx: HDUContext, out: Derivation, rule: str, sources: list[str],
                 ucd: str | None, n: int, metres: list[float], notes: list[str],
                 code: str) -> _Axis:
    """The axis from its five probes (edge, edge, centre - 0.5, centre, centre + 0.5) in metres."""
    lo, hi = min(metres[0], metres[1]), max(metres[0], metres[1])
    ax = _Axis(rule, sources, ucd, n, lo, hi)
    rest, z, keys = _specsys_rest(ctx, code)
    if rest:
        if z is not None and z > -1:
            ax.lo, ax.hi = lo * (1 + z), hi * (1 + z)
            ax.sources = sources + keys
            notes.append(f"source rest frame shifted to observed with ZSOURCE = {z}")
        else:
            ax.withheld = "rest-frame-spectral-axis"
            ax.sources = sources + keys
            out.issue("rest-frame-spectral-axis",
                      f"{rule}: SPECSYS declares the source rest frame and no ZSOURCE gives the "
                      "redshift: ObsCore em_min/em_max are observed-frame, not published",
                      "em_min", "warning")
    else:
        specsys = _text(ctx.get("SPECSYS")[0])
        if specsys is not None and specsys.upper() in ("REST", "RESTFRAME", "REST-FRAME"):
            notes.append(f"SPECSYS = {specsys!r} (not a Paper III value) ignored on a Doppler axis")
    ax.note = "; ".join(notes) if notes else None
    if n > 1:
        ax.res_power = _res_from(metres[2:5])
        ax.res_note = _RES_NOTE
    return ax


def _wcslib_axis(ctx: HDUContext, out: Derivation, config: RuleConfig, c: _Ctype) -> _Axis:
    """A spectral axis that needs wcslib's algorithms: only if the pre-check said 'ok'."""
    if ctx.wcs_status != "ok":
        raise _Skip("spectral-wcs-unavailable",
                    f"CTYPE{c.axis} = {c.raw!r} needs wcslib but the WCS pre-check verdict is "
                    f"{ctx.wcs_status!r}: em_min/em_max not derived")
    import numpy as np

    from .. import wcscheck

    units = [u for u in wcscheck.find_wcs_units(ctx.keywords, ctx.xtension) if u.kind == "image"]
    if not units:
        raise _Skip("spectral-wcs-unavailable", "no image WCS unit for wcslib")
    unit = units[0]
    try:
        p = wcscheck.prepare_wcsprm(ctx.header_text, unit)
        i = int(p.spec)
        if i < 0:
            raise _Skip("spectral-wcs-unavailable",
                        f"wcslib finds no spectral axis in CTYPE{c.axis} = {c.raw!r}")
        n = _axis_length(ctx, i + 1)
        cen = (n + 1) / 2.0
        pix = np.repeat(np.asarray(p.crpix, dtype=float)[None, :], 5, axis=0)
        pix[:, i] = [0.5, n + 0.5, cen - 0.5, cen, cen + 0.5]
        result = p.p2s(pix, 1)
        world = [float(x) for x in result["world"][:, i]]
        stat = [int(s) for s in result["stat"]]
        ctype = str(p.ctype[i]).strip().upper()
        restfrq, restwav = float(p.restfrq), float(p.restwav)
    except _Skip:
        raise
    except Exception as exc:  # noqa: BLE001 - wcslib refused: an issue
        raise _Skip("wcslib-spectral-error",
                    f"wcslib could not transform the spectral axis: {type(exc).__name__}: "
                    f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}") from None
    if any(stat[:2]) or not all(math.isfinite(w) for w in world[:2]):
        raise _Skip("wcslib-spectral-error",
                    "wcslib gives no valid spectral coordinate at the first/last pixel edge")
    code = ctype[:4]
    kind = _STD_KIND.get(code)
    if kind is None:
        raise _Skip("spectral-wcs-unavailable", f"wcslib spectral type {ctype!r} not handled")
    notes = [f"wcslib p2s ({'key ' + unit.key if unit.key != ' ' else 'primary WCS'}, "
             f"CTYPE {ctype})"]
    if kind in ("velocity", "dimensionless"):
        if restfrq <= 0 and restwav <= 0:
            raise _Skip("velocity-without-rest-frequency",
                        f"{ctype} axis without rest frequency/wavelength")
        metres = [_doppler_to_metres(code, v, restfrq, restwav) for v in world]
    else:
        metres = [_to_metres(kind, v) for v in world]
        if code == "AWAV":
            metres = [air_to_vacuum(v) for v in metres]
            notes.append("air wavelengths converted to vacuum (wcslib awavwave formula)")
    if any(stat[2:5]):
        metres[2:5] = [math.nan] * 3
    sources = [f"CTYPE{i + 1}", f"CRVAL{i + 1}", f"CRPIX{i + 1}", f"NAXIS{i + 1}"]
    sources += [k for k in (f"CDELT{i + 1}", f"CD{i + 1}_{i + 1}", f"CUNIT{i + 1}", "RESTFRQ",
                            "RESTFREQ", "RESTWAV", "SPECSYS", "VELREF") if k in ctx.keywords]
    return _finish_axis(ctx, out, R_WCSLIB, sources, _STD_UCD.get(code), n, metres, notes, code)


# -- house rules: LINEAR / WAVELENGTH / LAMBDA (+ IRAF log-linear) --------------------------

def _linear_candidate(ctx: HDUContext, ctypes: list[_Ctype], std: _Ctype | None) -> _Ctype | None:
    """The LINEAR/WAVELENGTH/LAMBDA axis that is the dispersion axis, if any."""
    if std is not None:
        return None
    kw = ctx.keywords
    named = [c for c in ctypes if c.category == "wavelength"]
    if named:
        return named[0]
    linear = [c for c in ctypes if c.category == "linear"]
    if not linear:
        # IRAF: a missing CTYPE1 means LINEAR; only with IRAF dispersion evidence
        if "CTYPE1" not in kw and ("DC-FLAG" in kw or "W0" in kw) and "CRVAL1" in kw:
            return _Ctype(1, "", "", "linear")
        return None
    disp = _int(kw.get("DISPAXIS"))
    for c in linear:
        if disp == c.axis:
            return c
    for c in linear:
        attrs = _wat_attrs(_wat(ctx, c.axis)[0])
        label = attrs.get("label", "").lower()
        if "wave" in label or "lambda" in label or "freq" in label or \
                (attrs.get("units") and _unit(attrs["units"]) is not None):
            return c
        cunit = _unit(_text(kw.get(f"CUNIT{c.axis}")))
        if cunit is not None and cunit[0] in ("length", "frequency", "energy", "wavenumber"):
            return c
    if "DC-FLAG" in kw or "APNUM1" in kw:
        return linear[0]
    return None


def _guess_length_unit(lo: float, hi: float) -> tuple[str, float] | None:
    """Plausibility of unit-less wavelength values (documented windows)."""
    if 3000.0 <= lo and hi <= 30000.0:
        return "Angstrom", 1e-10
    if 0.3 <= lo and hi <= 30.0:
        return "micron", 1e-6
    return None


def _house_unit(ctx: HDUContext, i: int, bracket: str | None, raw_lo: float, raw_hi: float,
                config: RuleConfig) -> tuple[str, float, list[str], str, bool]:
    """(kind, factor to SI, keywords read, note) of a non-standard wavelength-like axis.

    Order: CUNITi (a standard keyword: never contradicted), the IRAF WATi units
    attribute, a unit in brackets in CTYPEi, the plausibility windows, the
    site default (config.default_spectral_unit).
    """
    cunit = _text(_kw(ctx, f"CUNIT{i}"))
    if cunit is not None:
        u = _unit(cunit) or (("length", 1e-10) if cunit in ("A", "a") else None)
        if u is None or u[0] not in ("length", "frequency", "energy", "wavenumber"):
            raise _Skip("unknown-spectral-unit",
                        f"CUNIT{i} = {cunit!r} is not a spectral unit: axis not used")
        return u[0], u[1], [f"CUNIT{i}"], f"unit from CUNIT{i} = {cunit!r}", False
    wat, wat_keys = _wat(ctx, i)
    if wat:
        units = _wat_attrs(wat).get("units")
        if units:
            u = _unit(units)
            if u is not None and u[0] in ("length", "frequency", "energy", "wavenumber"):
                return (u[0], u[1], wat_keys[:1], f"unit from IRAF {wat_keys[0]} units={units}",
                        False)
    if bracket:
        u = _unit(bracket) or (("length", 1e-10) if bracket in ("A", "a") else None)
        if u is not None and u[0] in ("length", "frequency", "energy", "wavenumber"):
            return u[0], u[1], [], f"unit {bracket!r} from the brackets of CTYPE{i}", False
    guess = _guess_length_unit(raw_lo, raw_hi)
    if guess is not None:
        return "length", guess[1], [], (f"no unit stated: {guess[0]} assumed from the values "
                                        f"{raw_lo:g} .. {raw_hi:g} (plausibility window)"), True
    u = _unit(config.default_spectral_unit)
    if u is None:
        raise _Skip("unknown-spectral-unit",
                    f"no unit for spectral axis {i} and the default "
                    f"{config.default_spectral_unit!r} is not a unit")
    return u[0], u[1], [], (f"no unit stated and values {raw_lo:g} .. {raw_hi:g} fit no "
                            f"plausibility window: site default "
                            f"{config.default_spectral_unit!r}"), True


def _house_linear_axis(ctx: HDUContext, out: Derivation, config: RuleConfig, c: _Ctype, log: bool,
                       standard_code: str | None = None) -> _Axis:
    i = c.axis
    lin = _linear(ctx, i)
    probes = lin.probes()
    raw = [lin.at(p) for p in probes]
    if log:
        if not all(-30 < v < 30 for v in raw):
            raise _Skip("implausible-spectral-range",
                        f"DC-FLAG = 1 but CRVAL{i}/CDELT{i} give log10 values {raw[0]:g} .. "
                        f"{raw[1]:g}: not a log-linear wavelength axis")
        raw = [10.0 ** v for v in raw]
    lo_raw, hi_raw = min(raw[0], raw[1]), max(raw[0], raw[1])
    kind, factor, usrc, unote, assumed = _house_unit(ctx, i, c.bracket, lo_raw, hi_raw, config)
    if assumed:
        out.issue("spectral-unit-assumed", f"spectral axis {i} ({c.raw or 'no CTYPE'}): {unote}",
                  "em_min", "info")
    metres = [_to_metres(kind, v * factor) for v in raw]
    sources = lin.sources + usrc
    notes = [unote]
    if standard_code == "AWAV" and kind == "length":
        metres = [air_to_vacuum(v) for v in metres]
        notes.append("air wavelengths converted to vacuum (wcslib awavwave formula)")
    if log:
        sources.append("DC-FLAG")
        notes.insert(0, "IRAF log-linear dispersion (DC-FLAG = 1): 10**(CRVAL + CDELT (p - CRPIX))")
    if standard_code:
        notes.insert(0, f"CTYPE{i} = {c.raw!r} without CUNIT{i}: SI metres implausible")
    if standard_code is None:
        notes.append("air/vacuum medium not stated: taken as vacuum")
    rule = R_LOGLIN if log else R_LINEAR
    ucd = _KIND_UCD.get(kind, "em.wl")
    return _finish_axis(ctx, out, rule, sources, ucd, lin.n, metres, notes, "WAVE")


def _rest_named_axis(ctx: HDUContext, out: Derivation, config: RuleConfig, c: _Ctype) -> _Axis:
    """CTYPE WAVEREST and the like: a rest-frame axis; the observed range is unknown."""
    i = c.axis
    z, zk = ctx.get("ZSOURCE")
    zv = _number(z)
    ax = _Axis(R_REST, [f"CTYPE{i}", f"NAXIS{i}"], "em.wl", _axis_length(ctx, i))
    try:
        lin = _linear(ctx, i)
        raw = [lin.at(p) for p in lin.probes()]
        kind, factor, usrc, unote, _ = _house_unit(ctx, i, c.bracket, min(raw[:2]),
                                                   max(raw[:2]), config)
        metres = [_to_metres(kind, v * factor) for v in raw]
        ax.sources = lin.sources + usrc
        ax.res_power = _res_from(metres[2:5])
        ax.res_note = _RES_NOTE
        if zv is not None and zv > -1:
            ax.lo, ax.hi = min(metres[:2]) * (1 + zv), max(metres[:2]) * (1 + zv)
            ax.sources.append(zk)
            ax.note = f"{unote}; rest frame shifted to observed with ZSOURCE = {zv}"
            return ax
    except _Skip as exc:
        _issue(out, exc)
    ax.withheld = "rest-frame-spectral-axis"
    out.issue("rest-frame-spectral-axis",
              f"CTYPE{i} = {c.raw!r} is a rest-frame axis and no ZSOURCE gives the redshift: "
              "ObsCore em_min/em_max are observed-frame, not published", "em_min", "warning")
    return ax


def _named_axis(ctx: HDUContext, out: Derivation, c: _Ctype) -> _Axis:
    """Non-standard VELOCITY / FREQUENCY axis names (house rule)."""
    i = c.axis
    lin = _linear(ctx, i)
    raw = [lin.at(p) for p in lin.probes()]
    cunit = _text(_kw(ctx, f"CUNIT{i}")) or c.bracket
    sources = list(lin.sources)
    if c.category == "velocity":
        u = _unit(cunit) if cunit else ("velocity", 1.0)
        if u is None or u[0] != "velocity":
            raise _Skip("unknown-spectral-unit", f"CUNIT{i} = {cunit!r} is not a velocity unit")
        if f"CUNIT{i}" in ctx.keywords:
            sources.append(f"CUNIT{i}")
        restfrq, restwav, rest_keys = _rest(ctx)
        velref = _int(ctx.keywords.get("VELREF"))
        code = "VOPT" if velref is not None and 0 < velref < 256 else "VRAD"
        if restfrq <= 0 and restwav <= 0:
            out.issue("velocity-without-rest-frequency",
                      f"CTYPE{i} = {c.raw!r} without RESTFRQ/RESTFREQ/RESTWAV: no wavelengths",
                      "em_min", "warning")
            return _Axis(R_NAMED, [f"CTYPE{i}", f"NAXIS{i}"], _STD_UCD[code], lin.n,
                         withheld="velocity-without-rest-frequency")
        metres = [_doppler_to_metres(code, v * u[1], restfrq, restwav) for v in raw]
        sources += rest_keys + (["VELREF"] if velref is not None else [])
        notes = [f"non-standard CTYPE{i} = {c.raw!r} read as "
                 f"{'optical (VELREF)' if code == 'VOPT' else 'radio'} velocity"]
        return _finish_axis(ctx, out, R_NAMED, sources, _STD_UCD[code], lin.n, metres, notes, code)
    u = _unit(cunit) if cunit else ("frequency", 1.0)
    if u is None or u[0] != "frequency":
        raise _Skip("unknown-spectral-unit", f"CUNIT{i} = {cunit!r} is not a frequency unit")
    if f"CUNIT{i}" in ctx.keywords:
        sources.append(f"CUNIT{i}")
    metres = [_to_metres("frequency", v * u[1]) for v in raw]
    notes = [f"non-standard CTYPE{i} = {c.raw!r} read as frequency"
             + ("" if cunit else " in Hz (no unit stated)")]
    return _finish_axis(ctx, out, R_NAMED, sources, "em.freq", lin.n, metres, notes, "FREQ")


# -- house rule: SDSS / LAMOST COEFF0 / COEFF1 ---------------------------------------------

def _sdss_applies(ctx: HDUContext, by_cat: dict[str, _Ctype]) -> bool:
    kw = ctx.keywords
    if _number(kw.get("COEFF0")) is None or _number(kw.get("COEFF1")) is None:
        return False
    if "std" in by_cat or "multispec" in by_cat:
        return False
    c1 = kw.get("CTYPE1")
    return c1 is None or (isinstance(c1, str) and c1.strip().upper() in ("", "LINEAR"))


def _sdss_axis(ctx: HDUContext, out: Derivation) -> _Axis:
    """SDSS spSpec / LAMOST: lambda(p) = 10**(COEFF0 + COEFF1 (p - 1)) Angstrom, vacuum."""
    kw = ctx.keywords
    c0, c1 = _number(kw["COEFF0"]), _number(kw["COEFF1"])
    assert c0 is not None and c1 is not None
    n = _axis_length(ctx, 1)
    if not (0 < c0 < 10) or c1 == 0:
        raise _Skip("implausible-spectral-range",
                    f"COEFF0 = {c0!r}, COEFF1 = {c1!r} are not log10(Angstrom) coefficients")
    crval, cd = _number(kw.get("CRVAL1")), _number(kw.get("CD1_1", kw.get("CDELT1")))
    crpix = _number(kw.get("CRPIX1"))
    if crval is not None and cd is not None:
        at1 = crval + cd * (1 - (crpix if crpix is not None else 0.0))
        if abs(at1 - c0) > 1e-6 or abs(cd - c1) > 1e-9:
            out.issue("coeff-crval-mismatch",
                      f"CRVAL1/CD1_1 give log10 lambda {at1!r} + {cd!r}/pixel, COEFF0/COEFF1 "
                      f"{c0!r} + {c1!r}: COEFF0/COEFF1 used", "em_min", "warning")
    c = (n + 1) / 2.0
    metres = [10.0 ** (c0 + c1 * (p - 1.0)) * 1e-10 for p in (0.5, n + 0.5, c - 0.5, c, c + 0.5)]
    notes = ["SDSS/LAMOST convention: log10(vacuum Angstrom) = COEFF0 + COEFF1 (p - 1)"]
    sources = ["COEFF0", "COEFF1", "NAXIS1"]
    return _finish_axis(ctx, out, R_SDSS, sources, "em.wl", n, metres, notes, "WAVE")


# -- house rule: IRAF MULTISPEC ----------------------------------------------------------------

def _ms_function(tokens: list[float], pos: int) -> tuple[tuple, int]:
    """One dispersion function starting at tokens[pos]: ((wt, w0, ftype, params, coeffs), next)."""
    wt, w0, ftype = tokens[pos], tokens[pos + 1], int(tokens[pos + 2])
    pos += 3
    if ftype in (1, 2):
        order = int(tokens[pos])
        pmin, pmax = tokens[pos + 1], tokens[pos + 2]
        coeffs = tokens[pos + 3:pos + 3 + order]
        if len(coeffs) != order:
            raise ValueError("truncated polynomial")
        return (wt, w0, ftype, (pmin, pmax), coeffs), pos + 3 + order
    if ftype in (3, 4):
        npieces = int(tokens[pos])
        pmin, pmax = tokens[pos + 1], tokens[pos + 2]
        k = npieces + (3 if ftype == 3 else 1)
        coeffs = tokens[pos + 3:pos + 3 + k]
        if len(coeffs) != k:
            raise ValueError("truncated spline")
        return (wt, w0, ftype, (npieces, pmin, pmax), coeffs), pos + 3 + k
    if ftype == 5:
        k = int(tokens[pos])
        coeffs = tokens[pos + 1:pos + 1 + k]
        if len(coeffs) != k or k < 2:
            raise ValueError("truncated pixel array")
        return (wt, w0, ftype, (k,), coeffs), pos + 1 + k
    if ftype == 6:
        k = int(tokens[pos])
        coeffs = tokens[pos + 2:pos + 2 + 2 * k]
        if len(coeffs) != 2 * k or k < 2:
            raise ValueError("truncated sampled array")
        return (wt, w0, ftype, (k,), coeffs), pos + 2 + 2 * k
    raise ValueError(f"unknown function type {ftype}")


def _ms_eval(funcs: list[tuple], p: float) -> float:
    """sum wt_i (w0_i + W_i(p)) at physical pixel p (IRAF specwcs, without the Doppler factor)."""
    total = 0.0
    for wt, w0, ftype, params, c in funcs:
        if ftype in (1, 2):
            pmin, pmax = params
            x = (p - (pmax + pmin) / 2.0) / ((pmax - pmin) / 2.0)
            prev, cur = 1.0, x
            w = c[0] + (c[1] * x if len(c) > 1 else 0.0)
            for k in range(2, len(c)):
                i = k + 1  # 1-based index of the term
                if ftype == 1:
                    nxt = 2.0 * x * cur - prev
                else:
                    nxt = ((2 * i - 3) * x * cur - (i - 2) * prev) / (i - 1)
                w += c[k] * nxt
                prev, cur = cur, nxt
        elif ftype in (3, 4):
            npieces, pmin, pmax = params
            s = (p - pmin) / (pmax - pmin) * npieces
            j = min(max(int(math.floor(s)), 0), int(npieces) - 1)
            a, b = (j + 1) - s, s - j
            if ftype == 4:
                w = c[j] * a + c[j + 1] * b
            else:
                ab = a * b
                w = (c[j] * a ** 3 + c[j + 1] * (1 + 3 * a * (1 + ab))
                     + c[j + 2] * (1 + 3 * b * (1 + ab)) + c[j + 3] * b ** 3)
        elif ftype == 5:
            k = params[0]
            j = min(max(int(math.floor(p)), 1), k - 1)
            a, b = (j + 1) - p, p - j
            w = c[j - 1] * a + c[j] * b
        else:  # 6: (pixel, wavelength) pairs in increasing pixel order
            k = params[0]
            xs, ys = c[0::2], c[1::2]
            j = 0
            while j < k - 2 and p > xs[j + 1]:
                j += 1
            x0, x1 = xs[j], xs[j + 1]
            w = ys[j] + (ys[j + 1] - ys[j]) * (p - x0) / (x1 - x0) if x1 != x0 else ys[j]
        total += wt * (w0 + w)
    return total


def _multispec_axis(ctx: HDUContext, out: Derivation, c: _Ctype) -> _Axis:
    """IRAF MULTISPEC: every specN of WAT2; em range over all dispersion-calibrated spectra."""
    kw = ctx.keywords
    wat2, wat2_keys = _wat(ctx, 2)
    if not wat2:
        raise _Skip("multispec-parse-error", "CTYPE1 = 'MULTISPE' without WAT2 keywords")
    wat1, wat1_keys = _wat(ctx, 1)
    attrs1 = _wat_attrs(wat1)
    units = attrs1.get("units")
    sources = ["CTYPE1"] + wat1_keys[:1] + _key_range(wat2_keys)
    if units:
        u = _unit(units)
        if u is None or u[0] not in ("length", "frequency", "energy", "wavenumber"):
            raise _Skip("unknown-spectral-unit", f"WAT1 units={units!r} is not a spectral unit")
        unote = f"unit from WAT1 units={units}"
    else:
        u = ("length", 1e-10)
        unote = "WAT1 states no units: IRAF default Angstroms"
    kind, factor = u
    ltv = _number(kw.get("LTV1")) or 0.0
    ltm = _number(kw.get("LTM1_1"))
    ltm = 1.0 if ltm is None or ltm == 0 else ltm
    for k in ("LTV1", "LTM1_1"):
        if k in kw:
            sources.append(k)
    lo = hi = None
    total = 0
    res: list[float] = []
    bad: list[str] = []
    mismatched: list[str] = []
    z_seen = False
    n_spec = 0
    for m in _SPEC_ATTR.finditer(wat2):
        n_spec += 1
        name = f"spec{m.group(1)}"
        try:
            body = m.group(2)
            if "D" in body or "d" in body:
                body = body.replace("D", "E").replace("d", "e")
            tokens = [float(t) for t in body.split()]
            if len(tokens) < 9:
                raise ValueError("fewer than 9 fields")
            ap, dtype, w1, dw, nw, z = tokens[0], int(tokens[2]), tokens[3], tokens[4], \
                int(tokens[5]), tokens[6]
            if dtype == -1:
                continue
            if nw <= 0:
                raise ValueError(f"nw = {nw}")
            if z:
                z_seen = True
            cen = (nw + 1) / 2.0
            logical = (0.5, nw + 0.5, cen - 0.5, cen, cen + 0.5)
            phys = [(lp - ltv) / ltm for lp in logical]
            if dtype == 0:
                vals = [w1 + dw * (p - 1.0) for p in phys]
            elif dtype == 1:
                vals = [10.0 ** (w1 + dw * (p - 1.0)) for p in phys]
            elif dtype == 2:
                funcs = []
                pos = 9
                while pos < len(tokens):
                    f, pos = _ms_function(tokens, pos)
                    funcs.append(f)
                vals = None
                if funcs:
                    f1 = _ms_eval(funcs, 1.0)
                    tol = 2.0 * abs(dw) + 1e-9 * abs(w1)
                    if abs(f1 - w1) <= tol or abs(f1 / (1 + z) - w1) <= tol:
                        vals = [_ms_eval(funcs, p) for p in phys]
                    else:
                        mismatched.append(name)
                if vals is None:
                    # w1 and dw: first physical pixel and mean dispersion (approximate)
                    vals = [w1 + dw * (p - 1.0) for p in phys]
            else:
                raise ValueError(f"dispersion type {dtype}")
            metres = [_to_metres(kind, v * factor) for v in vals]
            a, b = min(metres[0], metres[1]), max(metres[0], metres[1])
            if not (a > 0 and math.isfinite(b) and b / a <= MULTISPEC_MAX_SPAN):
                bad.append(f"{name} (aperture {ap:g}: {a:.4g} .. {b:.4g} m)")
                continue
            lo = a if lo is None else min(lo, a)
            hi = b if hi is None else max(hi, b)
            total += nw
            r = _res_from(metres[2:5])
            if r is not None:
                res.append(r)
        except (ValueError, IndexError, ZeroDivisionError, OverflowError) as exc:
            bad.append(f"{name} ({exc})")
    if n_spec == 0:
        raise _Skip("multispec-parse-error", "WAT2 has no specN attributes")
    if bad:
        out.issue("multispec-spectrum-skipped",
                  f"{len(bad)} MULTISPEC spectra not used (unparsable, or spanning more than a "
                  f"factor {MULTISPEC_MAX_SPAN:g} in wavelength): " + "; ".join(bad[:5])
                  + (" ..." if len(bad) > 5 else ""), "em_min", "warning")
    if mismatched:
        out.issue("multispec-function-mismatch",
                  f"{len(mismatched)} MULTISPEC dispersion functions disagree with their own w1 "
                  f"at pixel 1 ({', '.join(mismatched[:5])}{' ...' if len(mismatched) > 5 else ''}):"
                  " the linear w1/dw approximation used for them", "em_min", "warning")
    if z_seen:
        out.issue("multispec-doppler-factor-ignored",
                  "MULTISPEC Doppler factors z (IRAF dopcor) ignored: observed-frame wavelengths "
                  "published", "em_min", "info")
    if lo is None or hi is None:
        raise _Skip("multispec-parse-error", "no dispersion-calibrated MULTISPEC spectrum")
    res.sort()
    ax = _Axis(R_MULTISPEC, sources, _KIND_UCD.get(kind, "em.wl"), total, lo, hi)
    ax.note = (f"IRAF MULTISPEC, {n_spec} spectra ({total} pixels); {unote}; "
               "air/vacuum medium not stated: taken as vacuum")
    if res:
        ax.res_power = res[len(res) // 2]
        ax.res_note = _RES_NOTE + ", median over the spectra"
    return ax


# -- images: energy axes, EBOUNDS, energy keywords -------------------------------------------

def _ebounds(siblings: Sequence[HDUContext]) -> tuple[HDUContext, dict, dict] | None:
    for s in siblings:
        if (s.extname or "").strip().upper() == "EBOUNDS":
            lo, hi = s.column("E_MIN"), s.column("E_MAX")
            if lo and hi and lo.get("min") is not None and hi.get("max") is not None:
                return s, lo, hi
    return None


def _ebounds_axis(ctx: HDUContext, out: Derivation, ebounds: tuple[HDUContext, dict, dict],
                  xel: int | None, ucd: str = "em.energy") -> _Axis:
    s, lo_col, hi_col = ebounds
    unit = lo_col.get("tunit") or hi_col.get("tunit") or "keV"
    u = _unit(unit)
    if u is None or u[0] != "energy":
        raise _Skip("unknown-spectral-unit", f"EBOUNDS E_MIN unit {unit!r} is not an energy")
    e_lo, e_hi = float(lo_col["min"]) * u[1], float(hi_col["max"]) * u[1]
    rows = s.naxis[1] if len(s.naxis) > 1 else None
    note = (f"energy bins of the EBOUNDS extension (HDU {s.hdu}): {lo_col['min']:g} .. "
            f"{hi_col['max']:g} {unit}" + ("" if lo_col.get("tunit") else " (unit: OGIP default keV)"))
    return _Axis(R_EBOUNDS, [f"EBOUNDS[{s.hdu}]:column:E_MIN", f"EBOUNDS[{s.hdu}]:column:E_MAX"],
                 ucd, xel if xel is not None else rows,
                 _to_metres("energy", e_hi), _to_metres("energy", e_lo), note)


def _image_energy_axis(ctx: HDUContext, out: Derivation, config: RuleConfig,
                       siblings: Sequence[HDUContext], energy: _Ctype | None) -> _Axis | None:
    eb = _ebounds(siblings)
    if eb is not None:
        rows = eb[0].naxis[1] if len(eb[0].naxis) > 1 else None
        n = _n_axes(ctx)
        match = energy is not None or any(_axis_length(ctx, i) == rows for i in range(3, n + 1))
        if match:
            xel = _axis_length(ctx, energy.axis) if energy is not None else rows
            try:
                ax = _ebounds_axis(ctx, out, eb, xel)
                if energy is not None:
                    ax.sources = [f"CTYPE{energy.axis}", f"NAXIS{energy.axis}"] + ax.sources
                return ax
            except _Skip as exc:
                _issue(out, exc)
    dss = _dss_energy(ctx)
    if dss is not None:
        ax = dss
        ax.xel = _axis_length(ctx, energy.axis) if energy is not None else 1
        return ax
    kax = _energy_keywords(ctx)
    if kax is not None:
        kax.xel = _axis_length(ctx, energy.axis) if energy is not None else 1
        return kax
    if energy is not None:
        out.issue("nonstandard-energy-axis",
                  f"CTYPE{energy.axis} = {energy.raw!r} is not a standard spectral type and no "
                  "EBOUNDS extension gives its bins (its CRVAL/CDELT are often a linear stand-in "
                  "for log bins): em_min/em_max not derived", "em_min", "warning")
        return _Axis(R_NAMED, [f"CTYPE{energy.axis}", f"NAXIS{energy.axis}"], "em.energy",
                     _axis_length(ctx, energy.axis), withheld="nonstandard-energy-axis")
    return None


def _energy_unit_for(ctx: HDUContext, stated: str | None) -> tuple[float, str] | None:
    """(factor to J, unit text) for an energy value: the stated unit, else the mission default."""
    if stated:
        u = _unit(stated)
        if u is not None and u[0] == "energy":
            return u[1], stated
        return None
    tel, _ = _telescope(ctx)
    default = _MISSION_ENERGY_UNIT.get(tel or "")
    if default is None:
        return None
    return _ENERGY[default], f"{default} (default of {tel})"


def _dss_energy(ctx: HDUContext) -> _Axis | None:
    """An ENERGY data-subspace filter (DSTYPn = 'ENERGY', DSVALn = 'lo:hi', DSUNIn)."""
    kw = ctx.keywords
    for n in range(1, 100):
        t = kw.get(f"DSTYP{n}")
        if t is None:
            if n > 1 and kw.get(f"DSTYP{n + 1}") is None:
                break
            continue
        if not isinstance(t, str) or t.strip().upper() != "ENERGY":
            continue
        val = kw.get(f"DSVAL{n}")
        if not isinstance(val, str) or ":" not in val or "," in val:
            continue
        a, _, b = val.partition(":")
        lo, hi = _number(a), _number(b)
        if lo is None or hi is None or lo <= 0 or hi <= lo:
            continue
        ukey = f"DSUNI{n}" if f"DSUNI{n}" in kw else f"DSUNIT{n}"
        unit = _energy_unit_for(ctx, _text(kw.get(ukey)))
        if unit is None:
            continue
        factor, utext = unit
        srcs = [f"DSTYP{n}", f"DSVAL{n}"] + ([ukey] if ukey in kw else ["TELESCOP"])
        return _Axis(R_DSS, srcs, "em.energy", None, _to_metres("energy", hi * factor),
                     _to_metres("energy", lo * factor),
                     f"ENERGY data-subspace filter {val} {utext}")
    return None


def _energy_keywords(ctx: HDUContext) -> _Axis | None:
    """E_MIN/E_MAX (or EMIN/EMAX) keywords; unit from the card comment, else the mission default."""
    for a, b in (("E_MIN", "E_MAX"), ("EMIN", "EMAX"), ("ENERG_LO", "ENERG_HI")):
        lo_v, ka = ctx.get(a)
        hi_v, kb = ctx.get(b)
        lo, hi = _number(lo_v), _number(hi_v)
        if lo is None or hi is None or lo <= 0 or hi <= lo:
            continue
        stated = _comment_unit(ctx, a)
        unit = _energy_unit_for(ctx, stated)
        if unit is None:
            continue
        factor, utext = unit
        return _Axis(R_EKEYS, [ka, kb], "em.energy", None, _to_metres("energy", hi * factor),
                     _to_metres("energy", lo * factor), f"{a}/{b} = {lo:g} .. {hi:g} {utext}")
    return None


def _comment_unit(ctx: HDUContext, key: str) -> str | None:
    text = ctx.header_text
    pos = text.find(key.ljust(8) + "=")
    if pos < 0:
        return None
    card = text[pos:pos + 80]
    comment = card.partition("/")[2]
    m = re.search(r"\[\s*([A-Za-z]+)\s*\]|\b(eV|keV|MeV|GeV|TeV)\b", comment)
    return (m.group(1) or m.group(2)) if m else None


def _looks_like_spectrum(ctx: HDUContext) -> bool:
    """Hints of a spectrum in an image HDU that has data (NAXIS = 0 holds none)."""
    if not ctx.naxis or not all(n > 0 for n in ctx.naxis):
        return False
    kw = ctx.keywords
    if any(k in kw for k in _SPECTRUM_HINTS):
        return True
    x = _text(kw.get("XUNITS"))
    return x is not None and _unit(x) is not None and _unit(x)[0] in ("length", "frequency")


# ======================================================================================
# Tables
# ======================================================================================

def _col_elements(ctx: HDUContext, col: dict) -> int | None:
    rows = ctx.naxis[1] if len(ctx.naxis) > 1 else _int(ctx.keywords.get("NAXIS2"))
    if rows is None:
        return None
    tdim = col.get("tdim")
    if isinstance(tdim, str) and tdim.strip().startswith("("):
        try:
            k = 1
            for x in tdim.strip().strip("()").split(","):
                k *= int(x)
            return rows * k
        except ValueError:
            pass
    m = _REPEAT.match(col.get("tform") or "")
    if m is None:
        return None
    if m.group(2).upper() in "PQ":
        return None
    return rows * (int(m.group(1)) if m.group(1) else 1)


def _is_events(ctx: HDUContext) -> bool:
    ext = (ctx.extname or "").strip().upper()
    cls = str(ctx.keywords.get("HDUCLAS1") or "").strip().upper()
    return ext.startswith("EVENTS") or cls == "EVENTS"


def _is_pha(ctx: HDUContext) -> bool:
    cls = str(ctx.keywords.get("HDUCLAS1") or "").strip().upper()
    ext = (ctx.extname or "").strip().upper()
    has_channel = ctx.column("CHANNEL", "PHA", "PI") is not None
    return has_channel and (cls == "SPECTRUM" or ext == "SPECTRUM" or "CHANTYPE" in ctx.keywords)


def _column_kind(name: str, col: dict) -> str | None:
    ucd = (col.get("tucd") or "").split(";")[0].strip().lower()
    if name in _LOG_NAMES:
        return "log"
    if ucd.startswith("em.wl") or name in _WAVE_NAMES:
        return "length"
    if ucd.startswith("em.freq") or name in _FREQ_NAMES:
        return "frequency"
    if ucd.startswith("em.energy") or name in _ENERGY_NAMES:
        return "energy"
    if ucd.startswith("em.wavenumber") or name in _WAVN_NAMES:
        return "wavenumber"
    return None


def _column_range(ctx: HDUContext, out: Derivation, config: RuleConfig, col: dict
                  ) -> tuple[float, float, str, str] | None:
    """(lo m, hi m, kind, note) of one staged spectral column, or None (with an issue)."""
    name = (col.get("ttype") or "").strip().upper()
    kind = _column_kind(name, col)
    vmin, vmax = _number(col.get("min")), _number(col.get("max"))
    tunit = _text(col.get("tunit"))
    label = f"column {col.get('ttype')!r}"
    if kind is None or vmin is None or vmax is None:
        return None
    if kind == "log":
        inner = None
        if tunit:
            t = re.sub(r"^(?:log10|log|dex)\s*\(\s*(.*?)\s*\)$", r"\1", tunit.strip(), flags=re.I)
            t = t.strip("[]")
            inner = _unit(t)
        if inner is None or inner[0] != "length":
            inner = ("length", 1e-10)
            note = f"{label}: log10 of the wavelength in Angstrom (SDSS/LAMOST convention)"
        else:
            note = f"{label}: log10 of the wavelength in {tunit}"
        if not (-30 < vmin <= vmax < 30):
            out.issue("spectral-column-unusable",
                      f"{label} values {vmin:g} .. {vmax:g} are not log10 wavelengths", "em_min")
            return None
        return 10.0 ** vmin * inner[1], 10.0 ** vmax * inner[1], "length", note
    u = _unit(tunit) if tunit else None
    note = f"{label} min/max ({tunit})" if tunit else f"{label} min/max"
    if tunit and (u is None or u[0] != kind):
        if kind == "length" and tunit in ("A", "a"):
            u = ("length", 1e-10)
        else:
            out.issue("unknown-spectral-unit",
                      f"{label}: TUNIT {tunit!r} is not a {kind} unit: column not used", "em_min")
            return None
    if u is None:
        if kind == "length":
            guess = _guess_length_unit(vmin, vmax)
            if guess is None:
                du = _unit(config.default_spectral_unit)
                if du is None or du[0] != "length":
                    return None
                u = du
                note += f" (no TUNIT: site default {config.default_spectral_unit!r})"
            else:
                u = ("length", guess[1])
                note += f" (no TUNIT: {guess[0]} assumed from the values, plausibility window)"
            out.issue("spectral-unit-assumed", f"{label}: {note}", "em_min", "info")
        elif kind == "frequency":
            u = ("frequency", 1.0)
            note += " (no TUNIT: Hz)"
        elif kind == "energy":
            e = _energy_unit_for(ctx, None)
            if e is None:
                out.issue("unknown-spectral-unit",
                          f"{label} has no TUNIT and no mission default applies: not used",
                          "em_min")
                return None
            u = ("energy", e[0])
            note += f" (no TUNIT: {e[1]})"
        else:
            out.issue("unknown-spectral-unit", f"{label} has no TUNIT: not used", "em_min")
            return None
    a, b = _to_metres(kind, vmin * u[1]), _to_metres(kind, vmax * u[1])
    return min(a, b), max(a, b), kind, note


def _table_axis(ctx: HDUContext, out: Derivation, config: RuleConfig,
                siblings: Sequence[HDUContext]) -> _Axis | None:
    events = _is_events(ctx)
    cols = ctx.columns_with_role("spectral")
    lo = hi = None
    used: list[dict] = []
    notes: list[str] = []
    kind0 = None
    for col in cols:
        r = _column_range(ctx, out, config, col)
        if r is None:
            continue
        a, b, kind, note = r
        lo = a if lo is None else min(lo, a)
        hi = b if hi is None else max(hi, b)
        used.append(col)
        notes.append(note)
        kind0 = kind0 or kind
    if used:
        xel = -1 if events else _col_elements(ctx, used[0])
        ax = _Axis(R_COLUMN, [f"column:{c.get('ttype')}" for c in used],
                   _KIND_UCD.get(kind0 or "length"), xel, lo, hi, "; ".join(notes))
        if events:
            ax.note = (ax.note or "") + "; event list: em_xel = -1 (not pixelated)"
        return ax
    pha = _is_pha(ctx)
    if not (pha or events):
        return None
    xel = -1 if events else _pha_channels(ctx)
    grating = pha and _grating_arm(ctx) is not None
    ucd = "em.wl" if grating and ctx.column("BIN_LO") is not None else "em.energy"
    if pha:
        eb = _ebounds(siblings)
        if eb is not None:
            try:
                return _ebounds_axis(ctx, out, eb, xel, ucd)
            except _Skip as exc:
                _issue(out, exc)
    for finder in (_energy_keywords, _dss_energy, _tlmin_energy):
        ax = finder(ctx)
        if ax is not None:
            ax.xel, ax.ucd = xel, ucd
            return ax
    band = _instrument_band(ctx) if getattr(config, "house_instrument_band", True) else None
    if band is not None:
        lo_kev, hi_kev, label, srcs = band
        out.issue("energy-from-instrument-band",
                  f"no energy information in the {'PHA spectrum' if pha else 'event list'}: "
                  f"nominal band of {label} ({lo_kev:g} .. {hi_kev:g} keV) published",
                  "em_min", "info")
        return _Axis(R_BAND, srcs, ucd, xel, _to_metres("energy", hi_kev * 1e3 * EV),
                     _to_metres("energy", lo_kev * 1e3 * EV),
                     f"nominal {label} band {lo_kev:g} .. {hi_kev:g} keV (no energies in the file)")
    out.issue("no-energy-information",
              f"{'PHA spectrum' if pha else 'event list'} without energies, EBOUNDS or a known "
              "instrument band: em_min/em_max not derived", "em_min", "warning")
    return _Axis(R_BAND, ["CHANNEL"], ucd, xel, withheld="no-energy-information") \
        if pha else None


def _pha_channels(ctx: HDUContext) -> int | None:
    n = _int(ctx.keywords.get("DETCHANS"))
    if n is not None and n > 0:
        return n
    return ctx.naxis[1] if len(ctx.naxis) > 1 else None


def _tlmin_energy(ctx: HDUContext) -> _Axis | None:
    col = ctx.column("ENERGY")
    if col is None:
        return None
    n = col.get("n")
    lo, hi = _number(ctx.keywords.get(f"TLMIN{n}")), _number(ctx.keywords.get(f"TLMAX{n}"))
    if lo is None or hi is None or lo <= 0 or hi <= lo:
        return None
    unit = _energy_unit_for(ctx, _text(col.get("tunit")))
    if unit is None:
        return None
    return _Axis(R_TLM, [f"TLMIN{n}", f"TLMAX{n}"] + ([f"TUNIT{n}"] if col.get("tunit") else []),
                 "em.energy", -1, _to_metres("energy", hi * unit[0]),
                 _to_metres("energy", lo * unit[0]),
                 f"legal range TLMIN/TLMAX of column ENERGY ({unit[1]})")


def _grating_arm(ctx: HDUContext) -> str | None:
    part = _int(ctx.get("TG_PART")[0])
    if part in (1, 2, 3):
        return {1: "HEG", 2: "MEG", 3: "LEG"}[part]
    cls5 = str(ctx.get("HDUCLAS5")[0] or "").strip().upper()
    grating = str(ctx.get("GRATING")[0] or "").strip().upper()
    if cls5 == "TG" and grating in ("HETG", "LETG"):
        return grating
    return None


def _instrument_band(ctx: HDUContext) -> tuple[float, float, str, list[str]] | None:
    tel, _ = _telescope(ctx)
    if tel is None:
        return None
    inst_v, ik = ctx.get("INSTRUME")
    inst = (_text(inst_v) or "").upper()
    det = (_text(ctx.get("DETNAM")[0]) or "").upper()
    arm = _grating_arm(ctx)
    _, tk = ctx.get("TELESCOP")
    srcs = [k for k in (tk, ik) if k]
    for t, ipref, garm, lo, hi, label in _BANDS:
        if t != tel:
            continue
        if garm is not None:
            if arm != garm:
                continue
            srcs += [k for k in ("TG_PART", "HDUCLAS5", "GRATING") if ctx.get(k)[1]]
            return lo, hi, label, srcs
        if ipref is not None and not (inst.startswith(ipref) or det.startswith(ipref)):
            continue
        return lo, hi, label, srcs
    return None
