"""Derivation throughput: ``python benchmarks/derive.py N`` (N staged HDUs; default 100000).

Stages a tree of N HDUs (copies of the dev corpus, see tree.py; staging is not
timed), then times in the database:

- a full refresh of ivoa.obscore (every file derived by the PL/Python rules),
- an incremental refresh after 1 % of the files changed (their staged header
  hash is changed, as a re-ingest of modified files would do),
- a refresh with nothing changed.

Prints HDUs/s and the ratio incremental/full. ``--workers`` sets the number of
concurrent backends (default: the number of cores). Timings are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
from pathlib import Path

import psutil
import psycopg

from assocdata import config
from assocdata.derive.refresh import refresh
from assocdata.ingest import ingest

sys.path.insert(0, str(Path(__file__).parent))
from tree import build_tree, fresh_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="staged HDUs")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", action="store_true", help="keep the tree and the database")
    args = parser.parse_args()

    root = config.home() / f"bench-tree-{args.n}"
    copies, n_files = build_tree(root, args.n)
    try:
        with fresh_database(args.keep) as url:
            staged = ingest(root, database_url=url)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            full = refresh(database_url=url, workers=args.workers)
            with psycopg.connect(url, autocommit=True) as conn:
                changed = conn.execute(
                    "UPDATE staging.file SET header_hash = md5(header_hash || 'changed') "
                    "WHERE id % 100 = 0 AND status IN ('staged', 'partial')").rowcount
            incremental = refresh(database_url=url, workers=args.workers)
            noop = refresh(database_url=url, workers=args.workers)
            with psycopg.connect(url) as conn:
                rows = conn.execute("SELECT count(*) FROM ivoa.obscore").fetchone()[0]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    print(f"machine         {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
          f"{platform.machine()}, PostgreSQL backends: {args.workers}")
    print(f"staged          {staged.hdus} HDUs in {n_files} files ({copies} copies of the dev corpus)")
    print(f"full refresh    {full.hdus} HDUs in {full.seconds:.1f} s: {full.hdus / full.seconds:,.0f} "
          f"HDUs/s -> {rows} ObsCore rows, {full.issues} issues")
    print(f"incremental 1%  {changed} files changed: {incremental.files} files, {incremental.hdus} "
          f"HDUs in {incremental.seconds:.2f} s = {100 * incremental.seconds / full.seconds:.1f} % "
          "of the full time")
    print(f"nothing changed {noop.seconds:.2f} s")


if __name__ == "__main__":
    main()
