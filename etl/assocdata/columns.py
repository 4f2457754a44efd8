"""Column descriptors of table HDUs, and the range of their spectral/temporal columns.

ObsCore wants the spectral (em_min/em_max) and temporal (t_min/t_max) coverage
of an observation.  Event lists, light curves, extracted spectra and IRF
tables carry it in columns rather than in WCS keywords, so for each table
HDU we describe every column from its header (TTYPEn, TFORMn, TUNITn, TUCDn,
TDIMn, TDISPn) and give a *role* to the columns that look like a spectral or
temporal coordinate; :func:`read_column_ranges` then reads the data of those
columns only and stores their finite min/max.

The role rule is deliberately conservative (a wrong em_min/t_min is worse
than none), and a role needs a numeric column (TFORM B, I, J, K, E, D, or a
P/Q array of those; ASCII I, F, E, D): string dates get no role.

1. If TUCDn is given, it alone decides: its primary word (before the first
   ';') ``em.wl``, ``em.freq``, ``em.energy``, ``em.wavenumber`` (or a
   sub-word of them, e.g. ``em.wl.central``) -> 'spectral';
   ``time.epoch``, ``time.start``, ``time.end`` (or sub-words) -> 'temporal'.
   Other ``time.*`` words (duration, period, interval) and everything else
   -> no role.
2. Otherwise the name (TTYPEn, case-insensitive) decides:

   - 'spectral': WAVE, WAVELENGTH, LAMBDA, LOGLAM, LOGLAMBDA, LOGWAVE, FREQ,
     FREQUENCY, ENERGY, ENERG_LO, ENERG_HI, E_MIN, E_MAX, WAVN, WAVENUMBER.
   - 'temporal': TIME, TIME_MIN, TIME_MAX, TSTART, TSTOP, TIME_START,
     TIME_STOP, DATE, and MJD/JD/BJD/HJD/BMJD alone or followed by a time
     scale, OBS/MID or a numeric offset (JD-2400000, BJD_TDB, MJD_OBS);
     START and STOP only in a GTI extension (EXTNAME GTI*) or with a time
     unit.

   and TUNITn may veto it: a unit that astropy recognises but that is not a
   length, frequency, energy or wavenumber (spectral), or a time (temporal),
   or dimensionless, removes the role (ENERGY in erg/cm2/s is a flux).
   Units astropy cannot parse (``BJD - 2457000, days``) do not veto.

Not roles, on purpose: CHANNEL and PI (detector channels of PHA spectra:
energy needs the response matrix), EW/FWHM/errors in Angstrom (line widths,
not coordinates), BIN_LO/BIN_HI, TIMECORR/TIMEDEL (corrections, durations),
and any name outside the lists even with a spectral or time unit
(tg_lam, DIST in pc, X in mm).

Compressed images (ZIMAGE = T) get no column descriptors at all (see
:func:`assocdata.cards.to_hdu_record`).

Reading the data.  Not with astropy: ``fits.open`` + ``hdu.data`` cost ~20 ms
per table HDU (it re-reads and re-parses every header of the file and builds
the whole table), most of the ingest's time.  The ObsCore columns need only
the few columns with a role, and the caller has already parsed the keywords
and knows where the data is (:class:`assocdata.fitsfile.RawHeader`), so numpy
reads just those fields in place:

- BINTABLE: one structured dtype holding only the wanted fields (offsets from
  the widths of all TFORMn: L, X in bits, A, B, I, J, K, E, D, C, M, and the
  8/16-byte P/Q descriptors; itemsize NAXIS1) laid over the file's bytes:
  zero copy (a memory map; regions up to 256 KiB are read with one pread,
  which is cheaper).  Values are copied to native byte order in blocks only
  to be reduced.  P/Q columns: the descriptors, then only the heap elements
  they reference (THEAP, default NAXIS1 x NAXIS2).
- TABLE (ASCII): the TBCOLn/TFORMn fields are parsed by numpy.
- gzip files are decompressed once per file, not once per HDU: the caller
  opens one :class:`DataSource` (:func:`open_data`) per file and passes it
  for every HDU.  Only as far as the data asked for, and never more than
  :data:`MAX_DECOMPRESSED` bytes (beyond that: a ``column-data`` problem).

Values: finite ones only, over all elements of array and variable-length
cells; TNULLn applies to integer columns (B, I, J, K and P/Q arrays of them)
and is compared with the stored values, before TSCALn/TZEROn.  Two departures
from astropy, on purpose: rows are NAXIS1 bytes apart even when the columns
are narrower (astropy 8 packs the columns and misreads the rows after the
first), and blank or TNULLn fields of ASCII tables are skipped (astropy turns
an integer TNULLn field into 0).
Anything that cannot be read becomes a ``column-data`` Problem for the column
(keyword TTYPEn), never an exception.
"""

