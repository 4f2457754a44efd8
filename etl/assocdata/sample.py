"""The sample collection: the real files of the dev corpus arranged as catalogues.

The dev corpus (``../shared/fits-corpus``, or ``ASSOCDATA_CORPUS``) holds real
FITS files and headers published by observatories and projects, one folder per
origin. The demo and the tests arrange them into one catalogue per origin,
``DEMO/<origin>`` (VizieR-like ids under a prefix that says what they are),
each with a ReadMe written from MANIFEST.tsv (origin, kind, facility, licence)
and with the licence files that must travel with the data (the H.E.S.S. DL3-DR1
terms stay beside the gammapy-data files). Files are copied, never modified,
with their modification times.
"""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import config

PREFIX = "DEMO"
#: Files that are not data but must stay with the data of their folder.
LICENCE_FILES = {"HESS_DL3_DR1_README.txt"}


def corpus_dir() -> Path:
    env = os.environ.get("ASSOCDATA_CORPUS")
    return Path(env) if env else config.REPO_ROOT.parent / "shared" / "fits-corpus"


def default_destination() -> Path:
    return config.home() / "sample"


@dataclass(frozen=True)
class CorpusFile:
    id: str
    file: str  # origin/name
    origin: str
    kind: str
    facility: str
    notes: str
    licence: str
    bytes: int
    md5: str


def manifest(corpus: Path | None = None) -> list[CorpusFile]:
    corpus = corpus or corpus_dir()
    path = corpus / "MANIFEST.tsv"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: the dev corpus is expected in ../shared/fits-corpus "
            "beside the repository (or set ASSOCDATA_CORPUS)"
        )
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        CorpusFile(r["id"], r["file"], r["origin"], r["kind"], r["facility"], r["notes"],
                   r["licence"], int(r["bytes"]), r["md5"])
        for r in rows
    ]


def catalogue_of(entry: CorpusFile) -> str:
    return f"{PREFIX}/{entry.file.split('/', 1)[0]}"


def _readme(catalogue: str, entries: list[CorpusFile]) -> str:
    """A ReadMe in the spirit of VizieR's: title, description, file index, licences."""
    lines = [
        f"{catalogue:<16} Associated data sample: {catalogue.split('/')[-1]}  (assocdata demo)",
        "=" * 80,
        "Real FITS files and headers from the assocdata dev corpus, as published by",
        "their observatories and projects (origins below). Arranged by assocdata as",
        "one catalogue per origin; files unchanged.",
        "=" * 80,
        "",
        "Description of the files:",
        "-" * 80,
        f"{'FileName':<60} {'Bytes':>10}  Explanations",
        "-" * 80,
    ]
    for e in entries:
        name = e.file.split("/", 1)[1]
        lines.append(f"{name:<60} {e.bytes:>10}  {e.kind}; {e.facility}")
        lines.append(f"{'':<72}  {e.notes}")
    lines += ["-" * 80, "", "Origins and licences:"]
    for e in entries:
        lines.append(f"  {e.file.split('/', 1)[1]}: {e.origin}")
        lines.append(f"      licence: {e.licence}")
    lines += ["", "=" * 80, "(End)", ""]
    return "\n".join(lines)


def build(destination: Path | None = None, corpus: Path | None = None) -> dict[str, list[str]]:
    """Create (or refresh) the sample collection; idempotent: unchanged files are kept.

    Returns catalogue id -> relative file names.
    """
    corpus = corpus or corpus_dir()
    destination = destination or default_destination()
    by_catalogue: dict[str, list[CorpusFile]] = {}
    for entry in manifest(corpus):
        by_catalogue.setdefault(catalogue_of(entry), []).append(entry)
    layout: dict[str, list[str]] = {}
    for catalogue, entries in sorted(by_catalogue.items()):
        target_dir = destination / catalogue
        target_dir.mkdir(parents=True, exist_ok=True)
        names = []
        for e in entries:
            source = corpus / e.file
            target = target_dir / e.file.split("/", 1)[1]
            _copy_if_changed(source, target)
            names.append(target.name)
        for licence in LICENCE_FILES:
            source = corpus / catalogue.split("/", 1)[1] / licence
            if source.exists():
                _copy_if_changed(source, target_dir / licence)
        readme = target_dir / "ReadMe"  # written last: it marks the catalogue complete
        text = _readme(catalogue, entries)
        if not readme.exists() or readme.read_text() != text:
            readme.write_text(text)
        layout[catalogue] = names
    return layout


def _copy_if_changed(source: Path, target: Path) -> None:
    st = source.stat()
    if target.exists():
        tt = target.stat()
        if tt.st_size == st.st_size and tt.st_mtime_ns == st.st_mtime_ns:
            return
    shutil.copy2(source, target)
