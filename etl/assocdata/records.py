"""Plain records passed from header readers to the staging loader.

They are the contract between the modules that read FITS files (``fitsfile``,
``cards``, ``columns``, ``wcscheck``), which run in worker processes, and the
loader (``staging``), which streams them into PostgreSQL.  They are small,
picklable and hold only JSON-friendly values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Typed FITS value as stored in JSONB: bool, int, float, str, or None (undefined).
FITSValue = bool | int | float | str | None


@dataclass(slots=True)
class Problem:
    """Something that could not be read: becomes one row of ``staging.rejects``.

    ``hdu`` is the 0-based HDU index (None when the file as a whole failed),
    ``keyword`` the FITS keyword when the problem is in one card.
    ``error_class`` is a short stable code (documented in docs/ingest.md), e.g.
    ``truncated``, ``not-fits``, ``bad-gzip``, ``invalid-value``, ``wcs-crash``.
    """

    error_class: str
    message: str
    hdu: int | None = None
    keyword: str | None = None
    #: 'error': the file, HDU or card could not be read (a reject);
    #: 'warning': it was read by tolerating a departure from the standard.
    severity: str = "error"

    # Problems travel from the workers to the parent by pickle: a plain tuple is
    # several times cheaper than dataclasses' slots pickling (fields() each time).
    def __getstate__(self) -> tuple[object, ...]:
        return (self.error_class, self.message, self.hdu, self.keyword, self.severity)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        (self.error_class, self.message, self.hdu, self.keyword,
         self.severity) = state  # type: ignore[assignment]


@dataclass(slots=True)
class Column:
    """Descriptor of one column of a table HDU (TTYPEn, TFORMn, ...)."""

    number: int  # n in TTYPEn (1-based)
    ttype: str | None = None
    tform: str | None = None
    tunit: str | None = None
    tucd: str | None = None
    tdim: str | None = None
    tdisp: str | None = None
    #: 'spectral' or 'temporal' when the column looks like one, else None.
    role: str | None = None
    #: min and max of the column's data, only read for spectral/temporal columns.
    min: float | None = None
    max: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "n": self.number, "ttype": self.ttype, "tform": self.tform,
            "tunit": self.tunit, "tucd": self.tucd, "tdim": self.tdim,
            "tdisp": self.tdisp, "role": self.role, "min": self.min, "max": self.max,
        }


@dataclass(slots=True)
class HDURecord:
    """One header-data unit, as staged."""

    index: int  # 0-based position in the file
    header_text: str  # every card exactly as in the file
    keywords: dict[str, FITSValue]  # keyword -> typed value (first occurrence)
    duplicates: dict[str, list[FITSValue]] = field(default_factory=dict)
    xtension: str | None = None  # None for the primary HDU
    extname: str | None = None
    bitpix: int | None = None
    naxis: list[int] = field(default_factory=list)  # NAXIS1..NAXISn
    header_offset: int = 0  # byte offset of the header (decompressed stream)
    data_offset: int = 0
    data_size: int = 0
    columns: list[Column] = field(default_factory=list)
    #: verdict of the isolated WCS pre-check: 'ok', 'none' (no WCS keywords),
    #: 'error' (wcslib refused it), 'crash' (it killed the worker), 'skipped'.
    wcs_status: str = "none"
    wcs_message: str | None = None


@dataclass(slots=True)
class FileRecord:
    """One file below a catalogue directory, with its HDUs and problems."""

    catalogue: str
    relpath: str  # path relative to the catalogue directory, '/'-separated
    size: int
    mtime_ns: int
    header_hash: str | None = None  # hex digest of all header blocks
    status: str = "staged"  # 'staged', 'partial' (some HDUs rejected), 'rejected'
    hdus: list[HDURecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
