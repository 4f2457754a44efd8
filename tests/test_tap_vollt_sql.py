"""The SQL Vollt's PgSphereTranslator sends, on our schema: right rows, through an index.

Each query is the exact text Vollt writes for an ADQL geometry predicate
(`(... ) = '1'`, fully qualified columns, `LIMIT n+1`), run as the TAP role on
ivoa.obscore holding geometric fixture rows (positions and footprints placed
around RA = 0 and the north pole, inserted in a transaction that is rolled
back: a geometry test set, not real data). Rows are checked against an
independent computation (points: vector arithmetic) or against a sequential
scan (footprints); plans are checked with EXPLAIN.
"""

from __future__ import annotations

import math

import pytest

from assocdata.obscore.schema import circle_to_spoly

Q = '"ivoa"."obscore"'
POINT = f"spoint(radians({Q}.\"s_ra\"),radians({Q}.\"s_dec\"))"

# (name, ra, dec, footprint radius or None)
FIXTURES = [
    ("m31", 10.68, 41.27, 0.2), ("m31-edge", 11.3, 41.27, None), ("m31-far", 12.5, 43.0, None),
    ("ra0-east", 0.2, 5.0, 0.1), ("ra0-west", 359.8, 5.0, 0.1), ("ra0-out", 1.0, 5.0, None),
    ("pole-a", 0.0, 89.7, 0.5), ("pole-b", 180.0, 89.6, 0.3), ("pole-c", 90.0, 88.0, None),
    ("south", 200.0, -60.0, 1.0),
]


FIXTURE_IDS = {f[0] for f in FIXTURES}


def _vec(ra: float, dec: float) -> tuple[float, float, float]:
    r, d = math.radians(ra), math.radians(dec)
    return (math.cos(d) * math.cos(r), math.cos(d) * math.sin(r), math.sin(d))


def _within(ra, dec, ra0, dec0, radius) -> bool:
    a, b = _vec(ra, dec), _vec(ra0, dec0)
    return math.degrees(math.acos(max(-1.0, min(1.0, sum(x * y for x, y in zip(a, b)))))) <= radius


@pytest.fixture
def tap(db):
    """A transaction holding the fixture rows, as the TAP role; rolled back after."""
    db.execute("BEGIN")
    try:
        for name, ra, dec, fp in FIXTURES:
            db.execute(
                "INSERT INTO ivoa.obscore (calib_level, obs_collection, obs_id, obs_publisher_did, "
                "source_catalogue, s_ra, s_dec, s_region, hpx) VALUES (1, 'TEST', %s, %s, 'TEST/geo', "
                "%s, %s, %s::spoly, healpix_nest(29, spoint(radians(%s), radians(%s))))",
                (name, f"ivo://test/{name}", ra, dec, circle_to_spoly(ra, dec, fp) if fp else None,
                 ra, dec))
        db.execute("SET LOCAL ROLE assocdata_tap")
        yield db
    finally:
        db.execute("ROLLBACK")


def _rows(db, where: str, limit: int = 2001) -> set[str]:
    """obs_id of the fixture rows the Vollt WHERE clause selects (other tests may have
    derived real rows into the same table)."""
    return {r[0] for r in db.execute(
        f'SELECT {Q}."obs_id" FROM {Q} WHERE {where} LIMIT {limit}')
        if r[0] in FIXTURE_IDS}


def _plan(db, where: str) -> str:
    db.execute("SET LOCAL enable_seqscan = off")  # the table is tiny: may an index serve it?
    try:
        return "\n".join(r[0] for r in db.execute(f"EXPLAIN SELECT * FROM {Q} WHERE {where} LIMIT 2001"))
    finally:
        db.execute("SET LOCAL enable_seqscan = on")


def _seqscan_rows(db, where: str) -> set[str]:
    db.execute("SET LOCAL enable_indexscan = off")
    db.execute("SET LOCAL enable_bitmapscan = off")
    try:
        return _rows(db, where)
    finally:
        db.execute("SET LOCAL enable_indexscan = on")
        db.execute("SET LOCAL enable_bitmapscan = on")


