"""What an author's upload may contain, checked by content: the submission page's safety rules.

Accepted: FITS files (plain or gzip-compressed), one ReadMe (text), one
mapping file (text), and .tar (optionally compressed) or .zip archives of
those. The type is read from the bytes (the FITS ``SIMPLE  =`` card, gzip,
tar and zip magic numbers, text decodability), never from the name.

- Sizes are limited per file, per upload and in number of files; archive
  members are read through streaming limits that count the bytes actually
  decompressed, so a zip bomb (or a tar.gz bomb) stops at the limit whatever
  its headers declare.
- Archive members with an absolute path, a ``..`` component, a backslash or
  a drive letter, links of any kind, devices and nested archives are refused.
- Files are written under the submission's directory (outside the web root:
  nothing there is ever served by path) with generated names
  ``fNNN-<safe stem>.fits`` (or the author's .fit/.fts); the original name is only recorded.

Every refusal is a :class:`Rejection` saying which file and why; one bad
member does not lose the others.
"""

from __future__ import annotations

import gzip
import io
import re
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

#: Limits (bytes). An upload is refused past MAX_UPLOAD before it is parsed (web.app).
MAX_FILE = 256 * 1024**2
MAX_TOTAL = 1024**3
MAX_FILES = 500
MAX_TEXT = 1024**2  # ReadMe and mapping
CHUNK = 1024 * 1024

FITS_MAGIC = b"SIMPLE  ="
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
_SAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


class UploadRefused(ValueError):
    """The whole upload is refused (too large, nothing usable)."""


@dataclass(frozen=True)
class Rejection:
    name: str
    reason: str


@dataclass(frozen=True)
class Accepted:
    original: str  # as the author named it (display only)
    stored: str  # generated name in the submission directory
    size: int
    kind: str  # 'fits' | 'readme' | 'mapping'


@dataclass
class Intake:
    """Everything accepted or refused from one upload."""

    directory: Path
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    readme: str | None = None
    mapping: str | None = None
    total: int = 0

    def _next_name(self, original: str) -> str:
        stem = PurePosixPath(original.replace("\\", "/")).name
        if stem.lower().endswith(".gz"):
            stem = stem[:-3]
        extension = ".fits"  # the author's own FITS extension is kept (.fit, .fts): it names the file
        for suffix in (".fits", ".fit", ".fts"):
            if stem.lower().endswith(suffix):
                stem, extension = stem[: -len(suffix)], suffix
        stem = _SAFE.sub("_", stem).strip("._")[:60] or "file"
        n = sum(a.kind == "fits" for a in self.accepted) + 1
        return f"f{n:03d}-{stem}{extension}"


# -- content sniffing ---------------------------------------------------------------------------

def sniff(head: bytes) -> str:
    """'fits', 'gzip', 'zip', 'tar' or 'text' or 'binary', from the first bytes (at least 2880)."""
    if head.startswith(FITS_MAGIC) and _fits_card_ok(head[:80]):
        return "fits"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return "zip"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head.startswith((b"BZh", b"\xfd7zXZ\x00")):
        return "compressed-tar?"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "text"
        except UnicodeDecodeError as exc:
            if exc.start > len(head) - 4:  # a multibyte character cut at the end of the sniff
                return "text"
            try:
                head.decode("latin-1")
                return "text"
            except UnicodeDecodeError:
                pass
    return "binary"


def _fits_card_ok(card: bytes) -> bool:
    return len(card) == 80 and all(32 <= b < 127 for b in card) and b"T" in card[10:30]


def _gunzip_head(data: bytes, n: int = 2880) -> bytes:
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return d.decompress(data, n)
    except zlib.error:
        return b""


def _is_readme(name: str) -> bool:
    base = PurePosixPath(name.replace("\\", "/")).name.lower()
    return base in ("readme", "readme.txt", "readme.md")


def _is_mapping(name: str) -> bool:
    base = PurePosixPath(name.replace("\\", "/")).name.lower()
    return base.endswith(".map") or base.startswith("mapping")


def _has_version_line(head: bytes) -> bool:
    """A mapping file by content: its first meaningful line is the language's version line."""
    for line in head.decode("latin-1").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line.startswith("assocdata-mapping")
    return False


