"""sql/070_hpx_index.sql and ext/assocdata_hpx: hpx_cone on the hpx b-tree.

Positions are uniform random points on the sphere (a geometric test set, not a
claim about real data), stored like ivoa.obscore stores them:
hpx = healpix_nest(29, spoint(radians(ra), radians(dec))). Every answer is
compared with PgSphere's `spoint @ scircle`, the predicate Vollt emits; plans
are checked with EXPLAIN on exactly the SQL Vollt sends for the UDF.
"""

from __future__ import annotations

import math
import random

import psycopg
import pytest

N_POINTS = 20_000


@pytest.fixture
def points(db):
    db.execute("DROP TABLE IF EXISTS pos")
    db.execute(
        "CREATE TEMP TABLE pos AS SELECT i AS id, ra, dec, "
        "healpix_nest(29, spoint(radians(ra), radians(dec))) AS hpx FROM "
        "(SELECT i, 360 * random() AS ra, degrees(asin(2 * random() - 1)) AS dec "
        " FROM generate_series(1, %s) AS i) AS s", (N_POINTS,))
    # points exactly on the edges that wrap: RA 0/360 and the poles
    db.execute("INSERT INTO pos SELECT 100000 + i, ra, dec, "
               "healpix_nest(29, spoint(radians(ra), radians(dec))) FROM "
               "(VALUES (1, 0.0, 0.0), (2, 359.9999999, 0.0), (3, 0.0, 90.0), (4, 180.0, -90.0), "
               "(5, 359.99, 10.0), (6, 0.01, 10.0), (7, 45.0, 89.99), (8, 225.0, 89.99)) "
               "AS v(i, ra, dec)")
    db.execute("CREATE INDEX ON pos (hpx)")
    db.execute("ANALYZE pos")
    yield db
    db.execute("DROP TABLE IF EXISTS pos")


def _ids(db, where: str, *params) -> set[int]:
    return {r[0] for r in db.execute(f"SELECT id FROM pos WHERE {where}", params)}


def _gist(ra: float, dec: float, r: float) -> str:
    return (f"(spoint(radians(pos.ra),radians(pos.dec)) @ "
            f"scircle(spoint(radians({ra!r}),radians({dec!r})),radians({r!r}))) = '1'")


def _hpx(ra: float, dec: float, r: float) -> str:
    return f"hpx.hpx_cone(pos.hpx,pos.ra,pos.dec,{ra!r},{dec!r},{r!r}) = 1"


CONES = [(10.68, 41.27, 0.5), (0.0, 0.0, 1.0), (359.995, 10.0, 0.05), (0.0, 90.0, 2.0),
         (123.0, 89.9, 0.5), (200.0, -89.5, 1.0), (45.0, 0.0, 10.0), (300.0, -30.0, 60.0),
         (180.0, 0.0, 89.0), (12.0, 34.0, 1 / 3600), (0.0, 0.0, 0.0)]


@pytest.mark.parametrize("ra, dec, r", CONES)
def test_hpx_cone_returns_exactly_the_rows_of_pgsphere(points, ra, dec, r):
    assert _ids(points, _hpx(ra, dec, r)) == _ids(points, _gist(ra, dec, r))


def test_hpx_cone_matches_pgsphere_on_random_cones_of_every_size(points):
    rng = random.Random(7)
    for _ in range(150):
        ra, dec = rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-1, 1)))
        r = 10 ** rng.uniform(-4, 1.3)
        assert _ids(points, _hpx(ra, dec, r)) == _ids(points, _gist(ra, dec, r)), (ra, dec, r)


def test_cone_across_ra_zero_finds_points_on_both_sides(points):
    ids = _ids(points, _hpx(0.0, 10.0, 0.05))
    assert {100005, 100006} <= ids


def test_cone_at_the_pole_finds_points_at_every_longitude(points):
    ids = _ids(points, _hpx(0.0, 90.0, 0.02))
    assert {100003, 100007, 100008} <= ids


def _plan(db, sql: str) -> str:
    return "\n".join(r[0] for r in db.execute("EXPLAIN " + sql))