def _circle(ra, dec, r) -> str:
    return f"scircle(spoint(radians({ra}),radians({dec})),radians({r}))"


def _spoly(*vertices) -> str:
    inner = " || ',' || ".join(f"spoint(radians({ra}),radians({dec}))" for ra, dec in vertices)
    return f"spoly('{{' || {inner} || '}}')"


@pytest.mark.parametrize("ra0, dec0, r", [(10.68, 41.27, 0.5), (0.1, 5.0, 0.5), (0.0, 90.0, 1.5),
                                          (359.95, 5.0, 0.3)])
def test_contains_point_circle_right_rows_on_the_gist(tap, ra0, dec0, r):
    where = f"({POINT} @ {_circle(ra0, dec0, r)}) = '1'"
    expected = {n for n, ra, dec, _ in FIXTURES if _within(ra, dec, ra0, dec0, r)}
    assert _rows(tap, where) == expected
    assert "obscore_spoint_gist" in _plan(tap, where)


def test_cone_across_ra_zero_has_both_sides(tap):
    assert {"ra0-east", "ra0-west"} <= _rows(tap, f"({POINT} @ {_circle(0.0, 5.0, 0.5)}) = '1'")


def test_intersects_region_circle_on_the_region_gist(tap):
    where = f'({Q}."s_region" && {_circle(10.9, 41.27, 0.1)}) = \'1\''
    assert _rows(tap, where) == {"m31"} == _seqscan_rows(tap, where)
    assert "obscore_s_region_gist" in _plan(tap, where)


def test_footprint_at_the_pole(tap):
    where = f'({Q}."s_region" && {_circle(270.0, 90.0, 0.2)}) = \'1\''
    assert _rows(tap, where) == {"pole-a", "pole-b"} == _seqscan_rows(tap, where)
    assert "obscore_s_region_gist" in _plan(tap, where)


def test_contains_point_in_region(tap):
    where = f"(spoint(radians(10.7),radians(41.3)) @ {Q}.\"s_region\") = '1'"
    assert _rows(tap, where) == {"m31"}
    assert "obscore_s_region_gist" in _plan(tap, where)


def test_polygon_built_from_spoints(tap):
    poly = _spoly((9.0, 40.0), (12.0, 40.0), (12.0, 42.5), (9.0, 42.5))
    where = f"({POINT} @ {poly}) = '1'"
    assert _rows(tap, where) == {"m31", "m31-edge"}
    assert "obscore_spoint_gist" in _plan(tap, where)
    where = f'({Q}."s_region" && {poly}) = \'1\''
    assert _rows(tap, where) == {"m31"} == _seqscan_rows(tap, where)
    assert "obscore_s_region_gist" in _plan(tap, where)


def test_box(tap):
    box = ("sbox(spoint(radians(10.68-(2.0/2.0)),radians(41.27-(1.0/2.0))),"
           "spoint(radians(10.68+(2.0/2.0)),radians(41.27+(1.0/2.0))))")
    where = f"({POINT} @ {box}) = '1'"
    assert _rows(tap, where) == {"m31", "m31-edge"}
    assert "obscore_spoint_gist" in _plan(tap, where)


def test_limit_n_plus_one_is_honoured(tap):
    where = f"({POINT} @ {_circle(0.0, 0.0, 90.0)}) = '1'"
    assert len(tap.execute(f"SELECT 1 FROM {Q} WHERE {where} LIMIT 2").fetchall()) == 2


def test_hpx_udfs_as_vollt_sends_them(tap):
    where = f'hpx.hpx_cone({Q}."hpx", {Q}."s_ra", {Q}."s_dec", 0.0, 90.0, 1.5) = 1'
    assert _rows(tap, where) == {"pole-a", "pole-b"}
    assert "obscore_hpx_idx" in _plan(tap, where)
    where = f'hpx.hpx_intersects({Q}."s_region", 270.0, 90.0, 0.2) = 1'
    assert _rows(tap, where) == {"pole-a", "pole-b"}
    assert "obscore_s_region_moc_gist" in _plan(tap, where)
