"""A collection of N HDUs made of copies of the dev corpus (shared by the benchmarks)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from assocdata import config, migrate, sample

CORPUS_HDUS = 173  # HDUs of the 68 files of the dev corpus


#: HDUs of the corpus files that are not gzip-compressed
CORPUS_PLAIN_HDUS = 112


def is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def build_tree(root: Path, n_hdus: int, copy: bool = False,
               plain_only: bool = False) -> tuple[int, int]:
    """Replicate the corpus as catalogues BENCH/Cnnnnn until the tree holds >= n_hdus HDUs.

    Hard links by default (no disk cost); ``copy`` for real copies;
    ``plain_only`` leaves out the gzip-compressed files (whose cost is zlib's).
    Returns (copies, files).
    """
    corpus = sample.corpus_dir()
    entries = sample.manifest(corpus)
    if plain_only:
        entries = [e for e in entries if not is_gzip(corpus / e.file)]
    copies = -(-n_hdus // (CORPUS_PLAIN_HDUS if plain_only else CORPUS_HDUS))
    files = 0
    for k in range(copies):
        cat = root / "BENCH" / f"C{k:05d}"
        if (cat / "ReadMe").exists():
            files += len(entries)
            continue
        cat.mkdir(parents=True, exist_ok=True)
        for e in entries:
            src = corpus / e.file
            dst = cat / e.file.replace("/", "__")
            if not dst.exists():
                if copy:
                    shutil.copy2(src, dst)
                else:
                    os.link(src, dst)
            files += 1
        # first line as VizieR writes it: the catalogue id, a blank, the title
        (cat / "ReadMe").write_text(f"BENCH/C{k:05d}  Benchmark copy {k} of the dev corpus\n")
    return copies, files


def warm(root: Path) -> None:
    """Read every file once so that the page cache is warm for every contender."""
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                while fh.read(1 << 20):
                    pass


@contextmanager
def fresh_database(keep: bool = False) -> Iterator[str]:
    """A new, migrated database in the configured server; yields its URL; dropped after."""
    dbname = f"assocdata_bench_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(config.database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    try:
        migrate.upgrade(dbname)
        yield config.database_url(dbname)
    finally:
        if not keep:
            with psycopg.connect(config.database_url("postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
