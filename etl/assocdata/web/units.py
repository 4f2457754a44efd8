"""Units of the search form: radius, spectral band and time, to what ObsCore stores.

ObsCore stores wavelengths in metres (em_min, em_max) and times as MJD
(t_min, t_max); the form accepts what astronomers type. Frequencies and
energies are converted to wavelengths, which swaps the bounds (a higher
frequency is a shorter wavelength).
"""

from __future__ import annotations

import re

#: Radius unit -> degrees.
RADIUS_UNITS = {"arcsec": 1 / 3600, "arcmin": 1 / 60, "deg": 1.0}
#: Band unit -> (kind, factor to SI: metres, hertz or joules).
BAND_UNITS = {"nm": ("length", 1e-9), "Å": ("length", 1e-10), "µm": ("length", 1e-6),
              "m": ("length", 1.0), "Hz": ("frequency", 1.0), "GHz": ("frequency", 1e9),
              "eV": ("energy", 1.602176634e-19), "keV": ("energy", 1.602176634e-16)}
_C = 299792458.0
_H = 6.62607015e-34
_MJD_NUMBER = re.compile(r"^\s*[-+]?\d+(\.\d*)?\s*$")


def band_to_metres(lo: float | None, hi: float | None, unit: str) -> tuple[float | None, float | None]:
    """The band [lo, hi] in ``unit`` as a wavelength interval in metres (either end may be open)."""
    kind, factor = BAND_UNITS[unit]
    for v in (lo, hi):
        if v is not None and v <= 0:
            raise ValueError(f"band limits must be positive ({v:g} {unit})")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"band min {lo:g} {unit} is above band max {hi:g} {unit}")

    def metres(v: float | None) -> float | None:
        if v is None:
            return None
        si = v * factor
        if kind == "length":
            return si
        if kind == "frequency":
            return _C / si
        return _H * _C / si

    if kind == "length":
        return metres(lo), metres(hi)
    return metres(hi), metres(lo)  # frequency and energy invert the order


def parse_time(text: str) -> float:
    """An ISO date/time (UTC) or a plain number (MJD) as MJD."""
    if _MJD_NUMBER.match(text):
        return float(text)
    from astropy.time import Time

    try:
        return float(Time(text.strip(), format="isot" if "T" in text else "iso", scale="utc").mjd)
    except ValueError:
        try:
            return float(Time(text.strip(), scale="utc").mjd)
        except ValueError:
            raise ValueError(f"{text[:40]!r} is neither an ISO date (2011-08-11 or "
                             "2011-08-11T23:23:52) nor an MJD number") from None