def test_vollt_udf_sql_uses_the_btree_and_no_function_is_left(points):
    # what Vollt sends for WHERE hpx_cone(hpx, s_ra, s_dec, 10.68, 41.27, 0.5) = 1
    sql = ('SELECT pos.id FROM pos WHERE hpx.hpx_cone("pos"."hpx","pos"."ra","pos"."dec",'
           "10.68,41.27,0.5) = 1 LIMIT 101")
    plan = _plan(points, sql)
    assert "pos_hpx_idx" in plan
    assert "Index Cond: ((hpx >= '" in plan
    assert "_cone" not in plan and "= 1" not in plan
    assert "hpx.within(ra, dec, '10.68'" in plan.replace('"dec"', "dec")


def test_equals_zero_is_the_negation(points):
    inside = _ids(points, _hpx(45.0, 0.0, 10.0))
    outside = _ids(points, "hpx.hpx_cone(pos.hpx,pos.ra,pos.dec,45.0,0.0,10.0) = 0")
    assert inside and outside and not inside & outside
    assert len(inside) + len(outside) == N_POINTS + 8


def test_boolean_equals_integer_operator_and_untyped_literal_still_boolean(db):
    assert db.execute("SELECT true = 1, false = 1, false = 0, true = 2").fetchone() == \
        (True, False, True, True)
    # Vollt's `(...) = '1'` for CONTAINS keeps resolving to boolean = boolean
    db.execute("CREATE TEMP TABLE flags (v boolean)")
    try:
        plan = "\n".join(r[0] for r in db.execute(
            "EXPLAIN VERBOSE SELECT * FROM flags WHERE v = '1'"))
        assert "Filter: flags.v" in plan and "integer" not in plan
    finally:
        db.execute("DROP TABLE flags")


def test_small_cones_plan_few_ranges_and_large_cones_more(points):
    def arms(r: float) -> int:
        plan = _plan(points, f"SELECT id FROM pos WHERE {_hpx(100.0, 20.0, r)}")
        return plan.count("Index Cond") or plan.count("hpx >=")
    assert arms(1 / 3600) <= 4
    assert arms(5.0) >= arms(1 / 3600)


def test_within_is_pgsphere_containment_at_the_tolerance(db):
    # points at r - 2e-9 rad, r + 0.5e-9 rad (PgSphere: inside, EPSILON 1e-9), r + 3e-9 rad (outside)
    rows = db.execute("""
        WITH c AS (SELECT 33.3 AS ra0, -12.5 AS dec0, 0.7 AS r),
             p AS (SELECT ra0, dec0, r, k, degrees(radians(r) + d) AS dist
                     FROM c, (VALUES (1, -2e-9), (2, 0.5e-9), (3, 3e-9)) AS v(k, d))
        SELECT k, hpx.within(ra0, dec0 + dist, ra0, dec0, r),
               spoint(radians(ra0), radians(dec0 + dist)) @
                 scircle(spoint(radians(ra0), radians(dec0)), radians(r))
          FROM p ORDER BY k""").fetchall()
    assert [(k, a) for k, a, _ in rows] == [(k, b) for k, _, b in rows]
    assert [a for _, a, _ in rows] == [True, True, False]


def test_every_point_in_a_cone_has_its_hpx_inside_the_ranges(db):
    # points scattered around each cone edge: the ranges must contain healpix_nest of all inside
    bad = db.execute("""
        WITH cones AS (SELECT 360 * random() AS ra0, degrees(asin(2 * random() - 1)) AS dec0,
                              power(10, -3 + 4 * random()) AS r FROM generate_series(1, 300)),
             pts AS (SELECT ra0, dec0, r, (ra0 + (2 * random() - 1) * r * 1.2
                                                 / greatest(cos(radians(dec0)), 0.05)) AS ra,
                            greatest(-90, least(90, dec0 + (2 * random() - 1) * r * 1.2)) AS dec
                       FROM cones, generate_series(1, 40)),
             norm AS (SELECT ra0, dec0, r, ((ra::numeric % 360 + 360) % 360)::float8 AS ra, dec
                        FROM pts)
        SELECT count(*) FROM norm
         WHERE hpx.within(ra, dec, ra0, dec0, r)
           AND NOT EXISTS (SELECT 1 FROM hpx.cone_ranges(ra0, dec0, r, 12) g
                            WHERE healpix_nest(29, spoint(radians(ra), radians(dec)))
                                  BETWEEN g.lo AND g.hi)""").fetchone()[0]
    assert bad == 0


