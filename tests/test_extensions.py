"""The database has what the project stands on: PgSphere, q3c, PL/Python with our stack."""

from __future__ import annotations

import json

from assocdata import pgsphere


def test_pg_sphere_is_the_corrected_version_when_the_packaged_one_is_broken(db):
    version = db.execute(
        "SELECT extversion FROM pg_extension WHERE extname = 'pg_sphere'").fetchone()[0]
    available = {r[0] for r in db.execute(
        "SELECT version FROM pg_available_extension_versions WHERE name = 'pg_sphere'")}
    if pgsphere.PATCHED_VERSION in available:
        assert version == pgsphere.PATCHED_VERSION
    else:
        assert version


def test_pgsphere_types_and_operators_work(db):
    row = db.execute("""
        SELECT spoint(radians(10.68), radians(41.27))
                 @ scircle(spoint(radians(10.68), radians(41.27)), radians(0.5)),
               scircle(spoint(radians(10), radians(40)), radians(1))
                 && spoly('{(9d,39d),(11d,39d),(11d,41d),(9d,41d)}'),
               spoint(radians(10), radians(40)) @ spoly('{(9d,39d),(11d,39d),(11d,41d),(9d,41d)}'),
               spoint(radians(50), radians(40)) @ spoly('{(9d,39d),(11d,39d),(11d,41d),(9d,41d)}'),
               area(scircle(spoint(0, 0), radians(1)))
    """).fetchone()
    assert row[0] is True and row[1] is True and row[2] is True and row[3] is False
    assert abs(row[4] - 2 * 3.141592653589793 * (1 - __import__("math").cos(__import__("math").radians(1)))) < 1e-9


def test_healpix_nest_matches_the_nested_scheme(db):
    # Depth 0 has 12 base pixels; the north pole lies in base pixel 0..3, the
    # vernal point (0,0) in base pixel 4 (HEALPix nested numbering).
    assert db.execute("SELECT healpix_nest(0, spoint(0, 0))").fetchone()[0] == 4
    deep = db.execute("SELECT healpix_nest(29, spoint(radians(10.68), radians(41.27)))").fetchone()[0]
    shallow = db.execute("SELECT healpix_nest(5, spoint(radians(10.68), radians(41.27)))").fetchone()[0]
    assert deep >> (2 * (29 - 5)) == shallow


def test_gist_index_on_spoint_expression_is_used(db):
    db.execute("DROP TABLE IF EXISTS pg_temp.pts")
    db.execute("CREATE TEMP TABLE pts AS SELECT i, (i * 0.0137) % 360 AS ra, "
               "((i * 0.0071) % 180) - 90 AS dec FROM generate_series(1, 20000) i")
    db.execute("CREATE INDEX ON pts USING gist (spoint(radians(ra), radians(dec)))")
    db.execute("ANALYZE pts")
    sql = ("SELECT count(*) FROM pts WHERE spoint(radians(ra), radians(dec)) "
           "@ scircle(spoint(radians(10.68), radians(41.27)), radians(0.5))")
    plan = "\n".join(r[0] for r in db.execute("EXPLAIN " + sql))
    assert "Index" in plan and "pts_spoint_idx" in plan, plan
    n_index = db.execute(sql).fetchone()[0]
    db.execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
    try:
        assert db.execute(sql).fetchone()[0] == n_index
    finally:
        db.execute("RESET enable_indexscan; RESET enable_bitmapscan")


def test_q3c_is_installed(db):
    assert db.execute("SELECT q3c_dist(10, 20, 10, 21)").fetchone()[0] - 1.0 < 1e-9


def test_plpython_imports_the_project_and_astropy_wcs(db):
    import astropy
    import numpy

    import assocdata

    versions = db.execute("SELECT assocdata.python_versions()").fetchone()[0]
    if isinstance(versions, str):
        versions = json.loads(versions)
    assert versions["executable"] == "/usr/bin/python3"
    assert versions["assocdata"] == assocdata.__version__
    assert versions["astropy"] == astropy.__version__
    assert versions["numpy"] == numpy.__version__
    assert versions["wcslib"]
