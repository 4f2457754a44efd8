"""Cone search and cross-match: ``python benchmarks/cone.py [N]`` (N random positions; default 10 million).

Compares, in one run and on the same rows, three position indexes:

- **hpx**: the experimental b-tree on the depth-29 NESTED HEALPix index
  (``hpx.hpx_cone(...) = 1``, exactly what Vollt sends for the UDF);
- **GiST**: PgSphere's GiST on ``spoint(radians(ra), radians(dec))`` with the exact
  SQL Vollt's PgSphereTranslator emits for ``CONTAINS(POINT, CIRCLE) = 1``;
- **q3c**: ``q3c_radial_query`` and ``q3c_join`` on ``q3c_ang2ipix(ra, dec)``.

For each: index build time and size; per radius (1", 1', 10', 1 deg) the median
server time (planning + execution, from EXPLAIN ANALYZE with TIMING OFF) and the
median end-to-end latency (client: send the query, plan, execute, fetch every
row) over ``--repeat`` cones at random centres (the same centres for every
index); a cross-match of ``--cones`` positions with ``--join-radius``. Every
cone and the cross-match must return identical rows with the three indexes (the
script stops otherwise). Then the same cones on a copy of the real
``ivoa.obscore`` of the configured database.

The positions are uniform on the sphere, written in random order, so the table is
*not* clustered on any index (``--cluster`` adds a run after CLUSTER on hpx).
Everything is measured warm (each query once untimed first, for every index),
with JIT off (it would compile the cross-matches of all three alike).
Timings are printed, never asserted. The machine is shared: run it when idle.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from assocdata import config

sys.path.insert(0, str(Path(__file__).parent))
from tree import fresh_database  # noqa: E402

RADII = {"1\"": 1 / 3600, "1'": 1 / 60, "10'": 10 / 60, "1 deg": 1.0}


def _q(table: str, column: str) -> str:
    """A column as Vollt writes it: "schema"."table"."column"."""
    return ".".join(f'"{part}"' for part in (*table.split("."), column))


def vollt_gist(table: str, ra: float, dec: float, r: float) -> str:
    """The WHERE clause PgSphereTranslator writes for CONTAINS(POINT(ra, dec), CIRCLE(...)) = 1."""
    return (f"(spoint(radians({_q(table, 'ra')}),radians({_q(table, 'dec')})) @ "
            f"scircle(spoint(radians({ra!r}),radians({dec!r})),radians({r!r}))) = '1'")


def vollt_hpx(table: str, ra: float, dec: float, r: float) -> str:
    """The WHERE clause Vollt writes for the UDF hpx_cone(...) = 1 (tap.properties pattern)."""
    return (f"hpx.hpx_cone({_q(table, 'hpx')},{_q(table, 'ra')},{_q(table, 'dec')},"
            f"{ra!r},{dec!r},{r!r}) = 1")


def q3c(table: str, ra: float, dec: float, r: float) -> str:
    return f"q3c_radial_query({table}.ra, {table}.dec, {ra!r}, {dec!r}, {r!r})"


METHODS: dict[str, Callable[[str, float, float, float], str]] = {
    "hpx": vollt_hpx, "GiST": vollt_gist, "q3c": q3c}


FAILURES: list[str] = []


def fail(message: str) -> None:
    """A difference in rows: printed now, and the run exits 1 after every figure."""
    print(f"  DIFFERENT ROWS: {message}")
    FAILURES.append(message)


def sphere_point(rng: random.Random) -> tuple[float, float]:
    import math
    return rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-1, 1)))


def server_ms(conn: psycopg.Connection, sql: str) -> float:
    plan = conn.execute("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) " + sql).fetchone()[0][0]
    return plan["Planning Time"] + plan["Execution Time"]


def uses(conn: psycopg.Connection, sql: str) -> str:
    return "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql))


def build(conn: psycopg.Connection, table: str, name: str, ddl: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    conn.execute(ddl)
    elapsed = time.perf_counter() - t0
    size = conn.execute("SELECT pg_relation_size(%s::regclass)", (name,)).fetchone()[0]
    return elapsed, size


def cones(conn: psycopg.Connection, table: str, id_col: str, centres: list[tuple[float, float]],
          indexes: dict[str, str]) -> None:
    """Median server and end-to-end times per radius and method; identical rows asserted."""
    print(f"  {'radius':>6} {'method':>5} {'server ms':>10} {'e2e ms':>8} {'rows':>8}")
    for label, r in RADII.items():
        for method, where in METHODS.items():
            sql0 = f"SELECT {table}.{id_col} FROM {table} WHERE " + where(table, *centres[0], r)
            plan = uses(conn, sql0)
            if indexes[method] not in plan:
                fail(f"{method} at {label}: index {indexes[method]} not used:\n{plan}")
        results: dict[str, list[set]] = {m: [] for m in METHODS}
        timing: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in METHODS}
        for ra, dec in centres:
            for method, where in METHODS.items():  # warm: the same pages cached for all
                conn.execute(f"SELECT {table}.{id_col} FROM {table} WHERE "
                             + where(table, ra, dec, r)).fetchall()
            for method, where in METHODS.items():
                sql = f"SELECT {table}.{id_col} FROM {table} WHERE " + where(table, ra, dec, r)
                timing[method][0].append(server_ms(conn, sql))
                t0 = time.perf_counter()
                rows = conn.execute(sql).fetchall()
                timing[method][1].append(1000 * (time.perf_counter() - t0))
                results[method].append({row[0] for row in rows})
        for method in METHODS:
            if results[method] != results["GiST"]:
                bad = sum(a != b for a, b in zip(results[method], results["GiST"]))
                fail(f"{method} at {label} on {table}: {bad} cones differ from PgSphere GiST")
        nrows = statistics.mean(len(s) for s in results["GiST"])
        for method in METHODS:
            srv, e2e = timing[method]
            print(f"  {label:>6} {method:>5} {statistics.median(srv):10.3f} "
                  f"{statistics.median(e2e):8.3f} {nrows:8.1f}")


def crossmatch(conn: psycopg.Connection, table: str, radius: float) -> None:
    joins = {
        "hpx": f"hpx.hpx_cone(p.hpx, p.ra, p.dec, c.ra, c.dec, {radius!r})",
        "GiST": (f"(spoint(radians(p.ra),radians(p.dec)) @ "
                 f"scircle(spoint(radians(c.ra),radians(c.dec)),radians({radius!r}))) = '1'"),
        "q3c": f"q3c_join(c.ra, c.dec, p.ra, p.dec, {radius!r})",
    }
    pairs = {}
    print(f"  {'method':>5} {'server s':>9} {'e2e s':>7} {'pairs':>7}")
    for method, cond in joins.items():
        sql = f"SELECT c.id, p.id FROM bench.cones c JOIN {table} p ON {cond}"
        conn.execute(sql).fetchall()  # warm
        plan = uses(conn, sql)
        if "Nested Loop" not in plan:
            fail(f"cross-match {method}: no nested loop on an index:\n{plan}")
        srv = min(server_ms(conn, sql) for _ in range(3)) / 1000
        t0 = time.perf_counter()
        rows = conn.execute(sql).fetchall()
        e2e = time.perf_counter() - t0
        pairs[method] = set(rows)
        print(f"  {method:>5} {srv:9.3f} {e2e:7.3f} {len(rows):7d}")
    for method in joins:
        if pairs[method] != pairs["GiST"]:
            fail(f"cross-match {method}: {len(pairs[method] ^ pairs['GiST'])} pairs differ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000_000, help="random positions")
    parser.add_argument("--repeat", type=int, default=101, help="cones per radius")
    parser.add_argument("--cones", type=int, default=10_000, help="positions of the cross-match")
    parser.add_argument("--join-radius", type=float, default=1 / 60, help="cross-match radius, deg")
    parser.add_argument("--cluster", action="store_true", help="also run after CLUSTER on hpx")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    centres = [sphere_point(rng) for _ in range(args.repeat)]
    # a cone across RA = 0 and one at the pole among them
    centres[0], centres[1] = (0.0005, 12.0), (123.0, 89.9)

    print(f"cone.py: {args.n:,} positions, {args.repeat} cones per radius, "
          f"{args.cones:,}-cone cross-match r = {args.join_radius * 3600:g}\"; "
          f"{platform.node()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, "
          f"load average {os.getloadavg()[0]:.2f}")
    with fresh_database(args.keep) as url, psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA bench")
        t0 = time.perf_counter()
        conn.execute(
            "CREATE TABLE bench.pos AS SELECT i AS id, ra, dec, "
            "healpix_nest(29, spoint(radians(ra), radians(dec))) AS hpx FROM "
            "(SELECT i, 360 * random() AS ra, degrees(asin(2 * random() - 1)) AS dec "
            " FROM generate_series(1, %s) AS i) AS s", (args.n,))
        conn.execute("SELECT setseed(0.5)")
        conn.execute("CREATE TABLE bench.cones AS SELECT i AS id, 360 * random() AS ra, "
                     "degrees(asin(2 * random() - 1)) AS dec FROM generate_series(1, %s) AS i",
                     (args.cones,))
        print(f"table: {time.perf_counter() - t0:.1f} s, "
              f"{conn.execute('SELECT pg_relation_size(%s)', ('bench.pos',)).fetchone()[0] / 2**20:.0f} MiB")
        ddl = {
            "hpx": ("bench.pos_hpx", "CREATE INDEX pos_hpx ON bench.pos (hpx)"),
            "GiST": ("bench.pos_spoint", "CREATE INDEX pos_spoint ON bench.pos "
                                         "USING gist (spoint(radians(ra), radians(dec)))"),
            "q3c": ("bench.pos_q3c", "CREATE INDEX pos_q3c ON bench.pos (q3c_ang2ipix(ra, dec))"),
        }
        print("index builds (maintenance_work_mem "
              f"{conn.execute('SHOW maintenance_work_mem').fetchone()[0]}):")
        for method, (name, sql) in ddl.items():
            seconds, size = build(conn, "bench.pos", name, sql)
            print(f"  {method:>5} {seconds:7.1f} s {size / 2**20:8.0f} MiB")
        conn.execute("VACUUM ANALYZE bench.pos")
        conn.execute("VACUUM ANALYZE bench.cones")
        indexes = {m: name.split(".")[1] for m, (name, _) in ddl.items()}
        conn.execute(f"SELECT count(*) FROM bench.pos WHERE {vollt_hpx('bench.pos', 1, 1, 1)}")
        # JIT compiles any plan whose cost estimate is high (the cross-matches, for all
        # three indexes alike): ~0.1-0.2 s of compilation that says nothing of an index
        conn.execute("SET jit = off")
        print("single cones, unclustered:")
        cones(conn, "bench.pos", "id", centres, indexes)
        print(f"cross-match of {args.cones:,} cones, r = {args.join_radius * 3600:g}\":")
        crossmatch(conn, "bench.pos", args.join_radius)
        if args.cluster:
            t0 = time.perf_counter()
            conn.execute("CLUSTER bench.pos USING pos_hpx")
            conn.execute("VACUUM ANALYZE bench.pos")
            print(f"single cones, after CLUSTER on hpx ({time.perf_counter() - t0:.0f} s):")
            cones(conn, "bench.pos", "id", centres, indexes)

        # the real table: a copy of the configured database's ivoa.obscore
        n_real = copy_obscore(conn)
        print(f"real ivoa.obscore ({n_real} rows, copied from {config.database_url()}):")
        if n_real:
            conn.execute("CREATE INDEX obscore_q3c ON bench.obscore (q3c_ang2ipix(ra, dec))")
            conn.execute("CREATE INDEX obscore_hpx ON bench.obscore (hpx)")
            conn.execute("CREATE INDEX obscore_spoint ON bench.obscore "
                         "USING gist (spoint(radians(ra), radians(dec)))")
            conn.execute("VACUUM ANALYZE bench.obscore")
            real = [tuple(r) for r in conn.execute(
                "SELECT ra, dec FROM bench.obscore ORDER BY did LIMIT %s", (args.repeat,))]
            conn.execute("SET enable_seqscan = off")  # a 72-row table is read whole otherwise
            cones(conn, "bench.obscore", "did", real or centres,
                  {"hpx": "obscore_hpx", "GiST": "obscore_spoint", "q3c": "obscore_q3c"})


def copy_obscore(conn: psycopg.Connection) -> int:
    """Copy (did, s_ra, s_dec, hpx) of the configured database's ivoa.obscore."""
    conn.execute("CREATE TABLE bench.obscore (did text, ra float8, dec float8, hpx bigint)")
    try:
        with psycopg.connect(config.database_url()) as src, \
                src.cursor().copy("COPY (SELECT obs_publisher_did, s_ra, s_dec, hpx FROM ivoa.obscore "
                                  "WHERE hpx IS NOT NULL) TO STDOUT") as out, \
                conn.cursor().copy("COPY bench.obscore FROM STDIN") as into:
            for block in out:
                into.write(block)
    except psycopg.Error as exc:
        print(f"  (no real table: {exc})")
    return conn.execute("SELECT count(*) FROM bench.obscore").fetchone()[0]


if __name__ == "__main__":
    main()
    if FAILURES:
        sys.exit("rows differ: " + "; ".join(FAILURES))
    print("identical rows with the three indexes: every cone and the cross-match")
