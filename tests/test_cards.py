"""cards: every keyword of every corpus header against astropy, and the rules
for odd cards."""

from __future__ import annotations

import csv
import os
import random
import shutil
import warnings
from collections import Counter
from pathlib import Path

import pytest
from astropy.io import fits
from astropy.io.fits.card import Undefined

from assocdata.cards import parse_header, parse_value, to_hdu_record
from assocdata.fitsfile import read_headers

CORPUS = Path(os.environ.get("ASSOCDATA_FITS_CORPUS", "/work/shared/fits-corpus"))
HAVE_CORPUS = (CORPUS / "MANIFEST.tsv").exists()
needs_corpus = pytest.mark.skipif(not HAVE_CORPUS, reason="FITS corpus not available")


def _manifest() -> list[dict[str, str]]:
    if not HAVE_CORPUS:
        return []
    with open(CORPUS / "MANIFEST.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


ENTRIES = _manifest()
BY_ID = {e["id"]: e for e in ENTRIES}

#: Cards of the corpus that are rejected (keyword left out), per file.
EXPECTED_REJECTED = {
    "dev040": [("invalid-value", 0, "CROTA3")],  # 0.8058610690795-297
    "dev042": [("invalid-card", 0, "ZSOURCE")],  # '=' in column 10
    "dev045": [("invalid-card", 0, "IRAF-B/P")],  # illegal keyword
    "dev061": [("invalid-value", 0, "AIRMASS")],  # INDEF
    "dev062": [("invalid-card", 0, "P.I.")],
    "dev068": [("invalid-card", 0, "P.I.")],
}
#: Cards astropy reads that break the standard (value kept): counts per file.
EXPECTED_NONSTANDARD = {
    "dev042": {"nonstandard-value": 3},  # 2.3694500e+10
    "dev043": {"nonstandard-card": 65, "nonstandard-value": 10},  # right-justified keywords
    "dev047": {"nonstandard-value": 1},
    "dev059": {"nonstandard-value": 6},
    "dev063": {"nonstandard-value": 1},  # 'J. O'Meara'
}


def _astropy_headers(path: Path) -> list[fits.Header]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if path.name.endswith((".hdr", ".header")):
            data = path.read_bytes()
            if b"\n" in data:
                return [fits.Header.fromtextfile(path)]
            return [fits.Header.fromstring(data.decode("latin-1"))]
        with fits.open(path) as hdul:
            return [hdu.header.copy() for hdu in hdul]


def _astropy_view(header: fits.Header) -> tuple[dict[str, list], dict[str, list]]:
    """Values of every card by (normalised) keyword, and the commentary lists."""
    values: dict[str, list] = {}
    commentary: dict[str, list] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for card in header.cards:
            key = card.keyword
            if card._hierarch:
                key = " ".join(key.split()).upper()
            try:
                value = card.value
            except Exception:  # astropy cannot read it either
                value = "<unreadable>"
            if isinstance(value, Undefined):
                value = None
            target = commentary if key in ("COMMENT", "HISTORY", "") else values
            target.setdefault(key, []).append(value)
    return values, commentary


def _same(mine: object, theirs: object) -> bool:
    if isinstance(theirs, complex):
        return isinstance(mine, str)
    return type(mine) is type(theirs) and mine == theirs


@needs_corpus
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["id"])
def test_every_keyword_matches_astropy(entry: dict[str, str]) -> None:
    path = CORPUS / entry["file"]
    raws, _, _ = read_headers(path)
    references = _astropy_headers(path)
    assert len(raws) == len(references)
    rejected: list[tuple] = []
    nonstandard: Counter[str] = Counter()
    compared = 0
    for raw, reference in zip(raws, references):
        parsed = parse_header(raw.text, raw.index, raw.card_sep)
        for p in parsed.problems:
            if p.error_class.startswith("nonstandard"):
                assert p.severity == "warning"
                nonstandard[p.error_class] += 1
            else:
                assert p.severity == "error"
                rejected.append((p.error_class, p.hdu, p.keyword))
        dropped = {p.keyword for p in parsed.problems if not p.error_class.startswith("nonstandard")}
        values, commentary = _astropy_view(reference)
        for key, theirs in values.items():
            if key in dropped:
                assert key not in parsed.keywords
                continue
            assert key in parsed.keywords, key
            mine = parsed.keywords[key]
            assert _same(mine, theirs[0]), (key, mine, theirs[0])
            if len(theirs) > 1:
                assert len(parsed.duplicates[key]) == len(theirs)
                assert all(_same(a, b) for a, b in zip(parsed.duplicates[key], theirs)), key
            else:
                assert key not in parsed.duplicates
            compared += 1
        for key, theirs in commentary.items():
            assert parsed.keywords[key] == theirs, key
        assert set(parsed.keywords) <= set(values) | set(commentary)
    assert sorted(rejected) == EXPECTED_REJECTED.get(entry["id"], [])
    assert dict(nonstandard) == EXPECTED_NONSTANDARD.get(entry["id"], {})
    assert compared > 0