from __future__ import annotations

import gzip
import mmap
import os
import re
import warnings
import zlib
from functools import lru_cache
from os import PathLike
from typing import Any, BinaryIO

import numpy as np

from .records import Column, Problem

SPECTRAL_NAMES = frozenset({
    "WAVE", "WAVELENGTH", "LAMBDA", "LOGLAM", "LOGLAMBDA", "LOGWAVE", "FREQ",
    "FREQUENCY", "ENERGY", "ENERG_LO", "ENERG_HI", "E_MIN", "E_MAX", "WAVN",
    "WAVENUMBER",
})
TEMPORAL_NAMES = frozenset({
    "TIME", "TIME_MIN", "TIME_MAX", "TSTART", "TSTOP", "TIME_START", "TIME_STOP", "DATE",
})
_JD_NAME_RE = re.compile(
    r"(?:M?JD|BJD|HJD|BMJD)(?:[-_ ]?(?:TDB|TT|UTC|TCB|TAI|UT|OBS|MID|[0-9]+(?:\.[0-9]+)?))?")
_GTI_NAMES = frozenset({"START", "STOP"})
_SPECTRAL_UCD = ("em.wl", "em.freq", "em.energy", "em.wavenumber")
_TEMPORAL_UCD = ("time.epoch", "time.start", "time.end")
_SPECTRAL_TYPES = frozenset({"length", "frequency", "energy", "wavenumber", "dimensionless"})
_TEMPORAL_TYPES = frozenset({"time", "dimensionless"})
#: Binary table TFORM: repeat, type, rest (e.g. 1024D, 1PE(4096), 32L).
_BINARY_TFORM_RE = re.compile(r"\s*([0-9]*)([LXBIJKAEDCMPQ])(.*)", re.I)
#: ASCII table TFORM: Iw, Fw.d, Ew.d, Dw.d (Aw is text).
_ASCII_NUMERIC_RE = re.compile(r"\s*[IFEDG][0-9]", re.I)
_NUMERIC_CODES = frozenset("BIJKED")
#: What :meth:`DataSource.region` hands out: numpy arrays are made over it, without copy.
Buffer = mmap.mmap | memoryview | bytes


def describe_columns(keywords: dict[str, Any], hdu: int) -> list[Column]:
    """Column descriptors of a BINTABLE/TABLE header, roles included.

    ``keywords`` are the parsed keywords of the header
    (:attr:`assocdata.cards.ParsedHeader.keywords`).  Missing TFORMn etc. give
    None fields; a missing or invalid TFIELDS gives no columns.  ``hdu`` is
    accepted for symmetry with the other readers (descriptors have no errors
    of their own: an unreadable TFORM only means "no role").
    """
    tfields = keywords.get("TFIELDS")
    if type(tfields) is not int or tfields <= 0:
        return []
    ascii_table = keywords.get("XTENSION") == "TABLE"
    extname = keywords.get("EXTNAME")
    gti = isinstance(extname, str) and extname.strip().upper().startswith("GTI")
    get = keywords.get
    columns = []
    for n in range(1, tfields + 1):
        names = _DESCRIPTOR_KEYS[n] if n < len(_DESCRIPTOR_KEYS) else _descriptor_keys(n)
        ttype, tform, tunit, tucd, tdim, tdisp = (_text(get(key)) for key in names)
        column = Column(n, ttype, tform, tunit, tucd, tdim, tdisp)
        if _is_numeric(tform, ascii_table):
            column.role = column_role(ttype, tunit, tucd, gti)
        columns.append(column)
    return columns


def _descriptor_keys(n: int) -> tuple[str, ...]:
    return (f"TTYPE{n}", f"TFORM{n}", f"TUNIT{n}", f"TUCD{n}", f"TDIM{n}", f"TDISP{n}")


#: The descriptor keywords of columns 1..999 (formatted once, not per header).
_DESCRIPTOR_KEYS = [()] + [_descriptor_keys(n) for n in range(1, 1000)]


