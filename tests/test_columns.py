"""columns: descriptors, roles, and the numpy reader's min/max against astropy's data
(every column with a role in the corpus, exactly), plus hand-made layouts astropy
does not write (shared heap cells, THEAP gaps, padded rows, ASCII nulls)."""

from __future__ import annotations

import csv
import gzip
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from assocdata import columns as columns_module
from assocdata.cards import parse_header, to_hdu_record
from assocdata.columns import (
    DataSource,
    column_role,
    describe_columns,
    open_data,
    read_column_ranges,
)
from assocdata.fitsfile import inflate, read_headers
from assocdata.records import Column

CORPUS = Path(os.environ.get("ASSOCDATA_FITS_CORPUS", "/work/shared/fits-corpus"))
HAVE_CORPUS = (CORPUS / "MANIFEST.tsv").exists()
needs_corpus = pytest.mark.skipif(not HAVE_CORPUS, reason="FITS corpus not available")


def _by_id() -> dict[str, Path]:
    if not HAVE_CORPUS:
        return {}
    with open(CORPUS / "MANIFEST.tsv", newline="") as f:
        return {e["id"]: CORPUS / e["file"] for e in csv.DictReader(f, delimiter="\t")}


FILES = _by_id()


def _records(path: Path):
    return [to_hdu_record(raw) for raw in read_headers(path)[0]]