def test_join_form_matches_pgsphere_and_uses_parameterised_ranges(points):
    points.execute("CREATE TEMP TABLE probe AS SELECT id, ra, dec FROM pos WHERE id % 50 = 0")
    points.execute("ANALYZE probe")
    try:
        r = 0.5
        sql_hpx = ("SELECT c.id, p.id FROM probe c JOIN pos p "
                   f"ON hpx.hpx_cone(p.hpx, p.ra, p.dec, c.ra, c.dec, {r})")
        sql_gist = ("SELECT c.id, p.id FROM probe c JOIN pos p ON "
                    "spoint(radians(p.ra), radians(p.dec)) @ "
                    f"scircle(spoint(radians(c.ra), radians(c.dec)), radians({r}))")
        assert set(points.execute(sql_hpx).fetchall()) == set(points.execute(sql_gist).fetchall())
        plan = _plan(points, sql_hpx)
        assert "Nested Loop" in plan and "hpx.cone_lo(c.ra" in plan
    finally:
        points.execute("DROP TABLE probe")


@pytest.mark.parametrize("args, message", [
    ("0, 0, 'NaN'", "finite"), ("0, 0, 91", r"outside \[0, 90\]"), ("0, 0, -1", r"outside \[0, 90\]"),
    ("'Infinity', 0, 1", "finite"),
])
def test_bad_cones_are_clear_errors_not_crashes(db, args, message):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        db.execute(f"SELECT count(*) FROM hpx.cone_ranges({args})")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        db.execute(f"SELECT hpx.hpx_cone(1, 0, 0, {args})")
    assert db.execute("SELECT 1").fetchone() == (1,)


def test_obscore_hpx_btree_exists_and_serves_hpx_cone(db):
    db.execute("SET enable_seqscan = off")  # the test table is small: may the index serve it?
    plan = "\n".join(r[0] for r in db.execute(
        "EXPLAIN SELECT obs_publisher_did FROM ivoa.obscore WHERE "
        'hpx.hpx_cone("ivoa"."obscore"."hpx","ivoa"."obscore"."s_ra","ivoa"."obscore"."s_dec",'
        "10.68,41.27,0.5) = 1"))
    db.execute("RESET enable_seqscan")
    assert "obscore_hpx_idx" in plan


def test_join_ranges_of_small_cones_cover_every_point_inside(db):
    # the join form's cells are ~4 r wide: found around the centre's cell (small_cone)
    bad = db.execute("""
        WITH cones AS (SELECT 360 * random() AS ra0, degrees(asin(2 * random() - 1)) AS dec0,
                              power(10, -4 + 4 * random()) AS r FROM generate_series(1, 400)),
             o AS (SELECT *, least(29, greatest(0, ceil(ln(1.0233 / (4 * radians(r))) / ln(2))))::int
                             AS ord FROM cones),
             pts AS (SELECT ra0, dec0, r, ord,
                            ra0 + (2 * random() - 1) * r * 1.2 / greatest(cos(radians(dec0)), 0.05) AS ra,
                            greatest(-90, least(90, dec0 + (2 * random() - 1) * r * 1.2)) AS dec
                       FROM o, generate_series(1, 30)),
             norm AS (SELECT ra0, dec0, r, ord, ((ra::numeric % 360 + 360) % 360)::float8 AS ra, dec
                        FROM pts)
        SELECT count(*) FROM norm
         WHERE hpx.within(ra, dec, ra0, dec0, r)
           AND NOT EXISTS (SELECT 1 FROM generate_series(0, 3) AS i
                            WHERE hpx._arm(healpix_nest(29, spoint(radians(ra), radians(dec))),
                                           ra0, dec0, r, i, ord))""").fetchone()[0]
    assert bad == 0
