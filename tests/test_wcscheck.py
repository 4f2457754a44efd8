"""The WCS pre-check: verdicts on real corpus headers, and crafted headers that crash wcslib.

Headers are read with astropy (the staged text is the same 80-character
cards); the crafted ones live in tests/data/crash (README there says how each
was made and why it crashes).  Anything that may kill the process runs in a
subprocess or in an IsolatedPool, never in the test process.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS, WCSHDR_BIMGARR, WCSHDR_IMGHEAD, WCSHDR_PIXLIST, FITSFixedWarning

from assocdata import isolation, wcscheck
from assocdata.isolation import Crash, IsolatedPool
from assocdata.wcscheck import WcsUnit, check_wcs

CRASH = Path(__file__).resolve().parent / "data" / "crash"
GiB = 1024**3


# --- Reading headers -------------------------------------------------------------------

def plain(value: Any) -> Any:
    """A keyword value as staged (JSON types; astropy's Undefined -> None)."""
    return value if isinstance(value, (bool, int, float, str)) else None


def from_header(header: fits.Header) -> tuple[dict[str, Any], str, str | None]:
    keywords: dict[str, Any] = {}
    for card in header.cards:
        key = card.keyword
        if not key or key in ("COMMENT", "HISTORY", "CONTINUE") or key in keywords:
            continue
        try:
            keywords[key] = plain(card.value)
        except Exception:  # noqa: BLE001 - an unparsable card: staged without a value
            keywords[key] = None
    xtension = keywords.get("XTENSION")
    return keywords, header.tostring(), xtension.strip() if isinstance(xtension, str) else None


def corpus_hdu(corpus: Path, relpath: str, index: int = 0) -> tuple[dict[str, Any], str, str | None]:
    path = corpus / relpath
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path.suffix in (".hdr", ".header"):
            raw = path.read_text(errors="replace")
            header = fits.Header.fromstring(raw, sep="\n" if "\n" in raw else "")
            keywords, _, xtension = from_header(header)
            return keywords, raw, xtension  # the staged text of a text header: its own lines
        return from_header(fits.getheader(path, index))


def crash_file(name: str) -> tuple[dict[str, Any], str, str | None]:
    """A crafted header: one card per line, padded to 80 characters like a FITS header."""
    lines = (CRASH / name).read_text().splitlines()
    assert all(len(line) <= 80 for line in lines), f"{name}: a card longer than 80 characters"
    text = "".join(line.ljust(80) for line in lines)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = fits.Header.fromstring(text)
    keywords, _, xtension = from_header(header)
    return keywords, text, xtension


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (it may die)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, cwd=str(CRASH))


# --- Functions run in the pool's workers ----------------------------------------------

def check_hdus(task: tuple[str, list[tuple[int, dict[str, Any], str, str | None]], tuple[int, ...]]
               ) -> list[tuple[int, str, str | None]]:
    """What stagefile does per file: a checkpoint with the HDU index around each pre-check."""
    _name, hdus, skip = task
    out = []
    for index, keywords, text, xtension in hdus:
        if index in skip:
            out.append((index, "crash", "skipped"))
            continue
        isolation.checkpoint(index)
        status, message = check_wcs(keywords, text, xtension)
        isolation.checkpoint(None)
        out.append((index, status, message))
    return out


def astropy_pixel_list(text: str) -> str:
    """What facts.json's 'pixlist_wcs_astropy' records: astropy's own pixel-list WCS."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            w = WCS(fits.Header.fromstring(text), keysel=["pixel"])
        except Exception as exc:  # noqa: BLE001
            return f"error: {str(exc).strip().splitlines()[-1]}"
    return f"ok: {list(w.wcs.ctype)}"


def astropy_wcs_uncaught(text: str) -> list[str]:
    """astropy.wcs.WCS with nothing caught: a MemoryError escapes to the pool."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        return list(WCS(fits.Header.fromstring(text)).wcs.ctype)


# --- Verdicts on real headers ------------------------------------------------------------

