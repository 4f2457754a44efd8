"""Mapping speed: ``python benchmarks/mapping.py N`` (N ObsCore rows; default 1000000).

Stages and derives the sample collection (the dev corpus's real files), then
replicates its ObsCore rows (and their derive.product links to the staged
headers, so keyword lookups join real headers) up to N rows in a fresh
database, and applies a 10-rule mapping (fills, overrides, keywords with
fallbacks, variables, functions, arithmetic) to all of them with the compiled
set-based statements. Prints the time of each statement, the total, and the
SQL. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import psutil
import psycopg

from assocdata import config, sample
from assocdata.derive.refresh import refresh
from assocdata.ingest import ingest
from assocdata.mapping import compile_mapping
from assocdata.mapping.store import _run

sys.path.insert(0, str(Path(__file__).parent))
from tree import fresh_database  # noqa: E402

MAPPING = """\
assocdata-mapping 1
instrument_name: INSTRUME | TELESCOP | 'unknown'
target_name: OBJECT | OBJNAME | split($STEM, '_')[1]
facility_name := upper(strip(TELESCOP | OBSERVAT | 'unknown'))
obs_title := concat(target_name, ' observed with ', instrument_name, ' (', $CATALOGUE, ')')
obs_creator_name: ${CREATOR:-CDS}
t_exptime: EXPTIME | EXPOSURE
em_res_power: float(SPEC_RES) | 2000.0
data_rights := 'public'
bib_reference := regex($CATALOGUE, '^[A-Z]+/[^/]+/[0-9]+', 0)
obs_release_date: '2026-01-01T00:00:00'
"""


def replicate(conn: psycopg.Connection, n_rows: int) -> int:
    base = conn.execute("SELECT count(*) FROM ivoa.obscore").fetchone()[0]
    copies = max(0, -(-n_rows // base) - 1)
    conn.execute("CREATE TEMP TABLE seed AS SELECT * FROM ivoa.obscore")
    conn.execute("CREATE TEMP TABLE seed_product AS SELECT * FROM derive.product")
    conn.execute("""
        INSERT INTO ivoa.obscore
        SELECT (jsonb_populate_record(s, jsonb_build_object('obs_publisher_did',
                   s.obs_publisher_did || '~' || k))).*
          FROM seed s, generate_series(1, %s) k""", [copies])
    conn.execute("""
        INSERT INTO derive.product (obs_publisher_did, file_id, hdu, published, unusable_reason,
                                    provenance, rules_version)
        SELECT p.obs_publisher_did || '~' || k, p.file_id, p.hdu, p.published, p.unusable_reason,
               p.provenance, p.rules_version
          FROM seed_product p, generate_series(1, %s) k""", [copies])
    conn.execute("DELETE FROM ivoa.obscore WHERE obs_publisher_did IN (SELECT obs_publisher_did "
                 "FROM ivoa.obscore ORDER BY obs_publisher_did DESC LIMIT greatest(0, (SELECT count(*) "
                 "FROM ivoa.obscore) - %s))", [n_rows])
    conn.execute("VACUUM ANALYZE ivoa.obscore")
    conn.execute("VACUUM ANALYZE derive.product")
    return conn.execute("SELECT count(*) FROM ivoa.obscore").fetchone()[0]


def _explain(conn: psycopg.Connection, st) -> list[str]:
    """Each part of the statement under EXPLAIN ANALYZE (the table they share is kept between)."""
    lines = []
    parts = [(st.sql.replace("{target}", "ivoa.obscore").replace("{restrict}", "true"), st.params)]
    if st.update:
        parts += [(st.update.replace("{target}", "ivoa.obscore"), None), (st.cells, None)]
    for i, (sql, params) in enumerate(parts):
        if i == 1:
            conn.execute("ANALYZE mapping_computed")
        lines += [r[0] for r in conn.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)]
    if st.update:
        conn.execute("DROP TABLE mapping_computed")
    return lines


def _apply(url: str, args: argparse.Namespace):
    """Compile the mapping and run its statements in one transaction; the timings."""
    with psycopg.connect(url) as conn:
        compiled, _ = compile_mapping(MAPPING, "bench.map", conn=conn)
        timings = []
        started = time.perf_counter()
        tx = conn.transaction(force_rollback=args.rollback)
        with tx:
            for st in compiled.statements:
                t = time.perf_counter()
                if args.explain:
                    plan = _explain(conn, st)
                    count = -1
                else:
                    count = _run(conn, st, "ivoa.obscore", "true", {}, True)
                timings.append((st, count, time.perf_counter() - t))
                if args.explain:
                    print("\n".join(plan))
            changed = conn.execute("SELECT count(*) FROM ivoa.obscore WHERE data_rights = 'public'"
                                   ).fetchone()[0]
        total = time.perf_counter() - started
    return compiled, timings, total, changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000, help="ObsCore rows")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--sql", action="store_true", help="print the SQL of each statement")
    parser.add_argument("--build-only", action="store_true",
                        help="build the rows in a kept database and stop (then --reuse it)")
    parser.add_argument("--reuse", metavar="DBNAME", help="apply on a database built before")
    parser.add_argument("--rollback", action="store_true",
                        help="roll the mapping back at the end (to measure again on the same rows)")
    parser.add_argument("--explain", action="store_true",
                        help="run each statement under EXPLAIN ANALYZE and print the plan")
    args = parser.parse_args()

    if args.reuse:
        url = config.database_url(args.reuse)
        with psycopg.connect(url) as conn:
            n = conn.execute("SELECT count(*) FROM ivoa.obscore").fetchone()[0]
        built = 0.0
        compiled, timings, total, changed = _apply(url, args)
    else:
        root = sample.default_destination()
        sample.build(root)
        with fresh_database(args.keep or args.build_only) as url:
            if args.keep or args.build_only:
                print(f"database        {url}")
            ingest(root, database_url=url)
            refresh(database_url=url)
            with psycopg.connect(url, autocommit=True) as conn:
                t = time.perf_counter()
                n = replicate(conn, args.n)
                built = time.perf_counter() - t
            if args.build_only:
                print(f"rows            {n:,} ObsCore rows built in {built:.0f} s; apply with --reuse")
                return
            compiled, timings, total, changed = _apply(url, args)

    print(f"machine         {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
          f"{platform.machine()}")
    print(f"rows            {n:,} ObsCore rows (sample collection replicated; built in {built:.0f} s)")
    print(f"mapping         {len(compiled.mapping.rules)} rules -> {len(compiled.statements)} statement(s)")
    for st, count, seconds in timings:
        print(f"  {st.kind:<8} {st.scope.describe():<10} lines {min(st.lines)}-{max(st.lines)}: "
              f"{count:,} rows updated in {seconds:.1f} s")
        if args.sql:
            print(st.text() + ";")
    print(f"total           {total:.1f} s for {n:,} rows ({n / total:,.0f} rows/s); "
          f"{changed:,} rows now carry the mapping's values")


if __name__ == "__main__":
    main()
