"""Ingest throughput: ``python benchmarks/ingest.py N`` (N HDUs; default 100000).

Builds a collection of at least N HDUs from the dev corpus (the 68 real files,
173 HDUs, replicated as catalogues BENCH/Cnnnnn; hard links by default so the
tree costs no disk, ``--copy`` for real copies), stages it into a fresh database
of the embedded cluster (or ASSOCDATA_DATABASE_URL's server) and prints:

- HDUs/s and files/s of ``assocdata.ingest`` (all cores),
- peak RSS of the ingest's process tree (parent + workers; sampled every 50 ms),
- in the same run, the naive baseline: astropy ``fits.open`` + one INSERT per HDU,
  on the first ``--naive`` HDUs, and the ratio.

The page cache is warm for both (the tree is read once before timing).
Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import threading
import time
from pathlib import Path

import psutil
import psycopg
from psycopg.conninfo import conninfo_to_dict

from assocdata import config
from assocdata.catalogues import Catalogue, scan
from assocdata.ingest import ingest

sys.path.insert(0, str(Path(__file__).parent))
from tree import build_tree, fresh_database, warm  # noqa: E402

class PeakRSS:
    """Peak summed RSS of this process and its children; and the CPU time of each side.

    CPU seconds are sampled for the worker processes (children) and for the
    PostgreSQL backends serving ``dbname`` (found by their process title), so
    that the run can say which side is the bottleneck.
    """

    def __init__(self, dbname: str = "") -> None:
        self.peak = 0
        self.dbname = dbname
        self.worker_cpu: dict[int, float] = {}
        self.backend_cpu: dict[int, float] = {}
        #: CPU seconds of this sampling thread (to leave out of the parent's figure)
        self.own_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _cpu(p: psutil.Process) -> float:
        t = p.cpu_times()
        return t.user + t.system

    def _run(self) -> None:
        me = psutil.Process()
        backends: list[psutil.Process] = []
        last_scan = 0.0
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                    if p.pid != me.pid:
                        self.worker_cpu[p.pid] = self._cpu(p)
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            # process_iter() costs CPU: every second until the ingest's backend
            # is found, then every 10 s
            if self.dbname and time.monotonic() - last_scan > (10.0 if backends else 1.0):
                last_scan = time.monotonic()
                backends = [p for p in psutil.process_iter(["cmdline"])
                            if any(self.dbname in part for part in (p.info["cmdline"] or []))]
            for p in backends:
                try:
                    self.backend_cpu[p.pid] = self._cpu(p)
                except psutil.Error:
                    pass
            self.own_cpu = time.thread_time()
            time.sleep(0.05)

    def __enter__(self) -> "PeakRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def naive_baseline(root: Path, url: str, limit: int) -> tuple[int, float]:
    """astropy fits.open + one INSERT per HDU: what a first script would do."""
    from astropy.io import fits

    files = [e for c in sorted((root / "BENCH").iterdir())
             for e in scan(Catalogue(c.name, c))]
    n = 0
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS naive_hdu (path text, hdu int, header text, "
                     "keywords jsonb)")
        conn.commit()
        started = time.perf_counter()
        for entry in files:
            try:
                if entry.path.endswith((".hdr", ".header")):
                    headers = [fits.Header.fromtextfile(entry.path)]
                else:
                    with fits.open(entry.path) as hdul:
                        headers = [h.header for h in hdul]
            except Exception:
                continue
            for i, header in enumerate(headers):
                try:
                    text = header.tostring()
                except Exception:  # astropy refuses to re-serialise some real headers
                    text = ""
                keywords = {}
                for card in header.cards:
                    try:
                        value = card.value
                    except Exception:
                        continue
                    if isinstance(value, (bool, int, float, str)) and card.keyword not in keywords:
                        keywords[card.keyword] = value
                conn.execute("INSERT INTO naive_hdu VALUES (%s, %s, %s, %s)",
                             (entry.path, i, text, json.dumps(keywords, allow_nan=True)
                              .replace("NaN", "null").replace("Infinity", "null")))
                conn.commit()
                n += 1
            if n >= limit:
                break
        elapsed = time.perf_counter() - started
    return n, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="HDUs in the tree")
    parser.add_argument("--copy", action="store_true", help="copy files instead of hard links")
    parser.add_argument("--plain", action="store_true",
                        help="leave out the gzip files of the corpus (measures the header "
                        "pipeline without zlib)")
    parser.add_argument("--naive", type=int, default=5000, help="HDUs for the naive baseline")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the tree and the database")
    parser.add_argument("--tree", default=None, help="where to build the tree "
                        "(default: $ASSOCDATA_HOME/bench-tree-N[-plain]-ingest-PID)")
    args = parser.parse_args()

    # A tree of this run's own: benchmarks/derive.py builds (and removes) bench-tree-N,
    # and two benchmarks running at once must not share (or delete) each other's tree.
    root = Path(args.tree) if args.tree else config.home() / (
        f"bench-tree-{args.n}" + ("-plain" if args.plain else "") + f"-ingest-{os.getpid()}")
    copies, n_files = build_tree(root, args.n, args.copy, plain_only=args.plain)
    warm(root)  # both contenders read from the page cache

    with fresh_database(args.keep) as url:
        dbname = str(conninfo_to_dict(url).get("dbname", ""))
        before = time.process_time()
        with PeakRSS(dbname) as rss:
            summary = ingest(root, database_url=url, workers=args.workers)
        parent_cpu = time.process_time() - before - rss.own_cpu
        hdus_s = summary.hdus / summary.seconds
        files_s = summary.files_staged / summary.seconds
        naive_n, naive_t = naive_baseline(root, url, args.naive)
        naive_rate = naive_n / naive_t
        with psycopg.connect(url) as conn:
            size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('staging.hdu'))"
                                ).fetchone()[0]
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)

    cpu = platform.processor() or platform.machine()
    print(f"machine         {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
          f"{cpu}, Python {platform.python_version()}")
    print(f"tree            {copies} copies of the dev corpus"
          f"{' without its gzip files' if args.plain else ''}: {n_files} files, "
          f"{summary.hdus} HDUs ({'copies' if args.copy else 'hard links'}, warm cache)")
    print(f"assocdata       {summary.hdus} HDUs in {summary.seconds:.1f} s: "
          f"{hdus_s:,.0f} HDUs/s, {files_s:,.0f} files/s, {summary.rejects} reject rows")
    print(f"peak RSS        {rss.peak / 2**20:,.0f} MiB (parent + workers)")
    per_hdu = 1e6 / max(summary.hdus, 1)
    workers_cpu, backend_cpu = sum(rss.worker_cpu.values()), sum(rss.backend_cpu.values())
    print(f"CPU per HDU     workers {workers_cpu * per_hdu:,.0f} us, parent {parent_cpu * per_hdu:,.0f} us"
          f", PostgreSQL backend {backend_cpu * per_hdu:,.0f} us (sampled every 50 ms; "
          f"{os.cpu_count()} cores = {os.cpu_count() * per_hdu * summary.seconds:,.0f} us of CPU "
          "per HDU of wall time)")
    print(f"staging.hdu     {size}")
    print(f"naive baseline  {naive_n} HDUs in {naive_t:.1f} s: {naive_rate:,.0f} HDUs/s "
          "(astropy fits.open + one INSERT per HDU)")
    print(f"ratio           {hdus_s / naive_rate:.1f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
