"""Finding catalogues and their files in a collection tree.

A *catalogue* is a directory of the collection; its id is its path relative to
the collection root (``J/A+A/526/A155``). When the caller names no catalogue,
every directory holding a VizieR ``ReadMe`` is one: the data centre writes the
ReadMe last, so a directory without one is an incomplete catalogue and is left
alone (the Dagster sensor relies on the same convention). A catalogue's FITS
files may be anywhere below it, except inside a nested catalogue.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .fitsfile import is_candidate

README_NAMES = ("ReadMe", "README", "readme", "ReadMe.txt", "README.txt")


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A candidate file found on disk, with what is needed to tell if it changed."""

    relpath: str  # '/'-separated, relative to the catalogue directory
    path: str  # absolute
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Catalogue:
    id: str
    directory: Path

    def readme_path(self) -> Path | None:
        for name in README_NAMES:
            candidate = self.directory / name
            if candidate.is_file():
                return candidate
        return None

    def readme(self) -> tuple[str | None, str | None]:
        """The ReadMe text (decoded leniently: ReadMes are ASCII, some are Latin-1) and its hash."""
        path = self.readme_path()
        if path is None:
            return None, None
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        return text.replace("\x00", ""), hashlib.blake2b(data, digest_size=16).hexdigest()


class CatalogueNotFound(ValueError):
    pass


def catalogue_id(root: Path, directory: Path) -> str:
    rel = directory.resolve().relative_to(root.resolve())
    return rel.as_posix() if rel.parts else root.resolve().name


def has_readme(directory: Path) -> bool:
    return any((directory / name).is_file() for name in README_NAMES)


def discover(root: Path, names: list[str] | None = None) -> list[Catalogue]:
    """The catalogues to ingest: those named (paths relative to root), or all with a ReadMe."""
    root = root.resolve()
    if not root.is_dir():
        raise CatalogueNotFound(f"{root}: not a directory")
    if names:
        found = []
        for name in names:
            directory = (root / name).resolve()
            if not directory.is_dir():
                raise CatalogueNotFound(f"catalogue {name!r}: {directory} is not a directory")
            found.append(Catalogue(catalogue_id(root, directory), directory))
        return found
    found = []
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        directory = Path(dirpath)
        if has_readme(directory):
            found.append(Catalogue(catalogue_id(root, directory), directory))
    return found


def scan(catalogue: Catalogue, nested: set[Path] | None = None) -> Iterator[FileEntry]:
    """Candidate files below a catalogue, skipping hidden entries and nested catalogues."""
    base = catalogue.directory
    stack = [base]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                sub = Path(entry.path)
                if (nested and sub in nested) or has_readme(sub):
                    continue  # a catalogue of its own
                stack.append(sub)
            elif entry.is_file() and is_candidate(entry.name):
                st = entry.stat()
                rel = Path(entry.path).relative_to(base).as_posix()
                yield FileEntry(rel, entry.path, st.st_size, st.st_mtime_ns)