def _text(value: Any) -> str | None:
    """A descriptor keyword as text (None when absent or undefined)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(value)


@lru_cache(maxsize=4096)
def _is_numeric(tform: str | None, ascii_table: bool) -> bool:
    """Whether a TFORM holds numbers (cached: archives reuse a few hundred forms)."""
    if not tform:
        return False
    if ascii_table:
        return bool(_ASCII_NUMERIC_RE.match(tform))
    m = _BINARY_TFORM_RE.match(tform)
    if m is None:
        return False
    code = m.group(2).upper()
    if code in "PQ":
        return m.group(3)[:1].upper() in _NUMERIC_CODES
    return code in _NUMERIC_CODES and m.group(1) != "0"


@lru_cache(maxsize=16384)
def column_role(ttype: str | None, tunit: str | None, tucd: str | None,
                gti: bool = False) -> str | None:
    """'spectral', 'temporal' or None for one column (the module's rule).

    Cached on the descriptor strings, as :func:`_unit_types` is: real
    collections repeat the same column descriptions from file to file.
    """
    if tucd and tucd.strip():
        return _ucd_role(tucd)
    if not ttype:
        return None
    name = ttype.strip().upper()
    kinds = _unit_types(tunit)
    if name in SPECTRAL_NAMES:
        role, allowed = "spectral", _SPECTRAL_TYPES
    elif name in TEMPORAL_NAMES or _JD_NAME_RE.fullmatch(name):
        role, allowed = "temporal", _TEMPORAL_TYPES
    elif name in _GTI_NAMES and (gti or (kinds is not None and "time" in kinds)):
        role, allowed = "temporal", _TEMPORAL_TYPES
    else:
        return None
    if kinds is not None and kinds.isdisjoint(allowed):
        return None  # a known unit of another kind: not a coordinate
    return role


def _ucd_role(tucd: str) -> str | None:
    """Role from the primary word of a UCD."""
    primary = tucd.split(";", 1)[0].strip().lower()
    for prefixes, role in ((_SPECTRAL_UCD, "spectral"), (_TEMPORAL_UCD, "temporal")):
        for prefix in prefixes:
            if primary == prefix or primary.startswith(prefix + "."):
                return role
    return None


@lru_cache(maxsize=4096)
def _unit_types(tunit: str | None) -> frozenset[str] | None:
    """Physical types of a TUNIT ({'length'}, {'energy', 'torque', 'work'}, ...).

    None when there is no unit, astropy cannot parse it, or its physical type
    is unknown (pixel, count, dex): those never veto a role.
    """
    if tunit is None or not tunit.strip():
        return None
    from astropy import units as u

    text = tunit.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            unit = u.Unit(text, format="fits", parse_strict="silent")
            if isinstance(unit, u.UnrecognizedUnit):
                unit = u.Unit(text, parse_strict="silent")
            if isinstance(unit, u.UnrecognizedUnit):
                return None
            kinds = frozenset(str(k) for k in unit.physical_type)
        except Exception:  # odd strings raise various types
            return None
    return None if not kinds or kinds == {"unknown"} else kinds


# --------------------------------------------------------------------------
# The bytes of a file: memory-mapped, or decompressed once
# --------------------------------------------------------------------------
#: A gzip file is decompressed only up to this many bytes (the end of the last
#: table data it is asked for); data beyond it gives a ``column-data`` problem.
MAX_DECOMPRESSED = 512 << 20
_GZIP_MAGIC = b"\x1f\x8b"
#: Bytes decompressed per step (the buffer grows by doubling).
_INFLATE_CHUNK = 1 << 20
#: Plain files: regions up to this size are read (pread), larger ones memory-mapped.
_READ_SMALL = 256 << 10
#: Plain files up to this size are mapped whole, once; larger ones region by region.
_MAP_WHOLE = 64 << 20
#: Elements reduced at once (a native copy of that many values is made).
_BLOCK = 1 << 18
#: Table rows are read in windows of about this many bytes (one mapping each).
_WINDOW = 64 << 20


class ColumnDataError(Exception):
    """The data of a table, or of one of its columns, cannot be read (the message says why)."""


class DataSource:
    """Random access to the bytes of one FITS file, decompressed if need be.

    Make one per file with :func:`open_data` and pass it to every
    :func:`read_column_ranges` call for that file.  Nothing is opened before
    the first :meth:`region` call, so a file none of whose HDUs needs a
    column costs nothing.  Offsets are in the decompressed stream, as in
    :class:`assocdata.fitsfile.RawHeader`.

    - Plain files: memory-mapped read-only, so numpy arrays over the regions
      copy nothing: the whole file once if it is at most 64 MiB, else each
      region asked for (the previous one released: the workers' address-space
      limit counts mapped bytes).  Regions up to 256 KiB are read with one
      pread instead (cheaper than mapping them).
    - gzip (magic bytes 1f 8b, whatever the name): the stream is decompressed
      once, forward, into one in-memory buffer, as far as the regions asked
      for need and never beyond ``max_decompressed`` bytes.  The same
      :mod:`gzip` reader as :func:`assocdata.fitsfile.read_headers` is used,
      so offsets agree (multi-member streams included).
    """

    def __init__(self, path: str | PathLike[str], max_decompressed: int = MAX_DECOMPRESSED,
                 decompressed: bytes | None = None) -> None:
        self.path = os.fspath(path)
        self.max_decompressed = max_decompressed
        #: None until opened; then whether the file is gzip-compressed.
        self.compressed: bool | None = None
        self._file: BinaryIO | None = None
        self._size = 0  # plain file: its size
        self._maps: list[tuple[int, mmap.mmap]] = []  # plain file: (file offset, mapping)
        self._gz: gzip.GzipFile | None = None
        self._buf = bytearray()  # gzip: decompressed bytes [0, _have), capacity len(_buf)
        self._have = 0
        self._error: str | None = None  # why the file cannot be (further) read
        self._closed = False
        #: the whole decompressed content, given by the caller (fitsfile.inflate)
        self._whole = decompressed

    def __enter__(self) -> DataSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the mappings, the buffer and the file (idempotent)."""
        self._closed = True
        self._unmap()
        self._gz = None
        self._buf = bytearray()
        self._whole = None
        self._have = 0
        if self._file is not None:
            self._file.close()
            self._file = None

    def region(self, offset: int, size: int) -> tuple[Buffer, int]:
        """Bytes [offset, offset + size) of the (decompressed) file.

        Returns a read-only buffer and the position of ``offset`` in it.
        Raises :class:`ColumnDataError` when the bytes do not all exist (file
        too short, corrupt gzip stream) or lie beyond ``max_decompressed``.
        """
        if offset < 0 or size < 0:
            raise ColumnDataError(f"invalid byte range ({offset}, {size})")
        if self._closed:
            raise ColumnDataError("the data source is closed")
        if self.compressed is None:
            self._open()
        end = offset + size
        if self._whole is not None:
            if end > len(self._whole):  # (the header reader never gives such an HDU)
                if end > self.max_decompressed:
                    raise ColumnDataError(self._beyond(end))
                raise ColumnDataError(self._short(offset, size, len(self._whole)))
            return self._whole, offset
        if self.compressed:
            self._inflate(end)
            if self._have < end:
                raise ColumnDataError(self._short(offset, size, self._have))
            return memoryview(self._buf).toreadonly(), offset
        if end > self._size:
            raise ColumnDataError(self._short(offset, size, self._size))
        if size == 0:
            return b"", 0
        for start, m in self._maps:
            if start <= offset and end <= start + len(m):
                return m, offset - start
        assert self._file is not None
        if size <= _READ_SMALL:  # one pread is cheaper than mmap + munmap
            try:
                data = os.pread(self._file.fileno(), size, offset)
            except OSError as exc:
                raise ColumnDataError(f"cannot read bytes {offset}..{end} of the file: "
                                      f"{exc.strerror or exc}") from None
            if len(data) < size:
                raise ColumnDataError(self._short(offset, size, offset + len(data)))
            return data, 0
        if self._size <= _MAP_WHOLE:
            start, length = 0, self._size
        else:  # only this region; the previous one is released
            start = offset - offset % mmap.ALLOCATIONGRANULARITY
            length = end - start
            self._unmap()
        try:
            m = mmap.mmap(self._file.fileno(), length, access=mmap.ACCESS_READ, offset=start)
        except (OSError, ValueError) as exc:
            raise ColumnDataError(f"cannot map bytes {offset}..{end} of the file: {exc}") from None
        self._maps.append((start, m))
        return m, offset - start

    def _unmap(self) -> None:
        for _, m in self._maps:
            try:
                m.close()
            except BufferError:  # an array still refers to it: the GC will unmap it
                pass
        self._maps.clear()

    def _short(self, offset: int, size: int, have: int) -> str:
        what = "decompressed stream" if self.compressed else "file"
        why = f" ({self._error})" if self._error else ""
        return (f"data truncated: bytes {offset}..{offset + size} needed, the {what} has "
                f"{have}{why}")

    def _open(self) -> None:
        if self._whole is not None:
            self.compressed = True
            return
        try:
            f = open(self.path, "rb", buffering=0)  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise ColumnDataError(f"cannot open the file: {exc.strerror or exc}") from None
        self._file = f
        try:
            self.compressed = f.read(2) == _GZIP_MAGIC
            if self.compressed:
                f.seek(0)
                self._gz = gzip.GzipFile(fileobj=f, mode="rb")
            else:
                self._size = os.fstat(f.fileno()).st_size
        except OSError as exc:
            f.close()
            self._file, self.compressed = None, None
            raise ColumnDataError(f"cannot read the file: {exc.strerror or exc}") from None

    def _beyond(self, end: int) -> str:
        return (f"the data ends at byte {end} of the decompressed stream, beyond the "
                f"{self.max_decompressed} bytes a gzip file may be decompressed to")

    def _inflate(self, end: int) -> None:
        """Decompress until ``end`` bytes are there (or the stream ends / breaks)."""
        if end <= self._have or self._gz is None:
            return
        if end > self.max_decompressed:
            raise ColumnDataError(self._beyond(end))
        while self._have < end:
            want = min(max(end, self._have + _INFLATE_CHUNK), self.max_decompressed)
            if want > len(self._buf):
                # A new buffer, not a resize: arrays may still view the old one.
                grown = bytearray(min(max(want, 2 * len(self._buf)), self.max_decompressed))
                grown[:self._have] = memoryview(self._buf)[:self._have]
                self._buf = grown
            try:
                with memoryview(self._buf) as view:
                    n = self._gz.readinto(view[self._have:want])
            except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
                self._error = (f"the gzip stream breaks after decompressed byte {self._have}: "
                               f"{type(exc).__name__}: {exc}")
                n = 0
            if not n:
                self._gz = None  # end of stream (or broken): nothing more to get
                return
            self._have += n


def open_data(path: str | PathLike[str], *, max_decompressed: int = MAX_DECOMPRESSED,
              decompressed: bytes | None = None) -> DataSource:
    """A :class:`DataSource` for ``path`` (a context manager); opens nothing yet.

    ``decompressed``: the whole content of a gzip file, already decompressed
    by :func:`assocdata.fitsfile.inflate` for the header reader: no second
    decompression.
    """
    return DataSource(path, max_decompressed, decompressed)


# --------------------------------------------------------------------------
# Reading the data
# --------------------------------------------------------------------------
#: Bytes per element of the binary table types (X is counted in bits).
_BINARY_WIDTHS = {"L": 1, "X": 1, "B": 1, "A": 1, "I": 2, "J": 4, "K": 8, "E": 4, "D": 8,
                  "C": 8, "M": 16, "P": 8, "Q": 16}
#: numpy dtypes of the numeric binary table types (FITS is big-endian).
_NUMPY_TYPES = {"B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}
#: Descriptor element types of P and Q columns (count, heap offset); P read unsigned.
_DESCRIPTOR_TYPES = {"P": ">u4", "Q": ">i8"}
#: ASCII table TFORM: Aw, Iw, Fw.d, Ew.d, Dw.d (Gw.d tolerated).
_ASCII_TFORM_RE = re.compile(r"\s*([AIFEDG])([0-9]+)(?:\.[0-9]+)?\s*", re.I)


def read_column_ranges(path: str | PathLike[str], hdu_index: int, columns: list[Column], *,
                       keywords: dict[str, Any] | None = None, data_offset: int | None = None,
                       data_size: int | None = None,
                       source: DataSource | None = None) -> list[Problem]:
    """Fill ``min``/``max`` of the columns that have a role, in place.

    Only those columns are read, with numpy over the file's bytes (no copy
    for plain files).  Over all elements of array and variable-length cells,
    skipping non-finite values, and TNULLn values of integer columns (compared
    with the stored values, before TSCALn/TZEROn).  A column without any valid
    value keeps min = max = None.  Returns one ``column-data`` Problem per
    column that could not be read.

    Fast form, for a caller that has read the headers: ``keywords`` (the
    parsed keywords of the HDU), ``data_offset`` and ``data_size`` (from
    :class:`assocdata.fitsfile.RawHeader`, offsets in the decompressed stream)
    and ``source`` (one :func:`open_data` per file, so a gzip file is
    decompressed once for all its HDUs).  Without them the headers are read
    here (:func:`assocdata.fitsfile.read_headers`) and the file is opened for
    this call only.  Header text files (``.hdr``) have no data: nothing is read.
    """
    wanted = [c for c in columns if c.role]
    if not wanted:
        return []
    from .fitsfile import is_header_file

    if is_header_file(path):
        return []
    own = source is None
    try:
        if keywords is None or data_offset is None:
            keywords, data_offset, data_size = _locate(path, hdu_index, keywords)
        if source is None:
            source = DataSource(path)
        problems = _read_ranges(source, hdu_index, wanted, keywords, data_offset, data_size)
        problems.sort(key=lambda p: int(str(p.keyword)[5:]))  # in column order
        return problems
    except ColumnDataError as exc:
        return [_problem(hdu_index, c, exc) for c in wanted]
    finally:
        if own and source is not None:
            source.close()


def _locate(path: str | PathLike[str], hdu_index: int,
            keywords: dict[str, Any] | None) -> tuple[dict[str, Any], int, int]:
    """Keywords, data offset and data size of one HDU, from the file's headers."""
    from .cards import parse_header
    from .fitsfile import FITSReadError, read_headers

    try:
        raws, _, problems = read_headers(path)
    except FITSReadError as exc:
        raise ColumnDataError(f"cannot read the headers ({exc.error_class}): {exc}") from None
    for raw in raws:
        if raw.index == hdu_index:
            if keywords is None:
                keywords = parse_header(raw.text, raw.index, raw.card_sep).keywords
            return keywords, raw.data_offset, raw.data_size
    why = "; ".join(p.message for p in problems if p.hdu == hdu_index)
    raise ColumnDataError(f"no HDU {hdu_index} in the file ({len(raws)} HDUs read"
                          f"{': ' + why if why else ''})")


def _problem(hdu_index: int, column: Column, exc: BaseException) -> Problem:
    why = str(exc) if isinstance(exc, ColumnDataError) else f"{type(exc).__name__}: {exc}"
    return Problem(
        "column-data",
        f"HDU {hdu_index}: cannot read column {column.number} ({column.ttype!r}, "
        f"TFORM {column.tform!r}): {why}",
        hdu_index, f"TTYPE{column.number}")


def _count(keywords: dict[str, Any], key: str, default: int | None = None) -> int:
    """A non-negative integer keyword (NAXIS1, PCOUNT, ...)."""
    value = keywords.get(key, default)
    if type(value) is not int or value < 0:
        raise ColumnDataError(f"{key} = {value!r} is not a valid count" if key in keywords
                              else f"{key} is missing")
    return value


def _number(keywords: dict[str, Any], key: str, default: int) -> int | float:
    """TSCALn/TZEROn: a number, ``default`` when absent."""
    value = keywords.get(key, default)
    if type(value) not in (int, float):
        raise ColumnDataError(f"{key} = {value!r} is not a number")
    return value


def _read_ranges(source: DataSource, hdu_index: int, wanted: list[Column],
                 keywords: dict[str, Any], data_offset: int,
                 data_size: int | None) -> list[Problem]:
    """The ranges of the ``wanted`` columns of one table HDU (see read_column_ranges)."""
    xtension = keywords.get("XTENSION")
    ascii_table = xtension == "TABLE"
    if not ascii_table and xtension not in ("BINTABLE", "A3DTABLE"):
        raise ColumnDataError(f"not a table HDU (XTENSION = {xtension!r})")
    naxis1, naxis2 = _count(keywords, "NAXIS1"), _count(keywords, "NAXIS2")
    tfields = _count(keywords, "TFIELDS")
    table_bytes = naxis1 * naxis2
    if data_size is not None and table_bytes > data_size:
        raise ColumnDataError(f"the data part has {data_size} bytes, fewer than NAXIS1 x "
                              f"NAXIS2 = {table_bytes}")
    if naxis2 == 0:
        return []  # no rows: no values
    problems: list[Problem] = []
    # 1. Where each column is in a row (and its scaling is valid): one
    #    structured dtype for all of them.
    fields: dict[int, tuple[str, Any, int, str]] = {}  # number -> (name, format, offset, code)
    for column in wanted:
        try:
            if not 1 <= column.number <= tfields:
                raise ColumnDataError(f"no column {column.number} (TFIELDS = {tfields})")
            _number(keywords, f"TSCAL{column.number}", 1)
            _number(keywords, f"TZERO{column.number}", 0)
            if ascii_table:
                fields[column.number] = _ascii_field(keywords, column.number, naxis1)
            else:
                fields[column.number] = _binary_field(keywords, column.number, naxis1)
        except ColumnDataError as exc:
            problems.append(_problem(hdu_index, column, exc))
    if not fields:
        return problems
    names = [f"c{n}" for n in fields]
    dtype = np.dtype({"names": names, "formats": [f[1] for f in fields.values()],
                      "offsets": [f[2] for f in fields.values()], "itemsize": naxis1})
    todo = [c for c in wanted if c.number in fields]
    results: dict[int, tuple[Any, Any] | None] = {c.number: None for c in todo}
    # 2. The range of each column, over windows of rows (bounded mappings).
    step = max(1, _WINDOW // naxis1) if naxis1 else naxis2
    for first in range(0, naxis2, step):
        nrows = min(step, naxis2 - first)
        try:
            buffer, start = source.region(data_offset + first * naxis1, nrows * naxis1)
        except ColumnDataError as exc:
            problems.extend(_problem(hdu_index, c, exc) for c in todo)
            return problems
        rows = np.ndarray(shape=(nrows,), dtype=dtype, buffer=buffer, offset=start)
        for column in list(todo):
            try:
                part = _field_range(source, keywords, column.number, fields[column.number][3],
                                    rows[fields[column.number][0]], ascii_table, data_offset,
                                    table_bytes)
            except MemoryError:
                raise
            except Exception as exc:  # one bad column must not stop the others
                problems.append(_problem(hdu_index, column, exc))
                todo.remove(column)
                continue
            results[column.number] = _merge(results[column.number], part)
        del rows, buffer  # before the next window is mapped
    for column in todo:
        low_high = results[column.number]
        if low_high is not None:
            n = column.number
            column.min, column.max = _scaled(low_high, _number(keywords, f"TSCAL{n}", 1),
                                             _number(keywords, f"TZERO{n}", 0))
    return problems


def _field_range(source: DataSource, keywords: dict[str, Any], n: int, code: str,
                 values: np.ndarray, ascii_table: bool, data_offset: int,
                 table_bytes: int) -> tuple[Any, Any] | None:
    """Stored (min, max) of column n over some rows (``values``: its field)."""
    tnull = keywords.get(f"TNULL{n}")
    if ascii_table:
        return _ascii_range(values, tnull)
    tnull = tnull if type(tnull) is int else None
    if code in _DESCRIPTOR_TYPES:
        return _vla_range(source, keywords, data_offset, table_bytes, values,
                          keywords[f"TFORM{n}"], tnull)
    return _finite_range(values, tnull if code in "BIJK" else None)


def _merge(a: tuple[Any, Any] | None, b: tuple[Any, Any] | None) -> tuple[Any, Any] | None:
    if a is None or b is None:
        return a if b is None else b
    return min(a[0], b[0]), max(a[1], b[1])


def _scaled(low_high: tuple[Any, Any], tscal: int | float,
            tzero: int | float) -> tuple[float, float]:
    """Physical (min, max) from the stored ones."""
    low, high = float(low_high[0]), float(low_high[1])
    if tscal != 1 or tzero != 0:
        low, high = low * tscal + tzero, high * tscal + tzero
        low, high = min(low, high), max(low, high)
    return float(low), float(high)


@lru_cache(maxsize=4096)
def _binary_tform(tform: str) -> tuple[int, str, str, int] | None:
    """(repeat, type code, rest, width in bytes) of a binary TFORM, None if invalid."""
    m = _BINARY_TFORM_RE.match(tform)
    if m is None:
        return None
    repeat = int(m.group(1)) if m.group(1) else 1
    code = m.group(2).upper()
    width = -(-repeat // 8) if code == "X" else repeat * _BINARY_WIDTHS[code]
    return repeat, code, m.group(3), width


def _tform(keywords: dict[str, Any], n: int) -> tuple[int, str, str, int]:
    tform = keywords.get(f"TFORM{n}")
    parsed = _binary_tform(tform) if isinstance(tform, str) else None
    if parsed is None:
        raise ColumnDataError(f"TFORM{n} = {tform!r} is not a binary table format")
    return parsed


def _binary_field(keywords: dict[str, Any], n: int, naxis1: int) -> tuple[str, Any, int, str]:
    """(field name, numpy format, byte offset in the row, type code) of column n.

    The offset is the sum of the widths of columns 1..n-1 (all types count:
    L, X in bits, A, C, M, P/Q descriptors); rows are NAXIS1 bytes apart.
    """
    offset = 0
    for k in range(1, n):
        offset += _tform(keywords, k)[3]
    repeat, code, rest, width = _tform(keywords, n)
    if offset + width > naxis1:
        raise ColumnDataError(f"column {n} (bytes {offset}..{offset + width} of a row) does "
                              f"not fit in NAXIS1 = {naxis1}")
    if code in _DESCRIPTOR_TYPES:
        element = rest[:1].upper()
        if repeat != 1 or element not in _NUMPY_TYPES:
            raise ColumnDataError(f"TFORM{n} = {keywords[f'TFORM{n}']!r} is not a numeric "
                                  f"variable-length array")
        return f"c{n}", (_DESCRIPTOR_TYPES[code], (2,)), offset, code
    if code not in _NUMPY_TYPES or repeat == 0:
        raise ColumnDataError(f"TFORM{n} = {keywords[f'TFORM{n}']!r} is not numeric")
    base = _NUMPY_TYPES[code]
    return f"c{n}", base if repeat == 1 else (base, (repeat,)), offset, code


def _ascii_field(keywords: dict[str, Any], n: int, naxis1: int) -> tuple[str, Any, int, str]:
    """(field name, numpy format 'S<w>', byte offset, type code) of ASCII column n."""
    tform = keywords.get(f"TFORM{n}")
    m = _ASCII_TFORM_RE.fullmatch(tform) if isinstance(tform, str) else None
    if m is None or m.group(1).upper() == "A":
        raise ColumnDataError(f"TFORM{n} = {tform!r} is not a numeric ASCII table format")
    tbcol = keywords.get(f"TBCOL{n}")
    width = int(m.group(2))
    if type(tbcol) is not int or tbcol < 1 or tbcol - 1 + width > naxis1 or width == 0:
        raise ColumnDataError(f"TBCOL{n} = {tbcol!r} with TFORM{n} = {tform!r} does not fit "
                              f"in NAXIS1 = {naxis1}")
    return f"c{n}", f"S{width}", tbcol - 1, m.group(1).upper()


def _finite_range(values: np.ndarray, null: int | None) -> tuple[Any, Any] | None:
    """Stored (min, max) of an array, ignoring non-finite values and ``null``.

    The (strided, big-endian) view is copied to native order in blocks of
    ``_BLOCK`` elements, which makes the reductions twice as fast and bounds
    the memory used.  fmin/fmax skip NaN; an infinity or the null value can
    only matter if it is an extreme, so only then are values masked.
    """
    if values.size == 0:
        return None
    native = values.dtype.newbyteorder("=")
    per_row = values.size // len(values)
    step = max(1, _BLOCK // max(per_row, 1))
    result: tuple[Any, Any] | None = None
    for i in range(0, len(values), step):
        part = _block_range(values[i:i + step].astype(native).ravel(), null)
        result = _merge(result, part)
    return result


def _block_range(flat: np.ndarray, null: int | None) -> tuple[Any, Any] | None:
    """_finite_range of a 1-d native array."""
    if flat.dtype.kind == "f":
        low, high = np.fmin.reduce(flat), np.fmax.reduce(flat)
        if np.isfinite(low) and np.isfinite(high):
            return low, high
        if np.isnan(low):  # fmin returns NaN only when all values are NaN
            return None
        flat = flat[np.isfinite(flat)]
    else:
        low, high = flat.min(), flat.max()
        if null is None or (low != null and high != null):
            return low, high
        flat = flat[flat != null]
    if flat.size == 0:
        return None
    return flat.min(), flat.max()


def _vla_range(source: DataSource, keywords: dict[str, Any], data_offset: int,
               table_bytes: int, descriptors: np.ndarray, tform: str,
               tnull: int | None) -> tuple[Any, Any] | None:
    """Range over every element of a P/Q column, read from the heap.

    Cells may share or overlap heap bytes; min/max only need each element
    once, so the elements covered by any cell are marked (per alignment of
    the cell offsets modulo the element size) and reduced together.
    """
    _, _, rest, _ = _binary_tform(tform)  # type: ignore[misc]  # checked by _binary_field
    element = rest[:1].upper()
    itemsize = _BINARY_WIDTHS[element]
    null = tnull if element in "BIJK" else None
    pcount = _count(keywords, "PCOUNT", 0)
    theap = _count(keywords, "THEAP", table_bytes)
    heap_size = table_bytes + pcount - theap
    count = descriptors[:, 0].astype(np.int64)
    start = descriptors[:, 1].astype(np.int64)
    used = count != 0
    if not used.any():
        return None
    count, start = count[used], start[used]
    bad = (count < 0) | (start < 0) | (count > heap_size) | (start + count * itemsize > heap_size)
    if bad.any():
        i = int(np.argmax(bad))
        row = int(np.flatnonzero(used)[i]) + 1
        raise ColumnDataError(f"the descriptor of row {row} ({int(count[i])} elements at heap "
                              f"byte {int(start[i])}) points outside the heap of "
                              f"{max(heap_size, 0)} bytes (THEAP {theap}, PCOUNT {pcount})")
    low = int(start.min())
    high = int((start + count * itemsize).max())
    buffer, base = source.region(data_offset + theap + low, high - low)
    start -= low
    dtype = np.dtype(_NUMPY_TYPES[element])
    phases = start % itemsize
    result: tuple[Any, Any] | None = None
    for phase in np.unique(phases).tolist():
        sel = phases == phase
        first = (start[sel] - phase) // itemsize
        last = first + count[sel]
        n = (high - low - phase) // itemsize
        values = np.ndarray(shape=(n,), dtype=dtype, buffer=buffer, offset=base + phase)
        if first.size == 1:
            values = values[int(first[0]):int(last[0])]
        else:
            covered = np.cumsum(np.bincount(first, minlength=n + 1)
                                - np.bincount(last, minlength=n + 1))[:n] > 0
            if not covered.all():
                values = values[covered]
        part = _finite_range(values, null)
        result = _merge(result, part)
    return result


def _ascii_range(fields: np.ndarray, tnull: Any) -> tuple[Any, Any] | None:
    """Range of an ASCII table column (fields of bytes), blank and TNULLn fields skipped."""
    text = np.char.strip(fields)
    keep = text != b""
    if tnull is not None and not isinstance(tnull, bool):
        keep &= text != str(tnull).strip().encode("latin-1", "replace")
    text = text[keep]
    if text.size == 0:
        return None
    text = np.char.replace(np.char.replace(text, b"D", b"E"), b"d", b"e")
    try:
        values = text.astype(np.float64)
    except ValueError as exc:
        raise ColumnDataError(f"not a number: {exc}") from None
    return _finite_range(values, None)