def _numpy_range(path: Path, hdu: int, name: str) -> tuple[float, float]:
    """The reference: numpy over astropy's (scaled) column, NaN ignored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path) as hdul:
            data = hdul[hdu].data[name]
            if data.dtype == object:  # variable-length arrays
                data = np.concatenate([np.ravel(cell) for cell in data])
            values = np.asarray(data, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    return float(values.min()), float(values.max())


@needs_corpus
@pytest.mark.parametrize("entry_id, hdu, name, role", [
    ("dev066", 1, "WAVELENGTH", "spectral"),  # HST/STIS x1d, 1024D array cells
    ("dev067", 1, "LAMBDA", "spectral"),  # DEIMOS spec1d, 4096E
    ("dev067", 4, "LAMBDA", "spectral"),
    ("dev021", 1, "LOGLAM", "spectral"),  # LAMOST MRS
    ("dev021", 16, "LOGLAM", "spectral"),
    ("dev006", 1, "TIME", "temporal"),  # TESS, unit 'BJD - 2457000, days', NaNs
    ("dev008", 1, "TIME", "temporal"),  # Kepler
    ("dev017", 1, "TIME", "temporal"),  # Fermi events, gzip
    ("dev017", 1, "ENERGY", "spectral"),
    ("dev017", 2, "START", "temporal"),  # GTI
    ("dev019", 1, "time_min", "temporal"),  # H.E.S.S. light curve, MJD
    ("dev019", 1, "time_max", "temporal"),
    ("dev019", 1, "e_min", "spectral"),
    ("dev018", 3, "ENERG_LO", "spectral"),  # IRF table, 96E cells, gzip
    ("dev013", 1, "JD-2400000", "temporal"),
])
def test_ranges_match_numpy(entry_id: str, hdu: int, name: str, role: str) -> None:
    path = FILES[entry_id]
    record = _records(path)[hdu]
    [column] = [c for c in record.columns if c.ttype == name]
    assert column.role == role
    problems = read_column_ranges(path, hdu, record.columns)
    assert problems == []
    assert (column.min, column.max) == pytest.approx(_numpy_range(path, hdu, name), rel=0, abs=0)
    # only the columns with a role are read
    assert all(c.min is None for c in record.columns if not c.role)


@needs_corpus
def test_descriptors_of_a_corpus_table() -> None:
    record = _records(FILES["dev066"])[1]
    wave = record.columns[2]
    assert (wave.number, wave.ttype, wave.tform, wave.tunit) == (3, "WAVELENGTH", "1024D", "Angstroms")
    assert [c.role for c in record.columns].count("spectral") == 1
    assert all(c.role is None for c in record.columns if c.ttype != "WAVELENGTH")
    assert len(record.columns) == record.keywords["TFIELDS"]


@needs_corpus
def test_roles_in_corpus_are_conservative() -> None:
    """The roles given over the whole corpus, one line per (file, HDU)."""
    seen = {}
    for entry_id, path in FILES.items():
        for record in _records(path):
            roles = {c.ttype: c.role for c in record.columns if c.role}
            if roles:
                seen[(entry_id, record.index)] = roles
    assert seen[("dev032", 1)] == {"time": "temporal", "energy": "spectral"}  # not tg_lam
    assert seen[("dev015", 1)] == {"E_MIN": "spectral", "E_MAX": "spectral"}  # not CHANNEL
    assert seen[("dev051", 2)] == {"START": "temporal", "STOP": "temporal"}  # GTI, no unit
    assert ("dev050", 1) not in seen  # PHA: CHANNEL, BIN_LO/BIN_HI
    assert ("dev035", 1) not in seen  # EDGES in angstrom
    assert seen[("dev006", 1)] == {"TIME": "temporal"}  # not TIMECORR
    assert seen[("dev048", 1)] == {"wave": "spectral"}  # not waveErr, ew, restWave


@pytest.mark.parametrize("ttype, tunit, tucd, gti, role", [
    ("WAVELENGTH", "Angstrom", None, False, "spectral"),
    ("wave", None, None, False, "spectral"),
    ("LOGLAM", "dex", None, False, "spectral"),
    ("FREQ", "GHz", None, False, "spectral"),
    ("ENERGY", "keV", None, False, "spectral"),
    ("ENERGY", "erg/cm2/s", None, False, None),  # a flux
    ("WAVENUMBER", "1/cm", None, False, "spectral"),
    ("TIME", "s", None, False, "temporal"),
    ("TIME", "BJD - 2457000, days", None, False, "temporal"),  # unparsable: no veto
    ("TIME", "deg", None, False, None),
    ("MJD", None, None, False, "temporal"),
    ("BJD_TDB", "d", None, False, "temporal"),
    ("JD-2400000", None, None, False, "temporal"),
    ("MJD_ERR", "d", None, False, None),
    ("START", None, None, True, "temporal"),
    ("START", None, None, False, None),
    ("START", "s", None, False, "temporal"),
    ("CHANNEL", "chan", None, False, None),
    ("EW", "Angstrom", None, False, None),
    ("X", "mm", None, False, None),
    ("TIMEDEL", "s", None, False, None),
    ("anything", None, "em.wl", False, "spectral"),
    ("anything", None, "em.freq;obs", False, "spectral"),
    ("anything", None, "em.wl.central", False, "spectral"),
    ("anything", None, "time.epoch;obs.exposure", False, "temporal"),
    ("TIME", "s", "time.duration", False, None),  # the UCD decides
    ("WAVE", None, "phot.flux;em.opt", False, None),
    (None, None, None, False, None),
])
def test_column_role(ttype, tunit, tucd, gti, role) -> None:
    assert column_role(ttype, tunit, tucd, gti) == role


def test_describe_columns_from_keywords() -> None:
    keywords = {"XTENSION": "BINTABLE", "TFIELDS": 4, "EXTNAME": "EVENTS",
                "TTYPE1": "TIME", "TFORM1": "1D", "TUNIT1": "s",
                "TTYPE2": "DATE", "TFORM2": "23A",  # text: no role
                "TTYPE3": "ENERGY", "TFORM3": "PE(100)", "TUNIT3": "keV", "TDISP3": "F8.3",
                "TTYPE4": "WAVE", "TFORM4": "0D"}  # empty column: no role
    columns = describe_columns(keywords, 1)
    assert [(c.number, c.ttype, c.role) for c in columns] == [
        (1, "TIME", "temporal"), (2, "DATE", None), (3, "ENERGY", "spectral"), (4, "WAVE", None)]
    assert columns[2].tdisp == "F8.3" and columns[2].as_json()["tform"] == "PE(100)"
    assert describe_columns({"TFIELDS": "x"}, 1) == []


def _write_table(path: Path, columns: list[fits.Column], name: str = "DATA") -> int:
    hdu = fits.BinTableHDU.from_columns(columns, name=name)
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    return 1


def test_tnull_scaling_nan_and_vla(tmp_path: Path) -> None:
    path = tmp_path / "t.fits"
    time_raw = np.array([10, -999, 30, 20], dtype=np.int32)
    wave = np.array([[1.0, np.nan], [np.inf, 2.0], [3.0, -1.0], [np.nan, np.nan]])
    energy = np.array([np.array([5.0, np.nan]), np.array([], dtype=float),
                       np.array([1.0, 7.0, 3.0]), np.array([np.nan])], dtype=object)
    _write_table(path, [
        fits.Column("TIME", "J", unit="d", null=-999, array=time_raw),
        fits.Column("WAVE", "2D", unit="Angstrom", array=wave),
        fits.Column("ENERGY", "PD()", unit="keV", array=energy),
        fits.Column("FLUX", "D", array=np.arange(4.0)),
    ])
    with fits.open(path, mode="update") as hdul:  # stored value v means v * 0.5 + 100
        hdul[1].header["TSCAL1"] = 0.5
        hdul[1].header["TZERO1"] = 100
    record = to_hdu_record(read_headers(path)[0][1])
    problems = read_column_ranges(path, 1, record.columns)
    assert problems == []
    time, wave_c, energy_c, flux = record.columns
    assert (time.min, time.max) == (105.0, 115.0)  # 10*0.5+100, 30*0.5+100; TNULL skipped
    assert (wave_c.min, wave_c.max) == (-1.0, 3.0)
    assert (energy_c.min, energy_c.max) == (1.0, 7.0)
    assert (flux.role, flux.min, flux.max) == (None, None, None)


def test_gzip_and_ascii_table(tmp_path: Path) -> None:
    path = tmp_path / "a.fits.gz"
    table = fits.TableHDU.from_columns([fits.Column("MJD", "D12.4", array=np.array([5.5, 1.25, 3.0])),
                                        fits.Column("NAME", "A5", array=np.array(["a", "b", "c"]))])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(path)
    record = to_hdu_record(read_headers(path)[0][1])
    assert [c.role for c in record.columns] == ["temporal", None]
    assert read_column_ranges(path, 1, record.columns) == []
    assert (record.columns[0].min, record.columns[0].max) == (1.25, 5.5)


def test_all_null_and_empty_tables(tmp_path: Path) -> None:
    path = tmp_path / "n.fits"
    _write_table(path, [fits.Column("TIME", "D", array=np.array([np.nan, np.nan]))])
    record = to_hdu_record(read_headers(path)[0][1])
    assert read_column_ranges(path, 1, record.columns) == []
    assert (record.columns[0].min, record.columns[0].max) == (None, None)
    path = tmp_path / "e.fits"
    _write_table(path, [fits.Column("TIME", "D", array=np.array([], dtype=float))])
    record = to_hdu_record(read_headers(path)[0][1])
    assert read_column_ranges(path, 1, record.columns) == []
    assert record.columns[0].min is None


def test_errors_become_column_data_problems(tmp_path: Path) -> None:
    path = tmp_path / "t.fits"
    _write_table(path, [fits.Column("FLUX", "D", array=np.arange(3.0)),
                        fits.Column("TIME", "D", array=np.arange(3.0))])
    columns = to_hdu_record(read_headers(path)[0][1]).columns
    problems = read_column_ranges(path, 5, columns)  # no such HDU
    assert [(p.error_class, p.hdu, p.keyword) for p in problems] == [("column-data", 5, "TTYPE2")]
    # a column descriptor that does not fit the data
    bogus = [Column(number=7, ttype="TIME", tform="D", role="temporal")]
    problems = read_column_ranges(path, 1, bogus)
    assert [(p.error_class, p.hdu, p.keyword) for p in problems] == [("column-data", 1, "TTYPE7")]
    assert "column 7" in problems[0].message
    # a truncated data part
    with open(path, "r+b") as f:
        f.truncate(2880 * 2 + 10)
    problems = read_column_ranges(path, 1, columns)
    assert [(p.error_class, p.keyword) for p in problems] == [("column-data", "TTYPE2")]


def test_no_role_no_io(tmp_path: Path) -> None:
    columns = [Column(number=1, ttype="FLUX", tform="D")]
    assert read_column_ranges(tmp_path / "does-not-exist.fits", 1, columns) == []


def test_parse_header_columns_of_compressed_image_are_hidden(tmp_path: Path) -> None:
    path = tmp_path / "c.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(np.zeros((8, 8), np.float32))]).writeto(path)
    raw = read_headers(path)[0][1]
    parsed = parse_header(raw.text, 1)
    assert parsed.compressed and describe_columns(parsed.keywords, 1)  # the storage columns exist
    assert to_hdu_record(raw, parsed).columns == []  # but are not staged


# --------------------------------------------------------------------------
# The numpy reader against astropy, on every column with a role in the corpus
# --------------------------------------------------------------------------
def _astropy_range(hdul: Any, hdu: int, number: int) -> tuple[float, float] | None:
    """The reference: astropy's data, finite values only, TNULLn (integer
    columns) compared with the stored values."""
    table = hdul[hdu]
    header = table.header
    index = number - 1
    data = table.data
    if data is None or len(data) == 0:
        return None
    column = data.field(index)
    tnull = header.get(f"TNULL{number}")
    if column.dtype == object:  # variable-length arrays: astropy scaled them
        parts = [np.ravel(cell) for cell in column]
        values = np.concatenate(parts) if parts else np.array([])
        if type(tnull) is int and values.dtype.kind in "iu":
            values = values[values != tnull * header.get(f"TSCAL{number}", 1)
                            + header.get(f"TZERO{number}", 0)]
        values = values.astype(np.float64)
    else:
        values = np.asarray(column, dtype=np.float64).ravel()
        raw = data.view(np.ndarray)[data.dtype.names[index]].ravel()
        if type(tnull) is int and raw.dtype.kind in "iu":
            values = values[raw != tnull]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return float(values.min()), float(values.max())


def _role_tables(path: Path) -> list[tuple[Any, Any]]:
    """(RawHeader, HDURecord) of the HDUs of a file that have columns with a role."""
    out = []
    for raw in read_headers(path)[0]:
        record = to_hdu_record(raw)
        if any(c.role for c in record.columns):
            out.append((raw, record))
    return out


ROLE_FILES = sorted(e for e, p in FILES.items() if _role_tables(p)) if HAVE_CORPUS else []


@needs_corpus
def test_role_files_cover_the_interesting_cases() -> None:
    # gzip files, array cells (x1d WAVELENGTH 1024D), LAMOST LOGLAM, Kepler/TESS
    # TIME, Fermi and H.E.S.S. events, the pks2155 light curve.
    for entry_id in ("dev066", "dev021", "dev006", "dev008", "dev017", "dev018", "dev019",
                     "dev020", "dev014", "dev035", "dev053"):
        assert entry_id in ROLE_FILES
    assert sum(len(_role_tables(FILES[e])) for e in ROLE_FILES) == 60


@needs_corpus
@pytest.mark.parametrize("entry_id", ROLE_FILES)
def test_corpus_ranges_equal_astropy(entry_id: str) -> None:
    """Both call forms, a DataSource shared by all HDUs of the file, and exactly
    astropy's values (no tolerance)."""
    path = FILES[entry_id]
    tables = _role_tables(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path) as hdul:
            expected = {(raw.index, c.number): _astropy_range(hdul, raw.index, c.number)
                        for raw, record in tables for c in record.columns if c.role}
    with open_data(path) as source:
        for raw, record in tables:
            problems = read_column_ranges(path, raw.index, record.columns,
                                          keywords=record.keywords, data_offset=raw.data_offset,
                                          data_size=raw.data_size, source=source)
            assert problems == []
            for c in record.columns:
                got = (c.min, c.max) if c.min is not None else None
                assert got == (expected[(raw.index, c.number)] if c.role else None), \
                    (raw.index, c.ttype)
        assert source.compressed == str(path).endswith(".gz")
    whole = inflate(path)  # a gzip file decompressed once for headers and columns: the same
    if whole is not None:
        with open_data(path, decompressed=whole) as source:
            for raw, record in tables:
                for c in record.columns:
                    c.min = c.max = None
                assert read_column_ranges(path, raw.index, record.columns,
                                          keywords=record.keywords, data_offset=raw.data_offset,
                                          data_size=raw.data_size, source=source) == []
                assert all(((c.min, c.max) if c.min is not None else None)
                           == expected[(raw.index, c.number)] for c in record.columns if c.role)
    for raw, record in tables:  # the old call form: the same
        for c in record.columns:
            c.min = c.max = None
        assert read_column_ranges(path, raw.index, record.columns) == []
        assert all(((c.min, c.max) if c.min is not None else None)
                   == expected[(raw.index, c.number)] for c in record.columns if c.role)


