"""What a derivation rule sees, and what it produces.

Rules are plain Python functions ``rule(ctx, out, config)`` over *staged*
data: the typed keywords, header text and column descriptors of one HDU (as
in ``staging.hdu``), with its file's other HDUs for context. They never open a
FITS file, so the database (PL/Python) and the Python API run the very same
code on the very same input: one implementation per rule.

Every value a rule sets is a :class:`Cell` that says where it came from (the
keywords or columns read and the rule id): the per-cell provenance that
``derive.cell_provenance`` exposes. Problems go to :class:`Issue` (the
``derive.issue`` table).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Bumped when any rule changes what it produces: rows derived under another
#: version are recomputed by the next refresh.
RULES_VERSION = "2026.11.24-2"


def keyword_number(value: Any) -> float | None:
    """A finite number from a staged keyword value (numeric strings too, 'D' exponents), else None.

    Booleans are not numbers here (T/F keywords are flags).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip().replace("D", "E").replace("d", "e"))
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


@dataclass(slots=True)
class HDUContext:
    """One staged HDU, with its file (for the primary header and sibling HDUs)."""

    catalogue: str
    relpath: str
    hdu: int
    keywords: dict[str, Any]
    header_text: str = ""
    xtension: str | None = None
    extname: str | None = None
    bitpix: int | None = None
    naxis: list[int] = field(default_factory=list)
    #: Staged column descriptors of a table: dicts with n, ttype, tform, tunit,
    #: tucd, tdim, tdisp, role ('spectral'|'temporal'|None), min, max.
    columns: list[dict[str, Any]] = field(default_factory=list)
    #: Verdict of the isolated wcslib pre-check: only 'ok' headers go to wcslib.
    wcs_status: str = "none"
    #: Keywords of the file's primary HDU (``{}`` when this is the primary).
    primary: dict[str, Any] = field(default_factory=dict)
    file_size: int | None = None
    n_hdus: int = 1

    @property
    def is_primary(self) -> bool:
        return self.hdu == 0

    @property
    def is_table(self) -> bool:
        return self.xtension in ("BINTABLE", "TABLE")

    def get(self, *names: str, inherit: bool = True) -> tuple[Any, str | None]:
        """The first of ``names`` present: (value, 'KEYWORD' or 'KEYWORD[0]' if from the primary).

        Extensions inherit the primary header's keywords (the INHERIT
        convention, applied whenever the extension lacks the keyword: most
        archives rely on it without writing INHERIT = T), unless INHERIT = F.
        """
        kw = self.keywords
        for name in names:
            value = kw.get(name)
            if value is not None and value != "":
                return value, name
        primary = self.primary
        if inherit and primary and self.hdu != 0 and kw.get("INHERIT") is not False:
            for name in names:
                value = primary.get(name)
                if value is not None and value != "":
                    return value, f"{name}[0]"
        return None, None

    def column(self, *names: str) -> dict[str, Any] | None:
        """A column descriptor by TTYPE (case-insensitive), first match of ``names``."""
        by_name = {(c.get("ttype") or "").strip().upper(): c for c in self.columns}
        for name in names:
            c = by_name.get(name.upper())
            if c is not None:
                return c
        return None

    def columns_with_role(self, role: str) -> list[dict[str, Any]]:
        return [c for c in self.columns if c.get("role") == role]


@dataclass(slots=True)
class Cell:
    """A derived value and how it was obtained."""

    value: Any
    #: keywords (``CRVAL1``, ``OBJECT[0]`` = from the primary header), columns
    #: (``column:WAVELENGTH``), or other inputs (``file``, ``catalogue``).
    sources: tuple[str, ...]
    #: stable rule id, e.g. 'spectral.wcs', 'spectral.house.linear-wat-units'
    rule: str
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"from": list(self.sources), "rule": self.rule}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(slots=True)
class Issue:
    """A problem met while deriving one HDU (``derive.issue``)."""

    code: str  # stable, e.g. 'implausible-mjd', 'unknown-spectral-unit'
    message: str
    column: str | None = None
    severity: str = "warning"  # 'info' | 'warning' | 'error'


@dataclass(slots=True)
class Derivation:
    """The cells and issues of one ObsCore row under construction."""

    cells: dict[str, Cell] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    #: set when the row must not be published (the reason)
    unusable: str | None = None

    def set(self, column: str, value: Any, sources: Iterable[str], rule: str,
            note: str | None = None, *, overwrite: bool = False) -> None:
        """Set a cell unless already set (first rule wins) or value is None."""
        if value is None:
            return
        if column in self.cells and not overwrite:
            return
        self.cells[column] = Cell(value, tuple(sources), rule, note)

    def has(self, column: str) -> bool:
        return column in self.cells

    def value(self, column: str, default: Any = None) -> Any:
        cell = self.cells.get(column)
        return default if cell is None else cell.value

    def issue(self, code: str, message: str, column: str | None = None,
              severity: str = "warning") -> None:
        self.issues.append(Issue(code, message, column, severity))

    def values(self) -> dict[str, Any]:
        return {k: c.value for k, c in self.cells.items()}

    def provenance(self) -> dict[str, dict[str, Any]]:
        return {k: c.as_json() for k, c in self.cells.items()}


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Switches and site settings of the derivation (recorded in provenance when used)."""

    authority: str = "cds.unistra.fr"  # ivo://<authority>/<catalogue>?<file>#<hdu>
    access_base_url: str = "https://cdsarc.cds.unistra.fr/viz-bin/nph-Cat/fits?"
    header_base_url: str = "https://cdsarc.cds.unistra.fr/viz-bin/nph-Cat/txt?"
    #: house rules for non-standard spectra (each switchable)
    house_linear_units: bool = True
    house_iraf_log_linear: bool = True
    house_multispec: bool = True
    house_sdss_coeff: bool = True
    house_class_offset_frequency: bool = True
    #: X-ray/gamma-ray spectra without energy information: the instrument's nominal band
    house_instrument_band: bool = True
    #: LAMOST DATE-BEG/DATE-END are Beijing local time (use LMJM per exposure)
    house_lamost_local_time: bool = True
    #: GOES light curves: TIMEZERO is the day's MJD
    house_goes_timezero: bool = True
    #: old SDSS spSpec: TAI keyword is seconds of TAI MJD
    house_sdss_tai: bool = True
    #: unit assumed for a spectral axis with no unit at all (data-centre default)
    default_spectral_unit: str = "m"
    #: radius (deg) of the s_region circle around a keyword-only position
    keyword_position_radius_deg: float = 1.0 / 60.0
