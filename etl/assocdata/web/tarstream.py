"""A tar of the selection's files, streamed: no temporary file, size known first.

The archive's exact size is the sum of each member's header block(s)
(``TarInfo.tobuf``, PAX headers included for long names), its data padded to
512 bytes, and the two zero blocks that end it. The page shows that size
before the download starts, and the response carries it as Content-Length.
A file that shrank on disk since it was staged is padded with zeros to the
announced size (its tar member stays well formed); one that grew is cut.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

BLOCK = 512
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Member:
    arcname: str
    path: Path
    size: int
    mtime: int

    def header(self) -> bytes:
        info = tarfile.TarInfo(self.arcname)
        info.size = self.size
        info.mtime = self.mtime
        info.mode = 0o644
        info.type = tarfile.REGTYPE
        return info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8", errors="strict")


def members(files: Iterable[tuple[str, Path]]) -> list[Member]:
    """Members for (arcname, path) pairs; a file listed twice (several HDUs) goes in once."""
    seen: set[str] = set()
    out = []
    for arcname, path in files:
        if arcname in seen:
            continue
        try:
            st = path.stat()
        except OSError:
            continue  # gone since staging: not in the archive, not in its size
        seen.add(arcname)
        out.append(Member(arcname, path, st.st_size, int(st.st_mtime)))
    return out


def _padding(size: int) -> int:
    return (-size) % BLOCK


def archive_size(items: list[Member]) -> int:
    return sum(len(m.header()) + m.size + _padding(m.size) for m in items) + 2 * BLOCK


def stream(items: list[Member], chunk: int = CHUNK) -> Iterator[bytes]:
    """The archive's bytes, a chunk at a time (never more than one chunk in memory)."""
    for m in items:
        yield m.header()
        left = m.size
        try:
            with m.path.open("rb") as fh:
                while left > 0:
                    data = fh.read(min(chunk, left))
                    if not data:
                        break
                    left -= len(data)
                    yield data
        except OSError:
            pass
        while left > 0:  # shrank or vanished: keep the announced size
            n = min(chunk, left)
            left -= n
            yield bytes(n)
        if _padding(m.size):
            yield bytes(_padding(m.size))
    yield bytes(2 * BLOCK)