NORMAL = [
    ("astropy-data/HorseHead.fits", 0),  # DSS plate solution
    ("pkg-astropy/1904-66_TAN.hdr", 0),  # 80-character stream without newlines
    ("pkg-astropy/orion-freq-4.hdr", 0),  # FREQ/RA/DEC/STOKES
    ("astropy-data/allsky_rosat.fits", 0),  # AIT all-sky: corners off the sky are fine
    ("astropy-data/l1448_13co.fits", 0),  # SFL + velocity cube
    ("pkg-astropy/sip.fits", 0),  # TAN-SIP with NAXIS = 0
    ("pkg-astropy/header_newlines.fits", 0),  # TAN-SIP plus SCAMP PVi_m (dropped, as WCS() does)
    ("pkg-sunpy/hmi_sharp_magnetogram.header", 0),  # text header, one card per line
    ("gammapy-data/fermi-3fhl-gc-counts-cube.fits.gz", 0),
    ("pkg-irispy/iris_l2_20210905_001833_3620258102_SJI_1330_t000.fits", 0),
]


@pytest.mark.parametrize(("relpath", "index"), NORMAL)
def test_normal_images_are_ok(corpus: Path, relpath: str, index: int) -> None:
    keywords, text, xtension = corpus_hdu(corpus, relpath, index)
    assert check_wcs(keywords, text, xtension) == ("ok", None)


@pytest.mark.parametrize(("relpath", "index"), [
    ("astropy-data/input_file.fits", 0),
    ("astropy-data/HorseHead.fits", 1),  # ASCII table
    ("pyspeckit/BD60596_merged.fits", 0),
    ("gammapy-data/hess_dl3_dr1_obs_id_023523.fits.gz", 1),  # events with RA/DEC columns, no TC keywords
])
def test_headers_without_wcs_keywords_are_none(corpus: Path, relpath: str, index: int) -> None:
    keywords, text, xtension = corpus_hdu(corpus, relpath, index)
    assert check_wcs(keywords, text, xtension) == ("none", None)