def member_name_problem(name: str) -> str | None:
    """Why an archive member's path is refused (None: fine). Never used as a path anyway."""
    if not name or "\x00" in name:
        return "empty name or NUL byte in the name"
    if "\\" in name:
        return "backslash in the path"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if ".." in PurePosixPath(name).parts:
        return "path traversal ('..')"
    return None


# -- taking files in --------------------------------------------------------------------------

def _copy_limited(src: BinaryIO, dst: BinaryIO, limit: int) -> int:
    """Copy at most ``limit`` bytes; raises UploadRefused past it (counts what is really read)."""
    n = 0
    while True:
        chunk = src.read(CHUNK)
        if not chunk:
            return n
        n += len(chunk)
        if n > limit:
            raise UploadRefused(f"larger than {limit // 1024**2} MiB once decompressed")
        dst.write(chunk)


def take(intake: Intake, name: str, stream: BinaryIO, *, depth: int = 0) -> None:
    """Accept or refuse one uploaded file (or archive, whose members go through here too)."""
    if len(intake.accepted) >= MAX_FILES:
        intake.rejected.append(Rejection(name, f"more than {MAX_FILES} files in one submission"))
        return
    head = stream.read(2880)
    kind = sniff(head)
    rest = _Prefixed(head, stream)
    if kind == "gzip":
        inner = _gunzip_head(head)
        if inner.startswith(FITS_MAGIC):
            kind = "fits"  # .fits.gz: stored compressed, as the ingest reads it
        elif len(inner) >= 262 and inner[257:262] == b"ustar":
            kind = "tar"
        else:
            intake.rejected.append(Rejection(name, "gzip data that is neither FITS nor a tar archive"))
            return
    if kind in ("tar", "zip", "compressed-tar?"):
        if depth > 0:
            intake.rejected.append(Rejection(name, "archive inside an archive: not accepted"))
            return
        if kind == "zip":
            _take_zip(intake, name, stream if _seekable(stream) else rest)
        else:
            _take_tar(intake, name, rest)
        return
    if kind == "fits":
        stored = intake._next_name(name)
        _store(intake, name, stored, rest, MAX_FILE, "fits")
        return
    if kind == "text" and _is_readme(name):
        text = _read_text(intake, name, rest)
        if text is not None:
            if intake.readme is not None:
                intake.rejected.append(Rejection(name, "a second ReadMe: only one per submission"))
                return
            intake.readme = text
            intake.accepted.append(Accepted(name, "ReadMe", len(text.encode()), "readme"))
        return
    if kind == "text" and (_is_mapping(name) or _has_version_line(head)):
        text = _read_text(intake, name, rest)
        if text is not None:
            intake.mapping = text
            intake.accepted.append(Accepted(name, "mapping.map", len(text.encode()), "mapping"))
        return
    if kind == "text":
        reason = ("a text file that is neither a ReadMe (named ReadMe) nor a mapping file "
                  "(named *.map, or starting with 'assocdata-mapping 1')")
    else:
        reason = f"not a FITS file, ReadMe or mapping file (content looks like {kind})"
    intake.rejected.append(Rejection(name, reason))


def _read_text(intake: Intake, name: str, stream: BinaryIO) -> str | None:
    data = stream.read(MAX_TEXT + 1)
    if len(data) > MAX_TEXT:
        intake.rejected.append(Rejection(name, f"text file larger than {MAX_TEXT // 1024} KiB"))
        return None
    if b"\x00" in data:
        intake.rejected.append(Rejection(name, "binary content (NUL bytes) in a text file"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # ReadMes are ASCII, some Latin-1
    intake.total += len(data)
    return text


def _store(intake: Intake, name: str, stored: str, stream: BinaryIO, limit: int, kind: str) -> None:
    target = intake.directory / stored
    intake.directory.mkdir(parents=True, exist_ok=True)
    try:
        with open(target, "xb") as out:
            n = _copy_limited(stream, out, min(limit, MAX_TOTAL - intake.total))
    except UploadRefused as exc:
        target.unlink(missing_ok=True)
        reason = str(exc) if intake.total + limit <= MAX_TOTAL else (
            f"the submission would exceed {MAX_TOTAL // 1024**2} MiB in total")
        intake.rejected.append(Rejection(name, reason))
        return
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, tarfile.TarError) as exc:
        target.unlink(missing_ok=True)
        intake.rejected.append(Rejection(name, f"could not be read: {exc}"))
        return
    intake.total += n
    intake.accepted.append(Accepted(name, stored, n, kind))


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable()) and stream.seek(0) == 0
    except (AttributeError, OSError, ValueError):
        return False


