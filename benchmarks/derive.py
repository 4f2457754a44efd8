"""Derivation throughput: ``python benchmarks/derive.py N`` (N staged HDUs; default 100000).

Stages a tree of N HDUs (copies of the dev corpus, see tree.py; staging is not
timed), then times in the database:

- a full refresh of ivoa.obscore (every file derived by the PL/Python rules),
- an incremental refresh after 1 % of the files changed: they are re-staged
  as a re-ingest of modified files does (``loader.write_batch``: the old file
  rows deleted, with their products by cascade, which queues their published
  rows in derive.withdrawn; new rows with new ids and another header hash),
- a refresh with nothing changed.

Prints HDUs/s and the ratio incremental/full, and the CPU time the database
backends used (from /proc: the embedded cluster runs on this machine), which
other people's load on a shared machine disturbs less than wall-clock time.
The three refreshes run in one process, so the incremental one reuses the
full one's backends (refresh keeps them: their PL/Python has imported the
rules); the one-off import is part of the full time. ``--workers`` sets the
number of concurrent backends (default: the number of cores). Timings are
printed, never asserted.
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
from assocdata.derive import refresh as refresh_module
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
            load_before = os.getloadavg()
            full = refresh(database_url=url, workers=args.workers)
            cpu_full = backend_cpu(url)
            with psycopg.connect(url) as conn:
                changed = restage(conn, "id % 100 = 0 AND status IN ('staged', 'partial')")
            incremental = refresh(database_url=url, workers=args.workers)
            cpu_incremental = backend_cpu(url) - cpu_full
            noop = refresh(database_url=url, workers=args.workers)
            load_after = os.getloadavg()
            refresh_module.close_idle_connections()
            with psycopg.connect(url) as conn:
                rows = conn.execute("SELECT count(*) FROM ivoa.obscore").fetchone()[0]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    print(f"machine         {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
          f"{platform.machine()}, PostgreSQL backends: {args.workers}")
    print(f"staged          {staged.hdus} HDUs in {n_files} files ({copies} copies of the dev corpus)")
    print(f"load average    {load_before[0]:.1f} before, {load_after[0]:.1f} after the refreshes "
          "(other processes on this machine)")
    print(f"full refresh    {full.hdus} HDUs in {full.seconds:.1f} s: {full.hdus / full.seconds:,.0f} "
          f"HDUs/s -> {rows} ObsCore rows, {full.issues} issues")
    if cpu_full:
        print(f"                backends' CPU {cpu_full:.1f} s = {full.hdus / cpu_full:,.0f} HDUs per "
              "CPU-second")
    print(f"incremental 1%  {changed} files changed: {incremental.files} files, {incremental.hdus} "
          f"HDUs in {incremental.seconds:.2f} s = {100 * incremental.seconds / full.seconds:.1f} % "
          "of the full time" + (f" (backends' CPU {cpu_incremental:.2f} s = "
                                f"{100 * cpu_incremental / cpu_full:.1f} % of the full CPU)"
                                if cpu_full else ""))
    print(f"nothing changed {noop.seconds:.2f} s")



def restage(conn: psycopg.Connection, where: str) -> int:
    """Re-stage the files ``where`` selects the way a re-ingest of changed files does.

    One transaction: the old staging.file rows are deleted (their HDUs, products,
    issues and states go by cascade), the same files come back under new ids
    with their HDU rows and a new header hash. Not timed.
    """
    def columns(table: str) -> list[str]:
        return [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'staging' "
            "AND table_name = %s ORDER BY ordinal_position", [table])]

    file_cols, hdu_cols = columns("file"), columns("hdu")
    conn.execute(f"CREATE TEMP TABLE chg ON COMMIT DROP AS SELECT id AS old_id, "
                 f"nextval('staging.file_id_seq') AS new_id FROM staging.file WHERE {where}")
    conn.execute("CREATE TEMP TABLE f_new ON COMMIT DROP AS SELECT f.*, c.new_id FROM staging.file f "
                 "JOIN chg c ON c.old_id = f.id")
    conn.execute("CREATE TEMP TABLE h_new ON COMMIT DROP AS SELECT h.*, c.new_id FROM staging.hdu h "
                 "JOIN chg c ON c.old_id = h.file_id")
    conn.execute("DELETE FROM staging.file WHERE id IN (SELECT old_id FROM chg)")
    pick = {"id": "new_id", "file_id": "new_id", "header_hash": "md5(header_hash || 'changed')"}
    conn.execute(f"INSERT INTO staging.file ({', '.join(file_cols)}) "
                 f"SELECT {', '.join(pick.get(c, c) for c in file_cols)} FROM f_new")
    conn.execute(f"INSERT INTO staging.hdu ({', '.join(hdu_cols)}) "
                 f"SELECT {', '.join(pick.get(c, c) for c in hdu_cols)} FROM h_new")
    n = conn.execute("SELECT count(*) FROM chg").fetchone()[0]
    conn.commit()
    return n


def backend_cpu(url: str) -> float:
    """CPU seconds used so far by the refresh's kept worker backends (0.0 if not readable).

    They live from the full refresh to the end of the run (refresh keeps them),
    so their cumulative user + system time is what the refreshes cost the server.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for conn in refresh_module._IDLE.get(url, []):
        try:
            with open(f"/proc/{conn.info.backend_pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0  # a remote server
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


if __name__ == "__main__":
    main()