@needs_corpus
def test_continue_and_hierarch_in_corpus() -> None:
    raw = read_headers(CORPUS / BY_ID["dev036"]["file"])[0][0]  # HMI: CONTINUE cards
    parsed = parse_header(raw.text, 0, raw.card_sep)
    reference = fits.Header.fromtextfile(CORPUS / BY_ID["dev036"]["file"])
    long_keys = [c.keyword for c in reference.cards if len(c.image) > 80]
    assert long_keys
    for key in long_keys:
        assert parsed.keywords[key] == reference[key]
        assert len(parsed.keywords[key]) > 68
    raw = read_headers(CORPUS / BY_ID["dev010"]["file"])[0][0]  # UVES: HIERARCH ESO ...
    parsed = parse_header(raw.text, 0)
    hierarch = [k for k in parsed.keywords if k.startswith("ESO ")]
    assert len(hierarch) > 400
    assert parsed.keywords["ESO DET CHIP1 ID"] == fits.getheader(CORPUS / BY_ID["dev010"]["file"])["ESO DET CHIP1 ID"]


@needs_corpus
def test_invalid_value_in_copy_of_corpus_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.fits"
    shutil.copyfile(CORPUS / BY_ID["dev001"]["file"], path)
    data = bytearray(path.read_bytes())
    start = data.index(b"EXPOSURE= ")
    assert start % 80 == 0
    data[start:start + 80] = b"EXPOSURE=                 6x5 / broken value".ljust(80)
    path.write_bytes(bytes(data))
    raws, _, problems = read_headers(path)
    assert problems == []
    parsed = parse_header(raws[0].text, 0)
    assert [(p.error_class, p.hdu, p.keyword) for p in parsed.problems] == [("invalid-value", 0, "EXPOSURE")]
    assert "6x5" in parsed.problems[0].message and "card" in parsed.problems[0].message
    assert "EXPOSURE" not in parsed.keywords
    assert parsed.keywords["TELESCOP"] == "UK Schmidt - Doubl"
    record = to_hdu_record(raws[0], parsed)
    assert "EXPOSURE=                 6x5" in record.header_text


# --- rules on synthetic cards ----------------------------------------------------
def _header(*cards: str, end: bool = True) -> str:
    text = "".join(card.ljust(80)[:80] for card in cards)
    return text + ("END".ljust(80) if end else "")


def _parse(*cards: str):
    return parse_header(_header("SIMPLE  =                    T", *cards), 0, "")


def _problems(parsed) -> list[tuple]:
    return [(p.error_class, p.hdu, p.keyword) for p in parsed.problems]


@pytest.mark.parametrize("field, expected", [
    ("                   T", True),
    ("                   F / no", False),
    ("                  42", 42),
    ("                 -42", -42),
    ("                +007", 7),
    (" 123456789012345678901234567890", 123456789012345678901234567890),
    ("                 1.5", 1.5),
    ("                 1.", 1.0),
    ("                  .5", 0.5),
    ("              1.5E10", 1.5e10),
    ("              1.5D10", 1.5e10),
    ("             -1.5D-300", -1.5e-300),
    ("                 1E5", 1e5),
    ("          1.0E+100", 1e100),
    ("'abc'", "abc"),
    ("'  leading and trailing   '", "  leading and trailing"),
    ("'O''Brien'", "O'Brien"),
    ("''", ""),
    ("'    '", ""),
    ("'a / b' / comment", "a / b"),
    ("                     / only a comment", None),
    ("", None),
    ("(1.0, 2.0)", "(1.0, 2.0)"),
])
def test_values(field: str, expected: object) -> None:
    parsed = _parse("KEY     = " + field)
    assert _problems(parsed) == []
    assert type(parsed.keywords["KEY"]) is type(expected)
    assert parsed.keywords["KEY"] == expected
    if not isinstance(expected, str) or not expected.startswith("("):
        card = fits.Card.fromstring(("KEY     = " + field).ljust(80))
        theirs = None if isinstance(card.value, Undefined) else card.value
        assert theirs == expected