@needs_corpus
def test_gzip_file_is_decompressed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    path = FILES["dev018"]  # H.E.S.S. DL3, gzip, 6 HDUs with roles
    opened = []
    real_open = DataSource._open
    monkeypatch.setattr(DataSource, "_open", lambda self: (opened.append(1), real_open(self))[1])
    tables = _role_tables(path)
    with open_data(path) as source:
        assert opened == []  # nothing happens before the first read
        for raw, record in tables:
            assert read_column_ranges(path, raw.index, record.columns, keywords=record.keywords,
                                      data_offset=raw.data_offset, data_size=raw.data_size,
                                      source=source) == []
        assert opened == [1] and source.compressed
        last = tables[-1][0]
        assert source._have >= last.data_offset + last.data_size


@needs_corpus
@pytest.mark.parametrize("entry_id", ["dev006", "dev066", "dev017", "dev019", "dev021"])
def test_small_windows_and_mappings_give_the_same(entry_id: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows read in windows of a few rows, each memory-mapped on its own."""
    path = FILES[entry_id]
    tables = _role_tables(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path) as hdul:
            expected = {(raw.index, c.number): _astropy_range(hdul, raw.index, c.number)
                        for raw, record in tables for c in record.columns if c.role}
    monkeypatch.setattr(columns_module, "_WINDOW", 7000)
    monkeypatch.setattr(columns_module, "_MAP_WHOLE", 0)
    monkeypatch.setattr(columns_module, "_READ_SMALL", 0)
    monkeypatch.setattr(columns_module, "_BLOCK", 100)
    with open_data(path) as source:
        for raw, record in tables:
            assert read_column_ranges(path, raw.index, record.columns, keywords=record.keywords,
                                      data_offset=raw.data_offset, data_size=raw.data_size,
                                      source=source) == []
            assert len(source._maps) <= 1
            for c in record.columns:
                if c.role:
                    assert ((c.min, c.max) if c.min is not None else None) \
                        == expected[(raw.index, c.number)]


# --------------------------------------------------------------------------
# Binary table layouts astropy writes: every type before the columns read
# --------------------------------------------------------------------------
def _read(path: Path, hdu: int = 1, **kwargs: Any) -> tuple[list[Column], list[Any]]:
    raw = read_headers(path)[0][hdu]
    record = to_hdu_record(raw)
    with open_data(path, **kwargs) as source:
        problems = read_column_ranges(path, hdu, record.columns, keywords=record.keywords,
                                      data_offset=raw.data_offset, data_size=raw.data_size,
                                      source=source)
    return record.columns, problems


def _ranges(columns: list[Column]) -> dict[str, tuple[float | None, float | None]]:
    return {c.ttype: (c.min, c.max) for c in columns if c.role}


def test_every_binary_type_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "types.fits"
    rows = 3
    _write_table(path, [
        fits.Column("FLAG", "L", array=np.array([True, False, True])),
        fits.Column("BITS", "13X", array=np.zeros((rows, 13), bool)),
        fits.Column("TIME", "D", array=np.array([3.5, -1.25, np.nan])),
        fits.Column("NAME", "7A", array=np.array(["a", "bb", "c"])),
        fits.Column("WAVE", "3E", array=np.array([[1, 2, 3], [4, np.inf, 6], [-7, 8, 9]], np.float32)),
        fits.Column("CPLX", "C", array=np.array([1j, 2, 3], np.complex64)),
        fits.Column("ENERGY", "PJ()", array=np.array(
            [np.array([5, -2], np.int32), np.array([], np.int32), np.array([9], np.int32)], dtype=object)),
        fits.Column("DCPLX", "M", array=np.array([1j, 2, 3])),
        fits.Column("FREQ", "QD()", array=np.array(
            [np.array([1.5]), np.array([np.nan, 2.5]), np.array([-np.inf, 0.5])], dtype=object)),
        fits.Column("TSTART", "I", array=np.array([-1, 7, 3], np.int16)),
        fits.Column("MJD", "K", array=np.array([2**40, 5, -(2**40)], np.int64)),
        fits.Column("E_MIN", "B", array=np.array([255, 4, 200], np.uint8)),
        fits.Column("E_MAX", "J", bzero=2147483648, array=np.array([0, 4000000000, 5], np.uint32)),
        fits.Column("LAMBDA", "2D", array=np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])),
    ])
    with fits.open(path, mode="update") as hdul:
        header = hdul[1].header
        header["TNULL10"] = -1  # TSTART: stored -1 is null; value = stored * 2 + 10
        header["TSCAL10"] = 2
        header["TZERO10"] = 10
        header["TNULL11"] = -(2**40)  # MJD
        header["TNULL12"] = 255  # E_MIN (uint8)
        header["TNULL7"] = 9  # ENERGY: VLA of int32, 9 is null
        header["TSCAL14"] = -1.0  # LAMBDA: a negative scale swaps min and max
    columns, problems = _read(path)
    assert problems == []
    assert _ranges(columns) == {
        "TIME": (-1.25, 3.5), "WAVE": (-7.0, 9.0), "ENERGY": (-2.0, 5.0), "FREQ": (0.5, 2.5),
        "TSTART": (16.0, 24.0), "MJD": (5.0, float(2**40)), "E_MIN": (4.0, 200.0),
        "E_MAX": (0.0, 4000000000.0), "LAMBDA": (-6.0, -1.0)}
    assert all(c.min is None for c in columns if not c.role)


def _raw_table(path: Path, cards: list[tuple[str, Any]], data: bytes, *,
               xtension: str = "BINTABLE", gz: bool = False, tail: bytes = b"") -> None:
    """A file with an empty primary HDU and one table written byte by byte."""
    header = fits.Header([("XTENSION", xtension), ("BITPIX", 8), ("NAXIS", 2)] + cards)
    blob = (fits.PrimaryHDU().header.tostring().encode("ascii")
            + header.tostring().encode("ascii") + data
            + b"\0" * (-len(data) % 2880) + tail)
    if gz:
        blob = gzip.compress(blob)
    path.write_bytes(blob)


@pytest.mark.parametrize("window", [64 << 20, 1])
def test_hand_made_heap_naxis1_padding_and_theap(tmp_path: Path, window: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Cells sharing or overlapping heap bytes, at odd offsets, after a gap
    (THEAP), in rows wider than their columns (NAXIS1 > sum of widths), with
    Q descriptors; each element counts once and only the referenced ones."""
    monkeypatch.setattr(columns_module, "_WINDOW", window)  # 1: one row at a time
    naxis1, naxis2 = 40, 5  # columns take 8 + 16 + 4 = 28 bytes, 12 bytes of padding
    theap = naxis1 * naxis2 + 11  # an 11-byte gap before the heap
    heap = bytearray(64)
    heap[3:3 + 24] = np.array([5.0, -2.0, 7.5], ">f8").tobytes()  # offset 3: unaligned
    heap[40:40 + 16] = np.array([100.0, np.nan], ">f8").tobytes()  # never referenced below
    heap[27:27 + 8] = np.array([-9.0], ">f8").tobytes()
    heap[56:64] = np.array([42.0], ">f8").tobytes()  # offset 56: another alignment
    rows = bytearray(naxis1 * naxis2)
    # (count, heap offset): rows 1 and 2 share elements, row 4 overlaps row 2's
    # last element (7.5 at 19) and goes on (-9.0 at 27); row 3 is empty.
    descriptors = [(2, 3), (3, 3), (0, 999), (2, 19), (1, 56)]
    for i, (count, offset) in enumerate(descriptors):
        base = i * naxis1
        rows[base:base + 8] = np.array([count, offset], ">i4").tobytes()  # ENERGY 1PD
        rows[base + 8:base + 24] = np.array([count, offset], ">i8").tobytes()  # FREQ 1QD
        rows[base + 24:base + 28] = np.array([i * 1.5 - 1], ">f4").tobytes()  # TIME 1E
    data = bytes(rows) + b"\0" * 11 + bytes(heap)
    cards = [("NAXIS1", naxis1), ("NAXIS2", naxis2), ("PCOUNT", 11 + len(heap)), ("GCOUNT", 1),
             ("TFIELDS", 3), ("TTYPE1", "ENERGY"), ("TFORM1", "1PD(3)"),
             ("TTYPE2", "FREQ"), ("TFORM2", "1QD(3)"), ("TTYPE3", "TIME"), ("TFORM3", "1E"),
             ("THEAP", theap)]
    for gz in (False, True):
        path = tmp_path / ("h.fits.gz" if gz else "h.fits")
        _raw_table(path, cards, data, gz=gz)
        columns, problems = _read(path)
        assert problems == []
        # elements read: 5, -2, 7.5, -9, 42 (not 100 and NaN at 40, never referenced)
        assert _ranges(columns) == {"ENERGY": (-9.0, 42.0), "FREQ": (-9.0, 42.0),
                                    "TIME": (-1.0, 5.0)}


def test_ascii_table_nulls_blanks_and_scaling(tmp_path: Path) -> None:
    rows = [b"  1.50D+01   12 x", b"   -2.25E0  -99 y", b"           ***  ", b"   4.00000    7 z"]
    data = b"".join(rows)
    cards = [("NAXIS1", 17), ("NAXIS2", 4), ("PCOUNT", 0), ("GCOUNT", 1), ("TFIELDS", 3),
             ("TTYPE1", "WAVE"), ("TBCOL1", 1), ("TFORM1", "D10.2"),
             ("TTYPE2", "MJD"), ("TBCOL2", 11), ("TFORM2", "I5"), ("TNULL2", "***"),
             ("TZERO2", 50000), ("TTYPE3", "NAME"), ("TBCOL3", 17), ("TFORM3", "A1")]
    path = tmp_path / "a.fits"
    _raw_table(path, cards, data, xtension="TABLE")
    columns, problems = _read(path)
    assert problems == []
    assert [c.role for c in columns] == ["spectral", "temporal", None]
    # row 3: blank WAVE, TNULL MJD: skipped (astropy reads the MJD as 0)
    assert _ranges(columns) == {"WAVE": (-2.25, 15.0), "MJD": (49901.0, 50012.0)}
    # the old call form
    for c in columns:
        c.min = c.max = None
    assert read_column_ranges(path, 1, columns) == []
    assert _ranges(columns)["WAVE"] == (-2.25, 15.0)
    cards[7] = ("TFORM1", "F10.2")
    _raw_table(path, cards, data.replace(b"1.50D+01", b"1.50E+01"), xtension="TABLE")
    assert _ranges(_read(path)[0])["WAVE"] == (-2.25, 15.0)
    bad = data.replace(b"4.00000", b"4.0.000")
    _raw_table(path, cards, bad, xtension="TABLE")
    columns, problems = _read(path)
    assert [(p.error_class, p.keyword) for p in problems] == [("column-data", "TTYPE1")]
    assert "not a number" in problems[0].message
    assert _ranges(columns)["MJD"] == (49901.0, 50012.0)  # the other column is read


# --------------------------------------------------------------------------
# The data source: gzip limit, corrupt streams, laziness; errors
# --------------------------------------------------------------------------
def _table_then_image(path: Path, image_pixels: int) -> None:
    """A gzip file: a small table (HDU 1) followed by a large image (HDU 2)."""
    table = fits.BinTableHDU.from_columns([fits.Column("TIME", "D", array=np.arange(10.0))])
    image = fits.ImageHDU(np.zeros(image_pixels, np.float64))
    fits.HDUList([fits.PrimaryHDU(), table, image]).writeto(path)


def test_gzip_is_decompressed_only_as_far_as_needed(tmp_path: Path) -> None:
    path = tmp_path / "big.fits.gz"
    _table_then_image(path, 2_000_000)  # 16 MB of zeros after the table
    raw = read_headers(path)[0][1]
    record = to_hdu_record(raw)
    with open_data(path) as source:
        assert read_column_ranges(path, 1, record.columns, keywords=record.keywords,
                                  data_offset=raw.data_offset, data_size=raw.data_size,
                                  source=source) == []
        assert source._have < 4 << 20
    assert (record.columns[0].min, record.columns[0].max) == (0.0, 9.0)


def test_gzip_limit_gives_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "limit.fits.gz"
    _table_then_image(path, 10)
    columns, problems = _read(path, max_decompressed=2880 * 2)  # the table data is beyond
    assert [(p.error_class, p.hdu, p.keyword) for p in problems] == [("column-data", 1, "TTYPE1")]
    assert "beyond the 5760 bytes" in problems[0].message
    assert columns[0].min is None
    columns, problems = _read(path, max_decompressed=2880 * 4)  # enough
    assert problems == [] and (columns[0].min, columns[0].max) == (0.0, 9.0)


def test_corrupt_or_truncated_data(tmp_path: Path) -> None:
    path = tmp_path / "c.fits.gz"
    _table_then_image(path, 10)
    raw = read_headers(path)[0][1]
    record = to_hdu_record(raw)
    blob = path.read_bytes()
    cut = tmp_path / "cut.fits.gz"
    cut.write_bytes(blob[:60])  # the stream ends long before the table's data
    problems = read_column_ranges(cut, 1, record.columns, keywords=record.keywords,
                                  data_offset=raw.data_offset, data_size=raw.data_size)
    assert [(p.error_class, p.keyword) for p in problems] == [("column-data", "TTYPE1")]
    assert "data truncated" in problems[0].message
    plain = tmp_path / "p.fits"
    _write_table(plain, [fits.Column("TIME", "D", array=np.arange(3.0))])
    raw = read_headers(plain)[0][1]
    record = to_hdu_record(raw)
    with open(plain, "r+b") as f:
        f.truncate(raw.data_offset + 10)
    problems = read_column_ranges(plain, 1, record.columns, keywords=record.keywords,
                                  data_offset=raw.data_offset, data_size=raw.data_size)
    assert "data truncated" in problems[0].message
    # header keywords that do not match the data size
    problems = read_column_ranges(plain, 1, record.columns, keywords=record.keywords,
                                  data_offset=raw.data_offset, data_size=8)
    assert "fewer than NAXIS1 x NAXIS2" in problems[0].message


def test_bad_descriptors_are_per_column_problems(tmp_path: Path) -> None:
    path = tmp_path / "b.fits"
    _write_table(path, [fits.Column("TIME", "D", array=np.arange(3.0)),
                        fits.Column("ENERGY", "PE()", array=np.array(
                            [np.array([1.0], np.float32)] * 3, dtype=object)),
                        fits.Column("WAVE", "E", array=np.arange(3.0, dtype=np.float32))])
    raw = read_headers(path)[0][1]
    record = to_hdu_record(raw)
    keywords = dict(record.keywords)
    keywords["PCOUNT"] = 4  # the heap is shorter than the descriptors say
    keywords["TSCAL3"] = "x"
    problems = read_column_ranges(path, 1, record.columns, keywords=keywords,
                                  data_offset=raw.data_offset, data_size=raw.data_size)
    assert [p.keyword for p in problems] == ["TTYPE2", "TTYPE3"]
    assert "outside the heap" in problems[0].message and "TSCAL3" in problems[1].message
    assert (record.columns[0].min, record.columns[0].max) == (0.0, 2.0)
    keywords = dict(record.keywords, TFORM1="9Z")  # offsets of later columns unknown
    for c in record.columns:
        c.min = c.max = None
    problems = read_column_ranges(path, 1, record.columns, keywords=keywords,
                                  data_offset=raw.data_offset, data_size=raw.data_size)
    assert [p.keyword for p in problems] == ["TTYPE1", "TTYPE2", "TTYPE3"]
    assert "TFORM1 = '9Z'" in problems[2].message


def test_header_text_file_has_no_data(tmp_path: Path) -> None:
    path = tmp_path / "t.hdr"
    path.write_text("XTENSION= 'BINTABLE'\nNAXIS1  = 8\nNAXIS2  = 3\nTFIELDS = 1\n"
                    "TTYPE1  = 'TIME'\nTFORM1  = 'D'\nEND\n")
    columns = [Column(number=1, ttype="TIME", tform="D", role="temporal")]
    assert read_column_ranges(path, 0, columns) == []
    assert columns[0].min is None


def test_data_source_regions(tmp_path: Path) -> None:
    path = tmp_path / "r.bin"
    payload = bytes(range(256)) * 2048  # 512 KiB: large regions are memory-mapped
    path.write_bytes(payload)
    with open_data(path) as source:
        for offset, size in ((0, 0), (5, 10), (1000, 300_000), (300, 10)):
            buffer, start = source.region(offset, size)
            assert bytes(memoryview(buffer)[start:start + size]) == payload[offset:offset + size]
        with pytest.raises(columns_module.ColumnDataError, match="data truncated"):
            source.region(len(payload) - 5, 10)
    with pytest.raises(columns_module.ColumnDataError, match="closed"):
        source.region(0, 1)
    with open_data(tmp_path / "missing.fits") as source:
        with pytest.raises(columns_module.ColumnDataError, match="cannot open"):
            source.region(0, 1)
