"""Read the header blocks of FITS files (and FITS header text files), fast.

Why not ``astropy.io.fits.open``: it builds HDU objects and parses every card
(~900 HDUs/s).  The ingest needs >= 4,000 HDUs/s on two cores, so this module
reads only the 2880-byte header blocks up to each END card, computes the size
of the data that follows from the structural keywords alone (FITS 4.0
§4.4.1, random groups included, as astropy does) and jumps over it: ``seek``
for plain files, read-and-discard in 1 MiB chunks for gzip streams (detected
by their magic bytes, whatever the name).  ``.fz`` files are ordinary FITS
files whose compressed images are BINTABLE HDUs.  Parsing the cards is
:mod:`assocdata.cards`' job.

Header text files (``.hdr``, ``.header``, possibly gzipped) hold one header,
either as one card per line or as a stream of 80-character cards without
newlines, usually without an END card.  Several END cards mean several
headers.  They have no data: ``data_size`` is 0.

Errors.  :class:`FITSReadError` is raised only when nothing usable can be read
(``empty``, ``not-fits``, ``bad-gzip``, ``truncated``, ``invalid-header``,
``io-error``).  Once at least one HDU is good, later trouble becomes a
:class:`~assocdata.records.Problem` and reading stops:

- ``truncated`` (hdu=i): the file ends inside the header or the data of HDU i;
  HDU i is NOT returned (every returned HDU is complete).
- ``bad-gzip`` (hdu=i): the compressed stream is corrupt in HDU i (not returned)
  or, with hdu=None, after the last HDU (CRC error, trailing garbage).
- ``invalid-header`` (hdu=i, keyword): a structural keyword (BITPIX, NAXIS,
  NAXISn, PCOUNT, GCOUNT) is missing or invalid, so the data cannot be
  skipped; HDU i is not returned.

and the oddities astropy tolerates are reported with ``severity='warning'``,
the HDU being returned:

- ``short-padding`` (hdu=i): the data of the last HDU is complete but its last
  2880-byte block is not padded out (astropy: "File may have been truncated").
- ``invalid-padding`` (hdu=i): the rest of the last header block after END is
  not blanks (e.g. NUL bytes).
- ``trailing-bytes`` (hdu=None): bytes after the last HDU that are not an
  extension header (astropy ignores them with a warning).
- ``nonstandard-header`` (hdu=i, keyword): structural keywords not in the
  order the standard prescribes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from isal import isal_zlib

from .cards import parse_value
from .records import Problem

BLOCK_SIZE = 2880
CARD_LENGTH = 80
#: Header blocks read at once from plain files (most headers fit in 8 blocks).
READ_AHEAD = 8 * BLOCK_SIZE
#: Chunk for read-and-discard of gzip-compressed data.
SKIP_CHUNK = 1 << 20
#: A "header" without END after this many blocks (28.8 MB) is not a header.
MAX_HEADER_BLOCKS = 10_000
#: Text header files larger than this are not headers.
MAX_TEXT_HEADER = 64 << 20
#: gzip files that decompress to at most this many bytes are decompressed
#: whole, once, in memory (:func:`inflate`), and that one buffer serves both
#: the header reader and the column reader; larger ones are streamed.
INFLATE_WHOLE_MAX = 128 << 20

FITS_SUFFIXES = (
    ".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz", ".fz",
    ".pha", ".pi", ".pha.gz", ".pi.gz",
)
HEADER_SUFFIXES = (".hdr", ".header")
_GZIP_MAGIC = b"\x1f\x8b"
_KEYWORD_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_STRUCTURAL_RE = re.compile(r"(BITPIX|NAXIS\d{0,3}|PCOUNT|GCOUNT|GROUPS) *= ")
_KEYWORD_RE = re.compile(r"[A-Z0-9_-]{1,8}")
_VALID_BITPIX = frozenset({8, 16, 32, 64, -32, -64})


class FITSReadError(Exception):
    """Nothing usable could be read from a file.

    ``error_class`` is a stable short code (see the module docstring), ``hdu``
    the 0-based HDU index where it went wrong (None for the file as a whole),
    ``keyword`` the offending keyword if any.
    """

    def __init__(self, error_class: str, message: str, hdu: int | None = None,
                 keyword: str | None = None) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.hdu = hdu
        self.keyword = keyword

    def as_problem(self) -> Problem:
        return Problem(self.error_class, str(self), self.hdu, self.keyword)


@dataclass(slots=True)
class RawHeader:
    """One header as found in the file.

    ``text`` is the header exactly as in the file: the 80-character cards up to
    and including END (the blank padding after END dropped); for text header
    files, the original lines of that header.  Offsets are in the
    decompressed stream.  ``card_sep`` is '' for 80-character cards and the
    line separator ('\\n' or '\\r') for text headers: pass it to
    :func:`assocdata.cards.parse_header`.
    """

    index: int
    text: str
    header_offset: int
    data_offset: int
    data_size: int
    card_sep: str = ""


def is_candidate(path: str | os.PathLike[str]) -> bool:
    """Whether a file name looks like FITS or a FITS header text file.

    Case-insensitive; ``*.gz`` counts when the name inside does.  The content is
    checked later (gzip by magic bytes, FITS by its first card).
    """
    name = os.path.basename(os.fspath(path)).lower()
    while True:
        if name.endswith(FITS_SUFFIXES) or name.endswith(HEADER_SUFFIXES):
            return True
        if not name.endswith(".gz"):
            return False
        name = name[:-3]


def is_header_file(path: str | os.PathLike[str]) -> bool:
    """Whether the name says "header text file" (.hdr/.header, maybe .gz)."""
    name = os.path.basename(os.fspath(path)).lower()
    while name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(HEADER_SUFFIXES)


# --------------------------------------------------------------------------
# Byte sources: plain files (random access) and gzip streams (forward only).
# --------------------------------------------------------------------------
class _PlainSource:
    """A plain file read through a small read-ahead buffer."""

    compressed = False

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f = f
        self.size = size
        self.buf = b""
        self.buf_start = 0

    def read(self, offset: int, n: int) -> bytes:
        """Bytes [offset, offset + n), fewer at end of file."""
        start = offset - self.buf_start
        if start >= 0 and start + n <= len(self.buf):
            return self.buf[start:start + n]
        self.f.seek(offset)
        self.buf = _read_full(self.f, max(n, READ_AHEAD))
        self.buf_start = offset
        return self.buf[:n]

    def available(self, offset: int, n: int) -> int:
        """How many of the n bytes from offset exist (no I/O needed)."""
        return max(0, min(n, self.size - offset))

    def read_all(self) -> bytes:
        self.f.seek(0)
        return _read_full(self.f, MAX_TEXT_HEADER + 1)


class _MemorySource:
    """A file already decompressed in memory (see :func:`inflate`)."""

    compressed = True

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, offset: int, n: int) -> bytes:
        return self.data[offset:offset + n]

    def available(self, offset: int, n: int) -> int:
        return max(0, min(n, len(self.data) - offset))

    def read_all(self) -> bytes:
        return self.data[:MAX_TEXT_HEADER + 1]


def inflate(path: str | os.PathLike[str], limit: int = INFLATE_WHOLE_MAX) -> bytes | None:
    """The whole decompressed content of a gzip file, if it is valid and small enough.

    Why: a gzip file must be decompressed to find its headers, and again for
    the spectral/temporal column ranges; decompressing it once, in one
    inflate call (which also checks the CRC and length in C), roughly halves
    its cost.
    Returns None (the caller then streams the file, as before) when the file
    is not gzip, cannot be read, is a multi-member stream or has bytes after
    its member, is corrupt or truncated, or would decompress to more than
    ``limit`` bytes: every error is left to the streaming reader, so that
    corrupt files are reported exactly as they always were.
    """
    try:
        with open(path, "rb", buffering=0) as f:
            if _read_full(f, 2) != _GZIP_MAGIC:
                return None
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                return None
            f.seek(0)
            packed = _read_full(f, size)
    except OSError:
        return None
    # ISIZE (the length modulo 2**32) is only a hint: decompression stops at limit anyway.
    if len(packed) < 18 or int.from_bytes(packed[-4:], "little") > limit:
        return None
    # ISA-L's inflate (python-isal: zlib's interface and checks, about twice as
    # fast here: 17.5 vs 35.5 ms for the corpus's 11 gzip files); the gzip
    # wrapper makes it check the CRC and ISIZE.
    inflater = isal_zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(packed, limit + 1)
    except isal_zlib.error:
        return None
    if not inflater.eof or inflater.unused_data or len(data) > limit:
        return None
    return data


class _GzipSource:
    """A gzip stream, read forward; skipping means decompress-and-discard."""

    compressed = True

    def __init__(self, f: BinaryIO) -> None:
        self.gz = gzip.GzipFile(fileobj=f, mode="rb")
        self.pos = 0

    def read(self, offset: int, n: int) -> bytes:
        if offset > self.pos:
            self.available(self.pos, offset - self.pos)
            if self.pos < offset:
                return b""
        data = self.gz.read(n)
        self.pos += len(data)
        return data

    def available(self, offset: int, n: int) -> int:
        """Skip n bytes from offset (== current position); return how many existed."""
        assert offset == self.pos, (offset, self.pos)
        left = n
        while left > 0:
            chunk = self.gz.read(min(left, SKIP_CHUNK))
            if not chunk:
                break
            left -= len(chunk)
        self.pos += n - left
        return n - left

    def read_all(self) -> bytes:
        return self.gz.read(MAX_TEXT_HEADER + 1)


_Source = _PlainSource | _GzipSource | _MemorySource


def _read_full(f: BinaryIO, n: int) -> bytes:
    """Read n bytes (fewer only at end of file) from an unbuffered file."""
    data = f.read(n)
    if data is None or len(data) == n or not data:
        return data or b""
    parts = [data]
    got = len(data)
    while got < n:
        more = f.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


# --------------------------------------------------------------------------
# FITS files
# --------------------------------------------------------------------------
class _Stop(Exception):
    """Reading stops at HDU ``hdu``: an error (index 0) or a Problem (later)."""

    def __init__(self, error_class: str, message: str, hdu: int | None,
                 keyword: str | None = None) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.hdu = hdu
        self.keyword = keyword


def read_headers(path: str | os.PathLike[str], decompressed: bytes | None = None
                 ) -> tuple[list[RawHeader], str, list[Problem]]:
    """Every header of a FITS file (or header text file), and what went wrong.

    ``decompressed``: the file's content from :func:`inflate`, for a gzip file
    that the caller also hands to :func:`assocdata.columns.open_data` (one
    decompression for both).
    Returns the headers in file order, the hex blake2b digest (16 bytes) of all
    the header bytes read (whole 2880-byte blocks, padding included; for a
    text header file, its whole decompressed content), and the problems met
    after at least one good HDU.  Raises :class:`FITSReadError` when nothing
    usable can be read.
    """
    if decompressed is not None:
        source: _Source = _MemorySource(decompressed)
        if is_header_file(path):
            return _read_text_headers(source)
        return _read_fits(source)
    try:
        f = open(path, "rb", buffering=0)
    except OSError as exc:
        raise FITSReadError("io-error", f"cannot open file: {exc.strerror or exc}") from None
    with f:
        try:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise FITSReadError("empty", "empty file (0 bytes)")
            gzipped = _read_full(f, 2) == _GZIP_MAGIC
            f.seek(0)
            source = _GzipSource(f) if gzipped else _PlainSource(f, size)
            if is_header_file(path):
                return _read_text_headers(source)
            return _read_fits(source)
        except FITSReadError:
            raise
        except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
            # Header text files are read whole; FITS streams handle it themselves.
            cls = "truncated" if isinstance(exc, EOFError) else "bad-gzip"
            raise FITSReadError(cls, f"corrupt gzip stream: {exc}") from None
        except OSError as exc:
            raise FITSReadError("io-error", f"read error: {exc.strerror or exc}") from None


def _read_fits(src: _Source) -> tuple[list[RawHeader], str, list[Problem]]:
    headers: list[RawHeader] = []
    problems: list[Problem] = []
    digest = hashlib.blake2b(digest_size=16)
    offset = 0
    while True:
        index = len(headers)
        try:
            raw, header_bytes, stop = _read_hdu(src, offset, index, problems)
        except _Stop as exc:
            if index == 0:
                raise FITSReadError(exc.error_class, str(exc), exc.hdu, exc.keyword) from None
            problems.append(Problem(exc.error_class, str(exc), exc.hdu, exc.keyword))
            break
        except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
            cls = "truncated" if isinstance(exc, EOFError) else "bad-gzip"
            if index == 0:
                raise FITSReadError(cls, f"compressed stream breaks inside the primary HDU "
                                    f"(decompressed bytes from 0): {exc}",
                                    0 if cls == "truncated" else None) from None
            problems.append(Problem(cls, f"compressed stream breaks inside HDU {index} "
                                    f"(after byte {offset} of the decompressed data): {exc}",
                                    index))
            break
        if raw is None:
            break
        digest.update(header_bytes)
        headers.append(raw)
        if stop:
            break
        offset = raw.data_offset + _padded(raw.data_size)
    return headers, digest.hexdigest(), problems


def _padded(size: int) -> int:
    return -(-size // BLOCK_SIZE) * BLOCK_SIZE


def _read_hdu(src: _Source, offset: int, index: int,
              problems: list[Problem]) -> tuple[RawHeader | None, bytes, bool]:
    """Read the header at ``offset`` and skip its data.

    Returns (header or None at a clean end of file, header bytes, whether
    reading must stop after this HDU).
    """
    found = _read_header_blocks(src, offset, index, problems)
    if found is None:
        return None, b"", True
    header_bytes, end = found
    text = header_bytes[:end + CARD_LENGTH].decode("latin-1")
    padding = header_bytes[end + CARD_LENGTH:]
    if padding.strip(b" "):
        problems.append(Problem(
            "invalid-padding",
            f"HDU {index}: the {len(padding)} bytes after the END card (offset "
            f"{offset + end + CARD_LENGTH}) are not all blanks "
            f"({padding.count(0)} NUL bytes)", index, severity="warning"))
    data_size = _data_size(text, index, problems)
    data_offset = offset + len(header_bytes)
    raw = RawHeader(index, text, offset, data_offset, data_size)
    padded = _padded(data_size)
    try:
        have = src.available(data_offset, padded)
    except EOFError:
        raise _Stop("truncated", f"HDU {index}: the compressed stream ends inside the data "
                    f"({data_size} bytes from offset {data_offset})", index) from None
    if have < data_size:
        raise _Stop("truncated", f"HDU {index}: data truncated, {have} of {data_size} bytes "
                    f"present from offset {data_offset} (file ends at byte "
                    f"{data_offset + have})", index)
    if have < padded:
        problems.append(Problem(
            "short-padding",
            f"HDU {index}: the data is complete but its last block is not padded to "
            f"{BLOCK_SIZE} bytes (file ends at byte {data_offset + have}, "
            f"{padded - have} bytes short)", index, severity="warning"))
        return raw, header_bytes, True
    return raw, header_bytes, False


def _read_header_blocks(src: _Source, offset: int, index: int,
                        problems: list[Problem]) -> tuple[bytes, int] | None:
    """The blocks of one header and the offset of its END card in them."""
    blocks: list[bytes] = []
    pos = offset
    while True:
        if blocks or index == 0:
            block = src.read(pos, BLOCK_SIZE)
        else:
            block = _read_after_hdu(src, pos, index)
        if not blocks and not _check_first_block(block, offset, index, problems):
            return None
        if len(block) < BLOCK_SIZE:
            where = "header" if blocks or len(block) else "start of the header"
            raise _Stop("truncated", f"HDU {index}: file ends at byte {pos + len(block)} "
                        f"inside the {where} (no END card; header starts at byte {offset})",
                        index)
        end = _find_end(block)
        blocks.append(block)
        if end >= 0:
            return b"".join(blocks) if len(blocks) > 1 else block, \
                (len(blocks) - 1) * BLOCK_SIZE + end
        pos += BLOCK_SIZE
        if len(blocks) >= MAX_HEADER_BLOCKS:
            raise _Stop("invalid-header", f"HDU {index}: no END card in the "
                        f"{MAX_HEADER_BLOCKS} blocks from byte {offset}", index)


def _read_after_hdu(src: _Source, pos: int, index: int) -> bytes:
    """The block after HDU index-1; a gzip error here (typically the CRC check
    at the end of the stream) is about the stream, not about one HDU."""
    try:
        return src.read(pos, BLOCK_SIZE)
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise _Stop("bad-gzip", f"gzip stream is corrupt after the last complete HDU "
                    f"({index - 1}, decompressed byte {pos}): {exc}; the HDUs read may be "
                    f"corrupt too", None) from None


def _check_first_block(block: bytes, offset: int, index: int, problems: list[Problem]) -> bool:
    """Check the first card of a header; False means the file ends here."""
    if index == 0:
        if not block:
            raise _Stop("empty", "no bytes to read (empty after decompression)", None)
        if block[:9] != b"SIMPLE  =":
            raise _Stop("not-fits", "not a FITS file: the first card (byte 0) is "
                        f"{block[:CARD_LENGTH].decode('latin-1')[:30]!r}, not 'SIMPLE  ='",
                        None)
        return True
    if not block:
        return False
    if block[:8] == b"XTENSION":
        return True
    # Bytes after the last HDU that are not an extension: astropy warns and
    # ignores them.
    if not block.strip(b"\0 "):
        what = "zero/blank bytes"
    else:
        what = "bytes that are not an extension header"
    problems.append(Problem(
        "trailing-bytes",
        f"{what} after the last HDU ({index - 1}), from byte {offset}: "
        f"{block[:40].decode('latin-1')!r}", None, severity="warning"))
    return False


def _find_end(block: bytes) -> int:
    """Offset of the END card in a header block, or -1.

    Like astropy: 'END' at a card boundary followed by blanks, or by blanks and
    then something that cannot continue a keyword (e.g. NUL bytes).
    """
    i = block.find(b"END")
    while i >= 0:
        if i % CARD_LENGTH == 0:
            rest = block[i + 3:i + CARD_LENGTH].lstrip(b" ")
            if not rest or rest[0] not in _KEYWORD_CHARS:
                return i
        i = block.find(b"END", i + 1)
    return -1


def _data_size(text: str, index: int, problems: list[Problem]) -> int:
    """Size in bytes of the data after a header (astropy's rule).

    Fast path: the structural keywords where the standard puts them (cards
    2..); otherwise a scan of the whole header for their first occurrence.
    """
    size = _data_size_in_order(text, index)
    if size is None:
        size = _data_size_anywhere(text, index, problems)
    return size


def _int_field(field_text: str) -> int | None:
    """Integer value of a card's value field, or None."""
    token = field_text.split("/", 1)[0].strip()
    if token.isdecimal():
        return int(token)
    try:
        value = parse_value(field_text)
    except ValueError:
        return None
    return value if type(value) is int else None


def _data_size_in_order(text: str, index: int) -> int | None:
    """Data size when BITPIX, NAXIS, NAXISn (PCOUNT, GCOUNT) are in order.

    None when the header does not follow that order (or is a random-groups or
    otherwise unusual primary): the caller then scans the whole header.
    """
    if text[80:90] != "BITPIX  = " or text[160:170] != "NAXIS   = ":
        return None
    bitpix = _int_field(text[90:160])
    naxis = _int_field(text[170:240])
    if bitpix not in _VALID_BITPIX or naxis is None or naxis > 999:
        return None
    pos = 240
    size = 1
    first_axis = None
    for j in range(1, naxis + 1):
        if text[pos:pos + 10] != f"NAXIS{j:<3d}= ":
            return None
        n = _int_field(text[pos + 10:pos + 80])
        if n is None:
            return None
        if first_axis is None:
            first_axis = n
        size *= n
        pos += 80
    if index == 0:
        # astropy counts PCOUNT/GCOUNT wherever they are, even in a primary
        # header, and random groups have NAXIS1 = 0: leave those to the slow
        # path.  ("COUNT" rather than "PCOUNT  =": a pattern with blanks is
        # three times slower to find.)
        if "COUNT" in text or (first_axis == 0 and "GROUPS" in text):
            return None
        pcount, gcount = 0, 1
    else:
        if text[pos:pos + 10] != "PCOUNT  = " or text[pos + 80:pos + 90] != "GCOUNT  = ":
            return None
        pcount = _int_field(text[pos + 10:pos + 80])
        gcount = _int_field(text[pos + 90:pos + 160])
        if pcount is None or gcount is None:
            return None
    if naxis == 0:
        return 0
    return abs(bitpix) * gcount * (pcount + size) // 8


def _data_size_anywhere(text: str, index: int, problems: list[Problem]) -> int:
    """Data size from the first occurrences of the structural keywords."""
    found = _find_structural(text)

    def integer(key: str, default: int | None = None) -> int:
        if key not in found:
            if default is not None:
                return default
            raise _Stop("invalid-header", f"HDU {index}: mandatory keyword {key} is missing",
                        index, key)
        value = _int_field(found[key][1])
        if value is None or (value < 0 and key != "BITPIX"):
            shown = found[key][1].split("/")[0].strip()
            raise _Stop("invalid-header", f"HDU {index}: {key} = {shown!r} is not a valid "
                        f"value (card {found[key][0] + 1})", index, key)
        return value

    bitpix = integer("BITPIX")
    if bitpix not in _VALID_BITPIX:
        raise _Stop("invalid-header", f"HDU {index}: BITPIX = {bitpix} is not one of "
                    f"8, 16, 32, 64, -32, -64", index, "BITPIX")
    naxis = integer("NAXIS")
    if naxis > 999:
        raise _Stop("invalid-header", f"HDU {index}: NAXIS = {naxis} > 999", index, "NAXIS")
    axes = [integer(f"NAXIS{j}") for j in range(1, naxis + 1)]
    primary = index == 0
    groups = False
    if primary and axes and axes[0] == 0 and "GROUPS" in found:
        try:
            groups = parse_value(found["GROUPS"][1]) is True
        except ValueError:
            groups = False
    pcount = integer("PCOUNT", 0)
    gcount = integer("GCOUNT", 1)
    _check_order(found, naxis, primary, groups, index, problems)
    if naxis == 0:
        return 0
    size = 1
    for n in axes[1:] if groups else axes:
        size *= n
    return abs(bitpix) * gcount * (pcount + size) // 8


def _find_structural(text: str) -> dict[str, tuple[int, str]]:
    """First card (index, value field) of each structural keyword, anywhere."""
    found: dict[str, tuple[int, str]] = {}
    for name in ("BITPIX", "NAXIS", "PCOUNT", "GCOUNT", "GROUPS"):
        pos = text.find(name)
        while pos >= 0:
            if pos % CARD_LENGTH == 0:
                m = _STRUCTURAL_RE.match(text, pos, pos + 10)
                if m is not None and m.end() == pos + 10 and m.group(1) not in found:
                    found[m.group(1)] = (pos // CARD_LENGTH, text[pos + 10:pos + CARD_LENGTH])
            pos = text.find(name, pos + 1)
    return found


def _check_order(found: dict[str, tuple[int, str]], naxis: int, primary: bool, groups: bool,
                 index: int, problems: list[Problem]) -> None:
    """Report structural keywords out of the order FITS 4.0 prescribes.

    BITPIX, NAXIS and NAXISn must be cards 2, 3, 4...; GROUPS, PCOUNT and
    GCOUNT must follow in that order (writers put EXTEND before them too).
    """
    fixed = ["BITPIX", "NAXIS"] + [f"NAXIS{j}" for j in range(1, naxis + 1)]
    after = ["GROUPS", "PCOUNT", "GCOUNT"] if groups else [] if primary else ["PCOUNT", "GCOUNT"]
    last = 0
    for position, key in enumerate(fixed + after, start=1):
        if key not in found:
            problems.append(Problem(
                "nonstandard-header", f"HDU {index}: mandatory keyword {key} is missing "
                f"(default used)", index, key, severity="warning"))
            return
        card = found[key][0]
        if (position <= len(fixed) and card != position) or card <= last:
            problems.append(Problem(
                "nonstandard-header", f"HDU {index}: {key} is card {card + 1}, out of the "
                f"order of the mandatory keywords", index, key, severity="warning"))
            return
        last = card


# --------------------------------------------------------------------------
# Header text files
# --------------------------------------------------------------------------
def _read_text_headers(src: _Source) -> tuple[list[RawHeader], str, list[Problem]]:
    """Headers of a .hdr/.header file: one per END card (or one without END)."""
    data = src.read_all()
    if not data:
        raise FITSReadError("empty", "empty header file (no bytes after decompression)")
    if len(data) > MAX_TEXT_HEADER:
        raise FITSReadError("not-fits", f"header file larger than {MAX_TEXT_HEADER} bytes")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    if b"\0" in data[:BLOCK_SIZE]:
        raise FITSReadError("not-fits", "not a FITS header text file: NUL byte at offset "
                            f"{data.index(0)}")
    text = data.decode("latin-1")
    sep = "\n" if "\n" in text else ("\r" if "\r" in text else "")
    headers = _split_lines(text, sep) if sep else _split_stream(text)
    if not headers:
        raise FITSReadError("empty", "header file holds only blanks")
    _check_looks_like_header(headers[0], sep)
    return headers, digest, []


def _split_lines(text: str, sep: str) -> list[RawHeader]:
    headers: list[RawHeader] = []
    start = pos = 0
    n = len(text)
    while pos < n:
        nl = text.find(sep, pos)
        line_end = n if nl < 0 else nl
        after = n if nl < 0 else nl + len(sep)
        if text[pos:line_end].rstrip() == "END":
            headers.append(RawHeader(len(headers), text[start:line_end], start, after, 0, sep))
            start = after
        pos = after
    if text[start:].strip():
        end = len(text)
        body = text[start:end]
        if body.endswith(sep):
            body = body[:-len(sep)]
        headers.append(RawHeader(len(headers), body, start, end, 0, sep))
    return headers


def _split_stream(text: str) -> list[RawHeader]:
    headers: list[RawHeader] = []
    start = 0
    n = len(text)
    for pos in range(0, n, CARD_LENGTH):
        card = text[pos:pos + CARD_LENGTH]
        if card.rstrip() == "END":
            end = pos + len(card)
            headers.append(RawHeader(len(headers), text[start:end], start, end, 0, ""))
            start = end
    if text[start:].strip():
        headers.append(RawHeader(len(headers), text[start:], start, n, 0, ""))
    return headers


def _check_looks_like_header(first: RawHeader, sep: str) -> None:
    """A header text file must start (after blank cards) with a FITS card.

    This keeps out the other formats that use ``.hdr`` (ENVI, Analyze).
    """
    if sep:
        cards = first.text.split(sep)
    else:
        cards = [first.text[i:i + CARD_LENGTH] for i in range(0, len(first.text), CARD_LENGTH)]
    for card in cards:
        card = card.rstrip("\r")
        if not card.strip():
            continue
        if card[8:10] == "= " and _KEYWORD_RE.fullmatch(card[:8].rstrip()):
            return
        if card[:8] in ("COMMENT ", "HISTORY ") or card[:9] == "HIERARCH ":
            return
        raise FITSReadError("not-fits", f"not a FITS header text file: first card is "
                            f"{card[:40]!r}")