@pytest.mark.parametrize("field", ["NaN", "nan", "Inf", "-INF", "1.0E999", "1.0D400", "INDEF",
                                   "'unterminated", "'abc' junk", "T F", "1.0-297"])
def test_invalid_values(field: str) -> None:
    parsed = _parse("KEY     = " + field, "OTHER   = 1")
    assert _problems(parsed) == [("invalid-value", 0, "KEY")]
    assert "KEY" not in parsed.keywords and parsed.keywords["OTHER"] == 1
    assert field.split()[0] in parsed.problems[0].message


@pytest.mark.parametrize("card, key, value", [
    ("KEY     =  1.5e10", "KEY", 1.5e10),  # lower-case exponent
    ("KEY     =  - 5", "KEY", -5),  # blank after sign
    ("key     = 5", "KEY", 5),  # lower-case keyword
    ("   KEY  = 5", "KEY", 5),  # right-justified keyword
    ("KEY= 5", "KEY", 5),  # '=' in column 4
    ("KEY     = 'J. O'Meara' / who", "KEY", "J. O'Meara"),  # unescaped quote
])
def test_tolerated_nonstandard(card: str, key: str, value: object) -> None:
    parsed = _parse(card)
    assert [p[0].startswith("nonstandard") for p in _problems(parsed)] == [True]
    assert parsed.problems[0].keyword == key
    assert parsed.keywords[key] == value
    assert type(parsed.keywords[key]) is type(value)


@pytest.mark.parametrize("card, key", [
    ("P.I.    = 'Latham'", "P.I."),
    ("DATE OBS= '2020-01-01'", "DATE OBS"),
    ("ZSOURCE  =  0.00023", "ZSOURCE"),
    ("NOVALUE  just some words", "NOVALUE"),
    ("CONTINUE  'orphan'", "CONTINUE"),
])
def test_rejected_cards(card: str, key: str) -> None:
    parsed = _parse(card, "AFTER   = 2")
    assert _problems(parsed) == [("invalid-card", 0, key)]
    assert card.strip() in parsed.problems[0].message or repr(card.rstrip()) in parsed.problems[0].message
    assert parsed.keywords["AFTER"] == 2


def test_non_ascii_and_control_characters() -> None:
    parsed = _parse("OBSERVER= 'Jos\u00e9'", "HISTORY caf\u00e9", "TAB     = 1\t", "GOOD    = 3")
    assert _problems(parsed) == [("invalid-card", 0, "OBSERVER"), ("invalid-card", 0, "HISTORY"),
                                 ("invalid-card", 0, "TAB")]
    assert "column 15" in parsed.problems[0].message
    assert "OBSERVER" not in parsed.keywords and "HISTORY" not in parsed.keywords
    assert parsed.keywords["GOOD"] == 3


def test_commentary_lists_in_order() -> None:
    parsed = _parse("COMMENT   first", "HISTORY one", "", "        / blank key", "COMMENT second",
                    "comment lower", "HISTORY = two")
    assert parsed.keywords["COMMENT"] == ["  first", "second", "lower"]
    assert parsed.keywords["HISTORY"] == ["one", "= two"]
    assert parsed.keywords[""] == ["", "/ blank key"]


def test_duplicates_keep_first_and_list_all() -> None:
    parsed = _parse("A       = 1", "B       = 'x'", "A       = 2", "A       = 'three'")
    assert parsed.keywords["A"] == 1
    assert parsed.duplicates == {"A": [1, 2, "three"]}
    reference = fits.Header.fromstring(_header("A       = 1", "B       = 'x'", "A       = 2"))
    assert reference["A"] == parsed.keywords["A"]


def test_continue_long_strings() -> None:
    parsed = _parse("LONG    = 'first part &'", "CONTINUE  'second part &'", "CONTINUE  'end   '",
                    "NEXT    = 1")
    assert parsed.keywords["LONG"] == "first part second part end"
    assert _problems(parsed) == []
    # like astropy, a CONTINUE after a string without '&' is joined, but reported
    parsed = _parse("LONG    = 'no ampersand'", "CONTINUE  'more'")
    assert parsed.keywords["LONG"] == "no ampersandmore"
    assert _problems(parsed) == [("nonstandard-card", 0, "LONG")]
    # the continuation of a duplicate goes to the duplicate
    parsed = _parse("LONG    = 'one'", "LONG    = 'two&'", "CONTINUE  'three'")
    assert parsed.keywords["LONG"] == "one"
    assert parsed.duplicates["LONG"] == ["one", "twothree"]


