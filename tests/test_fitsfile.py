"""fitsfile: header blocks, offsets and sizes against astropy, on the real corpus
and on broken copies of it."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from assocdata.cards import parse_header, to_hdu_record
from assocdata.fitsfile import (
    BLOCK_SIZE,
    FITSReadError,
    inflate,
    is_candidate,
    read_headers,
)

CORPUS = Path(os.environ.get("ASSOCDATA_FITS_CORPUS", "/work/shared/fits-corpus"))
pytestmark = pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").exists(),
                                reason="FITS corpus not available")


def _manifest() -> list[dict[str, str]]:
    if not (CORPUS / "MANIFEST.tsv").exists():
        return []
    with open(CORPUS / "MANIFEST.tsv", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


ENTRIES = _manifest()
FITS_ENTRIES = [e for e in ENTRIES if not e["file"].endswith((".hdr", ".header"))]
TEXT_ENTRIES = [e for e in ENTRIES if e["file"].endswith((".hdr", ".header"))]
BY_ID = {e["id"]: e for e in ENTRIES}

#: What read_headers reports on the corpus (error_class, hdu, keyword); the
#: HDUs are returned all the same.
EXPECTED_READ_PROBLEMS = {
    "dev040": [("invalid-padding", 0, None)],  # NULs after END (astropy warns)
    "dev063": [("nonstandard-header", 0, "NAXIS1")],  # NAXIS1 is card 77
    "dev064": [("short-padding", 0, None)],  # astropy: "may have been truncated"
    "dev068": [("short-padding", 0, None)],
}


def _path(entry: dict[str, str]) -> Path:
    return CORPUS / entry["file"]


def _stream_bytes(path: Path) -> bytes:
    """The (decompressed) bytes of a file."""
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        return f.read()


def _astropy_hdus(path: Path) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path, lazy_load_hdus=False) as hdul:
            return [dict(hdu.fileinfo(), size=hdu.size, header=hdu.header.copy()) for hdu in hdul]


@pytest.mark.parametrize("entry", FITS_ENTRIES, ids=lambda e: e["id"])
def test_fits_structure_matches_astropy(entry: dict[str, str]) -> None:
    path = _path(entry)
    headers, digest, problems = read_headers(path)
    expected = _astropy_hdus(path)
    assert len(headers) == len(expected)
    assert [(p.error_class, p.hdu, p.keyword) for p in problems] == \
        EXPECTED_READ_PROBLEMS.get(entry["id"], [])
    assert all(p.severity == "warning" for p in problems)  # all HDUs are still read
    stream = _stream_bytes(path)
    header_blocks = b""
    for raw, ref in zip(headers, expected):
        assert raw.header_offset == ref["hdrLoc"]
        assert raw.data_offset == ref["datLoc"]
        assert raw.data_size == ref["size"]
        # The text is the file's bytes up to and including END.
        assert len(raw.text) % 80 == 0
        assert raw.text.endswith("END" + " " * 77)
        assert raw.text.encode("latin-1") == stream[raw.header_offset:raw.header_offset + len(raw.text)]
        assert "END" + " " * 77 not in raw.text[:-80][::80]  # only one END, at the end
        header_blocks += stream[raw.header_offset:raw.data_offset]
        record = to_hdu_record(raw)
        hdr = ref["header"]
        assert record.xtension == (hdr.get("XTENSION") if raw.index else None)
        assert record.extname == hdr.get("EXTNAME")
        assert record.bitpix == hdr["BITPIX"]
        assert record.naxis == [hdr[f"NAXIS{j}"] for j in range(1, hdr["NAXIS"] + 1)]
    assert digest == hashlib.blake2b(header_blocks, digest_size=16).hexdigest()


def test_hdu_counts_match_facts() -> None:
    facts = json.loads((CORPUS / "facts.json").read_text())["files"]
    for entry in ENTRIES:
        headers, _, _ = read_headers(_path(entry))
        assert len(headers) == facts[entry["id"]]["n_hdus"], entry["id"]


@pytest.mark.parametrize("entry", TEXT_ENTRIES, ids=lambda e: e["id"])
def test_text_headers(entry: dict[str, str]) -> None:
    path = _path(entry)
    data = path.read_bytes()
    headers, digest, problems = read_headers(path)
    assert problems == []
    assert len(headers) == 1
    raw = headers[0]
    assert raw.header_offset == 0 and raw.data_size == 0
    assert digest == hashlib.blake2b(data, digest_size=16).hexdigest()
    text = data.decode("latin-1")
    if b"\n" in data:
        assert raw.card_sep == "\n"
        assert raw.text == text.rstrip("\n")
        reference = fits.Header.fromtextfile(path)
    else:
        assert raw.card_sep == ""
        assert raw.text == text
        reference = fits.Header.fromstring(text)
    record = to_hdu_record(raw)
    assert record.xtension is None
    assert record.bitpix == reference["BITPIX"]
    assert record.naxis == [reference[f"NAXIS{j}"] for j in range(1, reference["NAXIS"] + 1)]


def test_digest_is_stable_and_distinguishes_files() -> None:
    a = read_headers(_path(BY_ID["dev001"]))[1]
    assert a == read_headers(_path(BY_ID["dev001"]))[1]
    assert a != read_headers(_path(BY_ID["dev002"]))[1]
    assert len(a) == 32


# --- broken inputs ----------------------------------------------------------------
def _copy(entry_id: str, tmp_path: Path, name: str | None = None) -> Path:
    source = _path(BY_ID[entry_id])
    target = tmp_path / (name or source.name)
    shutil.copyfile(source, target)
    return target


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.fits"
    path.write_bytes(b"")
    with pytest.raises(FITSReadError) as err:
        read_headers(path)
    assert (err.value.error_class, err.value.hdu, err.value.keyword) == ("empty", None, None)


def test_not_fits(tmp_path: Path) -> None:
    path = tmp_path / "page.fits"
    path.write_bytes(b"<!DOCTYPE html><html><body>Not found</body></html>\n" * 100)
    with pytest.raises(FITSReadError) as err:
        read_headers(path)
    assert (err.value.error_class, err.value.hdu) == ("not-fits", None)
    assert "SIMPLE" in str(err.value) and "byte 0" in str(err.value)


def test_gz_name_but_plain_fits_is_read_by_content(tmp_path: Path) -> None:
    path = _copy("dev052", tmp_path, "plain.fits.gz")
    headers, digest, problems = read_headers(path)
    original = read_headers(_path(BY_ID["dev052"]))
    assert [h.text for h in headers] == [h.text for h in original[0]]
    assert digest == original[1] and problems == []


def test_gz_magic_with_garbage_is_bad_gzip(tmp_path: Path) -> None:
    path = tmp_path / "junk.fits.gz"
    path.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 20)
    with pytest.raises(FITSReadError) as err:
        read_headers(path)
    assert err.value.error_class == "bad-gzip"
    assert err.value.hdu is None


def test_gzip_of_text_is_not_fits(tmp_path: Path) -> None:
    path = tmp_path / "notes.fits.gz"
    path.write_bytes(gzip.compress(b"hello world\n" * 1000))
    with pytest.raises(FITSReadError) as err:
        read_headers(path)
    assert err.value.error_class == "not-fits"


def test_gzip_of_plain_fits_equals_plain(tmp_path: Path) -> None:
    path = tmp_path / "copy.fits.gz"
    path.write_bytes(gzip.compress(_path(BY_ID["dev021"]).read_bytes()))
    headers, digest, problems = read_headers(path)
    plain = read_headers(_path(BY_ID["dev021"]))
    assert len(headers) == 17 and problems == []
    assert [(h.text, h.data_offset, h.data_size) for h in headers] == \
        [(h.text, h.data_offset, h.data_size) for h in plain[0]]
    assert digest == plain[1]


def test_truncated_in_hdu3_data(tmp_path: Path) -> None:
    path = _copy("dev052", tmp_path)
    ref = _astropy_hdus(path)
    cut = ref[3]["datLoc"] + ref[3]["size"] - 1  # one byte of data missing
    with open(path, "r+b") as f:
        f.truncate(cut)
    headers, _, problems = read_headers(path)
    assert len(headers) == 3
    assert [(p.error_class, p.hdu, p.keyword) for p in problems] == [("truncated", 3, None)]
    assert problems[0].severity == "error"
    assert "HDU 3" in problems[0].message and str(cut) in problems[0].message


def test_missing_padding_only(tmp_path: Path) -> None:
    path = _copy("dev052", tmp_path)
    ref = _astropy_hdus(path)
    with open(path, "r+b") as f:
        f.truncate(ref[3]["datLoc"] + ref[3]["size"])  # data complete, no padding, no HDU 4..
    headers, _, problems = read_headers(path)
    assert len(headers) == 4
    assert [(p.error_class, p.hdu) for p in problems] == [("short-padding", 3)]


def test_truncated_in_hdu3_header(tmp_path: Path) -> None:
    path = _copy("dev052", tmp_path)
    ref = _astropy_hdus(path)
    with open(path, "r+b") as f:
        f.truncate(ref[3]["hdrLoc"] + 1000)
    headers, _, problems = read_headers(path)
    assert len(headers) == 3
    assert [(p.error_class, p.hdu, p.keyword) for p in problems] == [("truncated", 3, None)]


def test_truncated_primary(tmp_path: Path) -> None:
    path = _copy("dev001", tmp_path)
    with open(path, "r+b") as f:
        f.truncate(4000)
    with pytest.raises(FITSReadError) as err:
        read_headers(path)
    assert (err.value.error_class, err.value.hdu) == ("truncated", 0)


def test_truncated_gzip(tmp_path: Path) -> None:
    source = _path(BY_ID["dev018"])  # 7 HDUs, gzip
    data = source.read_bytes()
    path = tmp_path / "cut.fits.gz"
    path.write_bytes(data[: int(len(data) * 0.6)])
    headers, _, problems = read_headers(path)
    full = read_headers(source)[0]
    assert 0 < len(headers) < 7
    assert [h.text for h in headers] == [h.text for h in full[: len(headers)]]
    assert [(p.error_class, p.hdu) for p in problems] == [("truncated", len(headers))]


def test_trailing_garbage_after_last_hdu(tmp_path: Path) -> None:
    path = _copy("dev028", tmp_path)
    with open(path, "ab") as f:
        f.write(b"\0" * 500)
    headers, _, problems = read_headers(path)
    assert len(headers) == 2
    assert [(p.error_class, p.hdu) for p in problems] == [("trailing-bytes", None)]


def test_invalid_naxis_in_extension(tmp_path: Path) -> None:
    path = _copy("dev052", tmp_path)
    ref = _astropy_hdus(path)
    data = bytearray(path.read_bytes())
    start = ref[2]["hdrLoc"] + 2 * 80  # NAXIS card of HDU 2
    assert data[start:start + 10] == b"NAXIS   = "
    data[start + 10:start + 30] = b"                  -2"
    path.write_bytes(bytes(data))
    headers, _, problems = read_headers(path)
    assert len(headers) == 2
    assert [(p.error_class, p.hdu, p.keyword) for p in problems] == [("invalid-header", 2, "NAXIS")]


def test_text_header_truncated_last_card(tmp_path: Path) -> None:
    source = _path(BY_ID["dev024"])  # 80-column stream without newlines
    path = tmp_path / "cut.hdr"
    path.write_bytes(source.read_bytes()[:-30])
    headers, _, problems = read_headers(path)
    assert problems == [] and len(headers) == 1
    parsed = parse_header(headers[0].text, 0, headers[0].card_sep)
    assert [(p.error_class, p.hdu, p.keyword) for p in parsed.problems] == [("truncated", 0, "HISTORY")]
    complete = parse_header(read_headers(source)[0][0].text, 0, "")
    assert parsed.keywords["HISTORY"] == complete.keywords["HISTORY"][:-1]


def test_text_header_with_two_end_cards(tmp_path: Path) -> None:
    path = tmp_path / "two.header"
    path.write_text("SIMPLE  = T\nNAXIS   = 0\nEND\nXTENSION= 'IMAGE   '\nBITPIX  = 16\n"
                    "NAXIS   = 1\nNAXIS1  = 5\nEXTNAME = 'SCI'\nEND\n\n")
    headers, _, problems = read_headers(path)
    assert problems == [] and len(headers) == 2
    assert headers[0].text == "SIMPLE  = T\nNAXIS   = 0\nEND"
    assert headers[1].header_offset == len("SIMPLE  = T\nNAXIS   = 0\nEND\n")
    second = to_hdu_record(headers[1])
    assert (second.xtension, second.extname, second.naxis) == ("IMAGE", "SCI", [5])


def test_text_header_crlf(tmp_path: Path) -> None:
    path = tmp_path / "dos.hdr"
    path.write_bytes(b"SIMPLE  =                    T\r\nBITPIX  = -32\r\nNAXIS   = 2\r\n"
                     b"NAXIS1  = 10\r\nNAXIS2  = 20\r\nOBJECT  = 'M31     '\r\n")
    headers, _, _ = read_headers(path)
    parsed = parse_header(headers[0].text, 0, headers[0].card_sep)
    assert parsed.problems == []
    assert parsed.keywords["OBJECT"] == "M31" and parsed.naxis == [10, 20]


def test_envi_hdr_is_not_fits(tmp_path: Path) -> None:
    path = tmp_path / "cube.hdr"
    path.write_text("ENVI\ndescription = {cube}\nsamples = 10\n")
    with pytest.raises(FITSReadError) as err:
        read_headers(path)
    assert err.value.error_class == "not-fits"


def test_random_groups_size(tmp_path: Path) -> None:
    data = fits.GroupData(np.zeros((3, 1, 2, 2), np.float32), parnames=["UU", "VV"],
                          pardata=[np.arange(3.0), np.arange(3.0)], bitpix=-32)
    path = tmp_path / "groups.fits"
    fits.HDUList([fits.GroupsHDU(data), fits.ImageHDU(np.ones((4, 5)))]).writeto(path)
    headers, _, problems = read_headers(path)
    ref = _astropy_hdus(path)
    assert problems == [] and len(headers) == 2
    assert [(h.data_offset, h.data_size) for h in headers] == [(r["datLoc"], r["size"]) for r in ref]


def test_tile_compressed_image(tmp_path: Path) -> None:
    path = tmp_path / "image.fits.fz"
    image = np.arange(60 * 70, dtype=np.int16).reshape(60, 70)
    hdu = fits.CompImageHDU(image, compression_type="RICE_1", name="SCI")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    headers, _, problems = read_headers(path)
    assert problems == [] and len(headers) == 2
    record = to_hdu_record(headers[1])
    assert (record.xtension, record.extname, record.bitpix, record.naxis) == ("IMAGE", "SCI", 16, [70, 60])
    assert record.keywords["XTENSION"] == "BINTABLE" and record.keywords["ZIMAGE"] is True
    assert record.columns == []
    ref = _astropy_hdus(path)
    assert headers[1].data_offset == ref[1]["datLoc"]


@pytest.mark.parametrize("name, expected", [
    ("a.fits", True), ("A.FITS", True), ("a.fit", True), ("a.fts", True), ("a.fits.gz", True),
    ("a.FIT.GZ", True), ("a.fts.gz", True), ("a.fits.fz", True), ("a.fz", True), ("a.pha", True),
    ("a.pi", True), ("a.pha.gz", True), ("a.pi.gz", True), ("a.hdr", True), ("a.header", True),
    ("a.hdr.gz", True), ("a.fz.gz", True), ("a.txt", False), ("a.gz", False), ("a.fits.bz2", False),
    ("fits", False), ("a.fits.tar.gz", False),
])
def test_is_candidate(name: str, expected: bool) -> None:
    assert is_candidate(name) is expected
    assert is_candidate(Path("/some/dir") / name) is expected


def test_reads_only_header_blocks(tmp_path: Path) -> None:
    """A big data part must be seeked over, not read: a sparse 3 GB file is instant."""
    path = tmp_path / "big.fits"
    size = BLOCK_SIZE * 2**20
    header = fits.Header({"SIMPLE": True, "BITPIX": 8, "NAXIS": 1, "NAXIS1": size})
    with open(path, "wb") as f:
        f.write(header.tostring().encode())
        f.truncate(BLOCK_SIZE + size)
    headers, _, problems = read_headers(path)
    assert problems == [] and headers[0].data_size == size


def test_gzip_crc_error_after_last_hdu(tmp_path: Path) -> None:
    data = bytearray(_path(BY_ID["dev018"]).read_bytes())
    data[-6] ^= 0xFF  # the CRC32 in the gzip trailer
    path = tmp_path / "crc.fits.gz"
    path.write_bytes(bytes(data))
    headers, _, problems = read_headers(path)
    assert len(headers) == 7
    assert [(p.error_class, p.hdu) for p in problems] == [("bad-gzip", None)]
    assert "CRC" in problems[0].message


GZIP_ENTRIES = [e for e in ENTRIES if _path(e).read_bytes()[:2] == b"\x1f\x8b"] if ENTRIES else []


@pytest.mark.parametrize("entry", GZIP_ENTRIES, ids=lambda e: e["id"])
def test_one_decompression_reads_the_same_headers_as_the_stream(entry: dict[str, str]) -> None:
    whole = inflate(_path(entry))
    assert whole == _stream_bytes(_path(entry))
    assert read_headers(_path(entry), whole) == read_headers(_path(entry))


def test_inflate_leaves_plain_files_and_every_broken_stream_to_the_streaming_reader(
        tmp_path: Path) -> None:
    """A corrupt stream is reported by the streaming reader, exactly as before."""
    good = _path(BY_ID["dev018"]).read_bytes()
    assert inflate(_path(BY_ID["dev021"])) is None  # not gzip
    cases = {
        "crc.fits.gz": good[:-6] + bytes([good[-6] ^ 0xFF]) + good[-5:],
        "cut.fits.gz": good[: len(good) // 2],
        "garbage.fits.gz": b"\x1f\x8b" + b"not a deflate stream" * 20,
        "two-members.fits.gz": good + gzip.compress(b"more"),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert inflate(tmp_path / name) is None, name
    assert inflate(_path(BY_ID["dev018"]), limit=1000) is None  # too large to hold whole