def _take_zip(intake: Intake, name: str, stream: BinaryIO) -> None:
    """A zip needs its central directory (at the end): read from the (spooled) upload itself,
    or from a temporary copy beside the submission's files, never into memory."""
    import tempfile

    try:
        if not _seekable(stream):
            intake.directory.mkdir(parents=True, exist_ok=True)
            copy = tempfile.TemporaryFile(dir=intake.directory)
            _copy_limited(stream, copy, MAX_TOTAL)
            copy.seek(0)
            stream = copy
        zf = zipfile.ZipFile(stream)
    except (UploadRefused, zipfile.BadZipFile, OSError) as exc:
        intake.rejected.append(Rejection(name, f"not a readable zip archive: {exc}"))
        return
    with zf:
        for info in zf.infolist():
            label = f"{name}!{info.filename}"
            if info.is_dir():
                continue
            problem = member_name_problem(info.filename)
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)  # 0 when the archiver recorded no Unix type (most zips)
            if problem is None and kind and kind != stat.S_IFREG:
                problem = "a link or special file, not a regular file"
            if problem is None and info.flag_bits & 0x1:
                problem = "encrypted member"
            if problem:
                intake.rejected.append(Rejection(label, problem))
                continue
            try:
                with zf.open(info) as member:
                    take(intake, info.filename, _Limited(member, MAX_FILE, label), depth=1)
            except UploadRefused as exc:
                intake.rejected.append(Rejection(label, str(exc)))
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
                intake.rejected.append(Rejection(label, f"could not be read: {exc}"))


def _take_tar(intake: Intake, name: str, stream: BinaryIO) -> None:
    # stream mode ('r|*'): members are read in order, nothing seeks, nothing is extracted by name
    try:
        tf = tarfile.open(fileobj=_Limited(stream, MAX_TOTAL, name), mode="r|*")
    except (tarfile.TarError, OSError, UploadRefused) as exc:
        intake.rejected.append(Rejection(name, f"not a readable tar archive: {exc}"))
        return
    try:
        with tf:
            for info in tf:
                label = f"{name}!{info.name}"
                if info.isdir():
                    continue
                problem = member_name_problem(info.name)
                if problem is None and (info.issym() or info.islnk()):
                    problem = f"a link (to {info.linkname!r}): links are not accepted"
                if problem is None and not info.isreg():
                    problem = "a device, FIFO or other special file"
                if problem is None and info.size > MAX_FILE:
                    problem = f"larger than {MAX_FILE // 1024**2} MiB"
                if problem:
                    intake.rejected.append(Rejection(label, problem))
                    continue
                member = tf.extractfile(info)
                if member is None:
                    continue
                take(intake, info.name, _Limited(member, MAX_FILE, label), depth=1)
    except UploadRefused as exc:
        intake.rejected.append(Rejection(name, f"stopped: {exc}"))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        intake.rejected.append(Rejection(name, f"archive could not be read to the end: {exc}"))


class _Prefixed(io.RawIOBase):
    """A stream with already-read bytes put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n < 0 or n >= len(self._head):
                out, self._head = self._head, b""
                more = self._rest.read(-1 if n < 0 else n - len(out))
                return out + (more or b"")
            out, self._head = self._head[:n], self._head[n:]
            return out
        return self._rest.read(n) or b""

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class _Limited(io.RawIOBase):
    """Reads at most ``limit`` bytes of decompressed data; one more byte is an error."""

    def __init__(self, raw: BinaryIO, limit: int, label: str) -> None:
        self._raw, self._left, self._label, self._limit = raw, limit, label, limit

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        want = self._left + 1 if n < 0 else min(n, self._left + 1)
        data = self._raw.read(want) or b""
        self._left -= len(data)
        if self._left < 0:
            raise UploadRefused(f"larger than {self._limit // 1024**2} MiB once decompressed "
                                "(stopped while reading: a zip bomb or simply too large)")
        return data

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)