def test_long_strings_round_trip_astropy_writer() -> None:
    """Long strings written by astropy (CONTINUE, HIERARCH) read back exactly.

    (astropy itself misreads some of these, e.g. a piece ending in ``''/``, so
    the reference is the value written, and astropy's reading when it agrees.)
    """
    rng = random.Random(7)
    header = fits.Header()
    header["SIMPLE"] = True
    written = {}
    for n in range(60):
        length = rng.randrange(0, 400)
        # (a final "&" cannot survive the CONTINUE convention)
        text = "".join(rng.choice("abc ''&/=XYZ0123") for _ in range(length)).rstrip(" &")
        header[f"LONG{n}"] = written[f"LONG{n}"] = text
        header[f"HIERARCH ESO LONG K{n}"] = written[f"ESO LONG K{n}"] = text[:40].rstrip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = header.tostring()
        reference = fits.Header.fromstring(text)
    parsed = parse_header(text, 0, "")
    # astropy's writer sometimes splits a doubled quote across two cards: read
    # back as astropy does, and reported as non-standard.
    assert {p.error_class for p in parsed.problems} <= {"nonstandard-card"}
    agree = 0
    for key, value in written.items():
        assert parsed.keywords[key] == value, key
        agree += reference[key] == value
    assert agree >= 40  # astropy misreads the others (quotes before "/")


def test_continue_after_hierarch_and_slow_path_strings() -> None:
    parsed = _parse("HIERARCH ESO OBS NAME = 'part one &'", "CONTINUE  'part two'",
                    "lower   = 'lower-case key &'", "CONTINUE  'continued'",
                    "NUM     = 5", "CONTINUE  'orphan'")
    assert parsed.keywords["ESO OBS NAME"] == "part one part two"
    assert parsed.keywords["LOWER"] == "lower-case key continued"
    assert _problems(parsed) == [("nonstandard-card", 0, "LOWER"), ("invalid-card", 0, "CONTINUE")]


def test_hierarch_keys() -> None:
    parsed = _parse("HIERARCH ESO DET CHIP1 ID = 'ccd' / chip", "HIERARCH eso  tel   alt= 45.5",
                    "HIERARCH ESO INS MODE='ECHELLE'")
    assert parsed.keywords["ESO DET CHIP1 ID"] == "ccd"
    assert parsed.keywords["ESO TEL ALT"] == 45.5
    assert parsed.keywords["ESO INS MODE"] == "ECHELLE"
    assert _problems(parsed) == []


def test_structure_summary() -> None:
    parsed = parse_header(_header("XTENSION= 'BINTABLE'", "BITPIX  = 8", "NAXIS   = 2",
                                  "NAXIS1  = 12", "NAXIS2  = 3", "PCOUNT  = 0", "GCOUNT  = 1",
                                  "TFIELDS = 1", "EXTNAME = 'EVENTS  '"), 1, "")
    assert (parsed.xtension, parsed.extname, parsed.bitpix, parsed.naxis) == ("BINTABLE", "EVENTS", 8, [12, 3])
    assert parsed.compressed is False
    parsed = parse_header(_header("SIMPLE  = T", "BITPIX  = 16", "NAXIS   = 2", "NAXIS1  = 12"), 0, "")
    assert _problems(parsed) == [("invalid-header", 0, "NAXIS2")]
    assert parsed.naxis == [12] and parsed.xtension is None


def test_end_card_junk_and_text_lines() -> None:
    text = _header("SIMPLE  = T", "A       = 1", end=False) + "END     junk".ljust(80)
    parsed = parse_header(text, 0, "")
    assert _problems(parsed) == [("nonstandard-card", 0, "END")]
    parsed = parse_header("SIMPLE  = T\nA       = 'x'   \n\nB       = 2" + " " * 80 + "\nEND\n", 0, "\n")
    assert parsed.keywords["A"] == "x" and parsed.keywords["B"] == 2 and parsed.keywords[""] == [""]
    parsed = parse_header("SIMPLE  = T\nA       = 2  / " + "x" * 100 + "\n", 0, "\n")
    assert _problems(parsed) == [("invalid-card", 0, "A")]


def test_parse_value() -> None:
    assert parse_value("                 16 / comment") == 16
    assert parse_value(" 'IMAGE   '") == "IMAGE"
    with pytest.raises(ValueError):
        parse_value(" NaN")