def image(*cards: str) -> tuple[dict[str, Any], str, None]:
    base = ["SIMPLE  = T", "BITPIX  = -32", "NAXIS   = 2", "NAXIS1  = 100", "NAXIS2  = 100"]
    text = "".join(c.ljust(80) for c in base + list(cards) + ["END"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keywords, _, _ = from_header(fits.Header.fromstring(text))
    return keywords, text, None


def test_broken_headers_are_errors(corpus: Path) -> None:
    # Real: CDELT2 = CDELT3 = 0 (astropy's WCS fails the same way).
    status, message = check_wcs(*corpus_hdu(corpus, "pyspeckit/10074-190_HCOp.fits"))
    assert status == "error" and "SingularMatrixError" in message and "PCi_ja" in message

    status, message = check_wcs(*image("CTYPE1  = 'RA---XYZ'", "CTYPE2  = 'DEC--XYZ'"))
    assert status == "error" and "XYZ" in message and message.startswith("image: set:")

    status, message = check_wcs(*image("CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'",
                                       "CDELT1  = 0.0", "CDELT2  = 0.0"))
    assert status == "error" and "singular" in message

    status, message = check_wcs(*image("CTYPE1  = 'WAVE-TAB'", "PS1_0   = 'WCS-TAB '",
                                       "PS1_1   = 'WAVELENGTH'", "PV1_3   = 1"))
    assert status == "error" and "HDUList" in message  # -TAB needs the table extension
    status, message = check_wcs(*image("CTYPE1  = 'WAVE-TAB'", "PS1_0   = 'WCS-TAB '"))
    assert status == "error" and "image: parse: MemoryError" in message and "header parser" in message

    status, message = check_wcs(*image("CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'",
                                       "WCSAXES = 30000"))
    assert status == "error" and "exceeds 99" in message


def test_felo_hel_memory_error_is_an_error_verdict() -> None:
    status, message = check_wcs(*crash_file("felo_hel_velref.hdr"))
    assert status == "error"
    assert "MemoryError" in message and "FELO-HEL" in message
    assert "not an allocation failure" in message


def test_wcsaxes_huge_is_refused_before_wcslib() -> None:
    started = time.monotonic()
    status, message = check_wcs(*crash_file("wcsaxes_huge.hdr"))
    assert status == "error" and "WCSAXES = 30000 exceeds 99" in message
    assert time.monotonic() - started < 1


# --- The Chandra event list --------------------------------------------------------------

def facts_for(corpus: Path, relpath: str) -> dict[str, Any]:
    facts = json.loads((corpus / "facts.json").read_text())["files"]
    return next(f for f in facts.values() if f["file"] == relpath)


def test_event_list_pixel_list_unit_is_the_sky_columns(corpus: Path) -> None:
    keywords, text, xtension = corpus_hdu(corpus, "pkg-glue/events.fits", 1)
    units = wcscheck.find_wcs_units(keywords, xtension)
    assert units == [WcsUnit("pixel-list", WCSHDR_PIXLIST, (11, 12), " ")]
    assert check_wcs(keywords, text, xtension) == ("ok", None)
    # The derivation path gives facts.json's centre (reference pixel of the sky columns).
    p = wcscheck.prepare_wcsprm(text, units[0])
    world = p.p2s(np.array([p.crpix]), 1)["world"][0]
    expected = facts_for(corpus, "pkg-glue/events.fits")["centre_native"]
    assert world == pytest.approx(expected, abs=1e-9)
    assert list(p.ctype) == ["RA---TAN", "DEC--TAN"]


def test_event_list_full_pixel_list_error_names_the_column(corpus: Path) -> None:
    """Without the celestial pair every pixel-list column is parsed: LONG-TAN on column 9."""
    keywords, text, xtension = corpus_hdu(corpus, "pkg-glue/events.fits", 1)
    no_sky = {k: v for k, v in keywords.items() if k not in ("TCTYP11", "TCTYP12")}
    status, message = check_wcs(no_sky, text, xtension)
    assert status == "error"
    assert "LONG-TAN in TCTYP9" in message and "pixel list: set:" in message


@pytest.mark.timeout(180)
def test_event_list_through_the_pool_is_never_a_dead_run(corpus: Path) -> None:
    """Reproduce astropy on the real Chandra header, isolated: an error in 8.0.2, not a crash."""
    keywords, text, xtension = corpus_hdu(corpus, "pkg-glue/events.fits", 1)
    expected = facts_for(corpus, "pkg-glue/events.fits")["pixlist_wcs_astropy"]
    with IsolatedPool(workers=2, memory_limit=2 * GiB, timeout=60) as pool:
        astropy_outcome = dict(pool.imap_unordered(astropy_pixel_list, [text]))[text]
        ours = [o for _, o in pool.imap_unordered(
            check_hdus, [("events.fits", [(1, keywords, text, xtension)], ())])]
    # Never a dead run: a value or a Crash.  With astropy 8.0.2 it is this error.
    assert isinstance(astropy_outcome, (str, Crash))
    assert astropy_outcome == expected == "error: Unrecognized celestial type (LONG-TAN in CTYPE3)."
    assert ours == [[(1, "ok", None)]]


# --- Crafted crashes -------------------------------------------------------------------------

_CHECK_IN_PROCESS = """
import sys, warnings
sys.path.insert(0, {tests!r})
import test_wcscheck as t
from assocdata.wcscheck import check_wcs
print(check_wcs(*t.crash_file({name!r})), flush=True)
"""


CRASHER = "dss_plate_string_value.hdr"  # a deterministic wcslib crash this check does not defuse


def test_crash_header_kills_a_process_running_check_wcs() -> None:
    code = _CHECK_IN_PROCESS.format(tests=str(Path(__file__).parent), name=CRASHER)
    result = run_python(code)
    assert result.returncode == -signal.SIGSEGV, (result.returncode, result.stdout, result.stderr[-2000:])
    assert result.stdout == ""  # it never returned


@pytest.mark.parametrize("call", [
    "Wcsprm(header=text.encode(), keysel=-1, relax=True)",
    "WCS(fits.Header.fromstring(text))",  # astropy's default call dies too
])
def test_crash_header_kills_astropy_too(call: str) -> None:
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from astropy.io import fits\n"
        "from astropy.wcs import WCS, Wcsprm\n"
        f"text = ''.join(l.ljust(80) for l in open({CRASHER!r}).read().splitlines())\n"
        f"{call}\nprint('survived')\n"
    )
    result = run_python(code)
    assert result.returncode == -signal.SIGSEGV, (result.returncode, result.stdout)


@pytest.mark.timeout(180)
def test_crash_header_through_the_pool_names_the_hdu(corpus: Path) -> None:
    """The crash becomes Crash(kind='signal') with the HDU index; other files are staged."""
    ok_file = ("HorseHead.fits", [(0, *corpus_hdu(corpus, "astropy-data/HorseHead.fits", 0)),
                                  (1, *corpus_hdu(corpus, "astropy-data/HorseHead.fits", 1))], ())
    crashing = ("crafted.fits", [(0, *corpus_hdu(corpus, "pkg-astropy/1904-66_TAN.hdr")),
                                 (1, *crash_file(CRASHER)),
                                 (2, *corpus_hdu(corpus, "pkg-astropy/orion-freq-4.hdr"))], ())
    other = ("orion.hdr", [(0, *corpus_hdu(corpus, "pkg-astropy/orion-freq-4.hdr"))], ())
    outcomes: dict[str, Any] = {}
    with IsolatedPool(workers=2, memory_limit=2 * GiB, timeout=60) as pool:
        for task, outcome in pool.imap_unordered(check_hdus, [ok_file, crashing, other]):
            outcomes[task[0]] = outcome
        crash = outcomes["crafted.fits"]
        assert isinstance(crash, Crash) and crash.kind == "signal", crash
        assert "SIGSEGV" in crash.detail and "build_wcsprm" in crash.detail  # where it died
        assert crash.checkpoint == 1
        # What the ingest does next: the same file again, that HDU's WCS marked as crashed.
        retry = crashing[:2] + ((crash.checkpoint,),)
        again = [o for _, o in pool.imap_unordered(check_hdus, [retry])]
    assert outcomes["HorseHead.fits"] == [(0, "ok", None), (1, "none", None)]
    assert outcomes["orion.hdr"] == [(0, "ok", None)]
    assert again == [[(0, "ok", None), (1, "crash", "skipped"), (2, "ok", None)]]


@pytest.mark.parametrize(("name", "call", "verdict"), [
    ("pixlist_tfields_negative.hdr",
     "Wcsprm(header=text.encode(), keysel=WCSHDR_PIXLIST, relax=True)", "error"),
    ("pixlist_tfields_negative.hdr", "WCS(fits.Header.fromstring(text), keysel=['pixel'])", "error"),
    ("bintable_image_and_pixlist.hdr", "WCS(fits.Header.fromstring(text), keysel=['image', 'pixel'])", "ok"),
    ("bintable_image_and_pixlist.hdr",
     "Wcsprm(header=text.encode(), keysel=WCSHDR_IMGHEAD | WCSHDR_PIXLIST, relax=True)", "ok"),
    ("spectrum_sip_coefficient.hdr", "Wcsprm(header=text.encode(), keysel=-1, relax=True)", "ok"),
    ("pixlist_column_beyond_tfields.hdr", None, "ok"),  # heap-dependent: no assertion on astropy
])
def test_defused_crashes_kill_raw_astropy_but_not_check_wcs(name: str, call: str | None,
                                                            verdict: str) -> None:
    if call is not None:
        raw = run_python(
            "import warnings; warnings.simplefilter('ignore')\n"
            "from astropy.io import fits\n"
            "from astropy.wcs import WCS, Wcsprm, WCSHDR_PIXLIST, WCSHDR_IMGHEAD\n"
            f"text = ''.join(l.ljust(80) for l in open({name!r}).read().splitlines())\n"
            f"{call}\nprint('survived')\n")
        assert raw.returncode < 0, f"expected {call} to be killed by a signal: {raw.returncode} {raw.stdout}"
    ours = run_python(_CHECK_IN_PROCESS.format(tests=str(Path(__file__).parent), name=name))
    assert ours.returncode == 0, ours.stderr[-2000:]
    assert ours.stdout.strip().startswith(f"('{verdict}', ")


def test_tfields_outside_the_column_range_is_refused() -> None:
    status, message = check_wcs(*crash_file("pixlist_tfields_negative.hdr"))
    assert status == "error" and "TFIELDS = -1 is not a column count" in message


@pytest.mark.timeout(180)
def test_felo_hel_through_the_pool(corpus: Path) -> None:
    """MemoryError from wcslib: an 'error' verdict, or Crash(kind='memory') if uncaught; never a dead run."""
    keywords, text, xtension = crash_file("felo_hel_velref.hdr")
    normal = corpus_hdu(corpus, "astropy-data/l1448_13co.fits")
    with IsolatedPool(workers=2, memory_limit=2 * GiB, timeout=60) as pool:
        checked = {task[0]: outcome for task, outcome in pool.imap_unordered(check_hdus, [
            ("felo", [(0, keywords, text, xtension)], ()), ("l1448", [(0, *normal)], ())])}
        raw = dict(pool.imap_unordered(astropy_wcs_uncaught, [text, normal[1]]))
    [(index, status, message)] = checked["felo"]
    assert (index, status) == (0, "error") and "MemoryError" in message
    assert checked["l1448"] == [(0, "ok", None)]
    assert isinstance(raw[normal[1]], list) and len(raw[normal[1]]) == 3
    crash = raw[text]
    assert isinstance(crash, Crash) and crash.kind == "memory"
    assert "Unknown spectral type 'FELO-HEL'" in crash.detail


# --- Shared helpers ------------------------------------------------------------------------

def test_header_bytes_makes_aligned_ascii_cards() -> None:
    lines = "SIMPLE  =                    T\r\nCOMMENT a comment\nCTYPE1  = 'RA---TAN' / \u00e9t\u00e9\nEND\n"
    data = wcscheck.header_bytes(lines)
    assert len(data) % 80 == 0
    cards = [data[i:i + 80] for i in range(0, len(data), 80)]
    assert [c[:8] for c in cards] == [b"CTYPE1  ", b"END     "]  # COMMENT, SIMPLE left out
    assert cards[0].rstrip().endswith(b"/ ?t?")
    stream = "".join(c.ljust(80) for c in ["NAXIS   = 0", "HISTORY x\x00y", "CRVAL1  = 1.0\x01", "END"])
    data = wcscheck.header_bytes(stream)
    assert data == ("NAXIS   = 0".ljust(80) + "CRVAL1  = 1.0 ".ljust(80) + "END".ljust(80)).encode()
    table = "".join(c.ljust(80) for c in ["TTYPE1  = 'x'", "TFORM1  = 'E'", "TCTYP1  = 'RA---TAN'",
                                          "TLMIN1  = 0", "TFIELDS = 1", "END"])
    kept = wcscheck.header_bytes(table, " ", WCSHDR_PIXLIST)
    assert [kept[i:i + 8] for i in range(0, len(kept), 80)] == [b"TCTYP1  ", b"TFIELDS ", b"END     "]
    kept = wcscheck.header_bytes(table)  # an image parse gets no table forms
    assert [kept[i:i + 8] for i in range(0, len(kept), 80)] == [b"TFIELDS ", b"END     "]


def _wcs_outcome(data: bytes, unit: WcsUnit, keywords: dict[str, Any]) -> tuple[str, ...]:
    """What derivation gets from these bytes: the WCS wcslib builds and its sky, or its error."""
    try:
        p = wcscheck.prepare_wcsprm(data, unit)
        world = p.p2s(wcscheck.probe_pixels(p, unit, keywords), 1)["world"]
    except Exception as exc:  # noqa: BLE001 - the error is the outcome
        return ("error", type(exc).__name__, str(exc))
    return ("ok", p.to_header(relax=True), world.tobytes().hex())


def _cards(text: str) -> list[bytes]:
    """The staged text as 80-byte cards (a text header has one card per line)."""
    if "\n" in text and not (len(text) % 80 == 0 and text[-80:].startswith("END")):
        lines = [line[:80].ljust(80) for line in text.splitlines() if line]
    else:
        lines = [text[i:i + 80].ljust(80) for i in range(0, len(text), 80)]
    return [line.encode("ascii", "replace") for line in lines]


def test_cards_wcslib_has_no_rule_for_change_no_wcs_of_the_corpus(corpus: Path) -> None:
    """Leaving out OBJECT, EXPTIME, ... (wcslib's catch-all rule) changes no WCS and no error.

    For every WCS unit of every corpus header, the bytes wcslib is given are
    compared with the same bytes plus every card no wcspih/wcsbth rule matches.
    """
    from assocdata import cards as cardparser
    from assocdata import fitsfile

    known = re.compile(wcscheck._WCSLIB_KEYWORDS)
    bulk = (b"COMM", b"HIST", b"CONT", b"HIER", b"    ")
    compared = 0
    for path in sorted(p for p in corpus.rglob("*") if p.is_file() and fitsfile.is_candidate(p)):
        try:
            raws, _, _ = fitsfile.read_headers(path, fitsfile.inflate(path))
        except fitsfile.FITSReadError:
            continue
        for raw in raws:
            hdu = cardparser.to_hdu_record(raw, cardparser.parse_header(raw.text, raw.index,
                                                                          raw.card_sep))
            others = [c for c in _cards(raw.text)
                      if not known.match(c) and not c.startswith(bulk) and c.strip()]
            for unit in wcscheck.find_wcs_units(hdu.keywords, hdu.xtension):
                ours = wcscheck.header_bytes(raw.text, unit.key, unit.keysel)
                assert not any(ours[i:i + 80] in others for i in range(0, len(ours), 80))
                end = len(ours) - 80 if ours.endswith(b"END".ljust(80)) else len(ours)
                everything = ours[:end] + b"".join(others) + ours[end:]
                where = f"{path.relative_to(corpus)}[{raw.index}] {unit.label}"
                assert (_wcs_outcome(ours, unit, hdu.keywords)
                        == _wcs_outcome(everything, unit, hdu.keywords)), where
                compared += 1
    assert compared >= 50


def test_build_wcsprm_accepts_one_keyword_type_only() -> None:
    text = image("CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'")[1]
    for keysel in (0, WCSHDR_IMGHEAD, WCSHDR_IMGHEAD | WCSHDR_PIXLIST, WCSHDR_BIMGARR):
        with pytest.raises(ValueError, match="keysel"):
            wcscheck.build_wcsprm(text, keysel)
    assert list(wcscheck.build_wcsprm(text).ctype) == ["RA---TAN", "DEC--TAN"]


def test_each_parse_gets_one_alternate_and_one_keyword_type() -> None:
    cards = ["XTENSION= 'BINTABLE'", "TFIELDS = 3", "TCTYP1  = 'RA---TAN'", "TCTYP2  = 'DEC--TAN'",
             "TCTY3A  = 'RA---TAN'", "TCNAM3B = 'x'", "TV3_0Z  = 1.0", "TCRPX1  = 1.0", "EQUI1B  = 2000.0",
             "1CTYP3  = 'RA---TAN'", "CTYPE1  = 'RA---TAN'", "CTYPE1A = 'GLON-CAR'", "DP1B    = 'NAXES: 2'",
             "CPDIS1Z = 'TPD'", "DATE-OBS= '2020-01-01'", "END"]
    text = "".join(c.ljust(80) for c in cards)

    def names(data: bytes) -> list[bytes]:
        return [data[i:i + 8].strip() for i in range(0, len(data), 80)]

    assert names(wcscheck.header_bytes(text)) == [b"TFIELDS", b"CTYPE1", b"DATE-OBS", b"END"]
    assert names(wcscheck.header_bytes(text, "A")) == [
        b"TFIELDS", b"CTYPE1", b"CTYPE1A", b"DATE-OBS", b"END"]
    assert names(wcscheck.header_bytes(text, " ", WCSHDR_PIXLIST)) == [
        b"TFIELDS", b"TCTYP1", b"TCTYP2", b"TCRPX1", b"DATE-OBS", b"END"]
    assert names(wcscheck.header_bytes(text, "A", WCSHDR_PIXLIST)) == [
        b"TFIELDS", b"TCTYP1", b"TCTYP2", b"TCTY3A", b"TCRPX1", b"DATE-OBS", b"END"]


def test_sip_cards_are_kept_only_where_wcslib_copes(corpus: Path) -> None:
    # A proper TAN-SIP header keeps its SIP polynomial: facts.json's centre needs it.
    keywords, text, xtension = corpus_hdu(corpus, "pkg-astropy/header_newlines.fits")
    unit = wcscheck.find_wcs_units(keywords, xtension)[0]
    p = wcscheck.prepare_wcsprm(text, unit)
    centre = [(keywords["NAXIS1"] + 1) / 2, (keywords["NAXIS2"] + 1) / 2]
    world = p.p2s(np.array([centre]), 1)["world"][0]
    expected = facts_for(corpus, "pkg-astropy/header_newlines.fits")["centre_native"]
    assert world == pytest.approx(expected, abs=1e-8)
    # A one-axis spectrum with a stray SIP coefficient: the coefficient is left out.
    data = wcscheck.header_bytes(crash_file("spectrum_sip_coefficient.hdr")[1])
    assert b"A_0_2" in data and b"A_0_2" not in wcscheck._safe_distortions(data)


def test_sip_and_dss_keywords_are_found_only_at_card_starts() -> None:
    """The distortion rule looks at keywords, not at values or comments that spell one."""
    data = wcscheck.header_bytes(crash_file("spectrum_sip_coefficient.hdr")[1])
    decoy = b"COMMENT A_0_2 = 'x' PLTDECD = '-2' AMDX1 = 1 B_1_1 = 2".ljust(80)
    cards = [data[i:i + 80] for i in range(0, len(data), 80)]
    fooled = b"".join([decoy] + cards)
    # only the real A_0_2 card is dropped; the decoy stays as it is
    assert wcscheck._safe_distortions(fooled) == decoy + wcscheck._safe_distortions(data)
    assert wcscheck._card_starts(wcscheck._keyword_heads(fooled), b"A_") == [
        80 * (1 + i) for i, c in enumerate(cards) if c.startswith(b"A_")]


def test_partly_malformed_dss_is_left_out_not_misread(corpus: Path) -> None:
    """wcslib would apply the plate solution with PLTDECD rejected: 4 degrees off, silently."""
    header = fits.getheader(corpus / "astropy-data/HorseHead.fits")
    good = wcscheck.prepare_wcsprm(header.tostring(), WcsUnit("image", -1))
    header["PLTDECD"] = "2"  # a string: wcspih() rejects this one card, keeps the others
    keywords, text, xtension = from_header(header)
    assert check_wcs(keywords, text, xtension) == ("ok", None)
    linear = wcscheck.prepare_wcsprm(text, WcsUnit("image", -1))  # the group was left out
    pixel = np.array([[446.0, 447.0]])
    ra, dec = linear.p2s(pixel, 1)["world"][0]
    ra0, dec0 = good.p2s(pixel, 1)["world"][0]
    assert abs(dec - dec0) < 1e-4 and abs(ra - ra0) < 1e-4  # the linear WCS, not a wrong plate


@pytest.mark.timeout(300)
def test_check_wcs_throughput(corpus: Path) -> None:
    """Speed of the pre-check on the corpus headers that have a WCS (printed, loosely bounded)."""
    headers = [corpus_hdu(corpus, rel, i) for rel, i in NORMAL] + [
        corpus_hdu(corpus, "pkg-glue/events.fits", 1)]
    n = 0
    started = time.perf_counter()
    while time.perf_counter() - started < 3.0:
        for keywords, text, xtension in headers:
            check_wcs(keywords, text, xtension)
            n += 1
    ours = n / (time.perf_counter() - started)
    texts = [fits.Header.fromstring(wcscheck.header_bytes(t).decode()) for _, t, _ in headers[:-1]]
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for header in texts:
            try:
                WCS(header)
            except Exception:  # noqa: BLE001
                pass
    theirs = len(texts) / (time.perf_counter() - started)
    mean = sum(len(t) for _, t, _ in headers) // len(headers)
    print(f"\ncheck_wcs: {ours:,.0f} headers/s on one core (mean header {mean:,} chars); "
          f"astropy.wcs.WCS(header): {theirs:,.0f} headers/s")
    assert ours > 100
    assert ours > 3 * theirs
