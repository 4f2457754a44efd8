"""sql/071_hpx_coverage.sql and etl/assocdata/hpx/moc.py: footprint coverage and catalogue MOCs."""

from __future__ import annotations

import pytest

from assocdata.derive.refresh import refresh
from assocdata.hpx import moc
from assocdata.ingest import ingest


def test_smoc_text_is_read_as_depth29_ranges(db):
    row = db.execute("SELECT hpx.smoc_text_ranges('7/621 623 8/2463-2465 2500')").fetchone()[0]
    text = str(row)
    assert text.startswith("{[") and text.count("[") == 4  # 621 and 623 stay apart; 8/2463-2465
    assert db.execute("SELECT hpx.smoc_text_ranges('0/0-11') = "
                      "int8multirange(int8range(0, 12 * (1::bigint << 58)))").fetchone()[0]


@pytest.mark.parametrize("text", ["7/x", "30/1", "3/9999", "5/3-1", "12"])
def test_bad_moc_text_is_an_error_naming_where(db, text):
    import psycopg

    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="not a MOC text"):
        db.execute("SELECT hpx.smoc_text_ranges(%s)", (text,))


def test_coverage_contains_every_point_of_the_polygon(db):
    # random points inside convex and non-convex polygons: their hpx must be covered
    bad = db.execute("""
        WITH polys(p) AS (VALUES (spoly '{(10d,10d),(12d,10d),(12d,11d),(10d,11d)}'),
                                 (spoly '{(10d,10d),(12d,10d),(11d,10.5d),(12d,11d),(10d,11d)}'),
                                 (spoly '{(0d,89d),(120d,89d),(240d,89d)}'),
                                 (spoly '{(359.5d,-1d),(0.5d,-1d),(0.5d,1d),(359.5d,1d)}')),
             pts AS (SELECT p, spoint(radians(360 * random()), radians(-90 + 180 * random())) AS s
                       FROM polys, generate_series(1, 20000))
        SELECT count(*) FROM pts
         WHERE s @ p AND NOT (hpx.region_moc(p) @> healpix_nest(29, s))""").fetchone()[0]
    assert bad == 0


def test_non_convex_polygon_gets_a_coverage_not_an_error(db):
    convex_error = db.execute(
        "SELECT hpx.region_moc(spoly '{(10d,10d),(12d,10d),(11d,10.5d),(12d,11d),(10d,11d)}') "
        "IS NOT NULL").fetchone()[0]
    assert convex_error


def test_hpx_intersects_equals_pgsphere_on_the_derived_sample(db, db_url, sample_root):
    ingest(sample_root, database_url=db_url)
    refresh(database_url=db_url)
    n = db.execute("SELECT count(*) FROM ivoa.obscore WHERE s_region IS NOT NULL").fetchone()[0]
    assert n > 10
    for ra, dec, r in db.execute("SELECT s_ra, s_dec, greatest(s_fov, 0.01) FROM ivoa.obscore "
                                 "WHERE s_region IS NOT NULL").fetchall():
        a = db.execute("SELECT array_agg(obs_publisher_did ORDER BY 1) FROM ivoa.obscore "
                       "WHERE hpx.hpx_intersects(s_region, %s, %s, %s) = 1", (ra, dec, r)).fetchone()
        b = db.execute("SELECT array_agg(obs_publisher_did ORDER BY 1) FROM ivoa.obscore "
                       "WHERE s_region && scircle(spoint(radians(%s), radians(%s)), radians(%s))",
                       (ra, dec, r)).fetchone()
        assert a == b


def test_catalogue_mocs_answer_where_data_is_and_export_to_fits(db, db_url, sample_root, tmp_path):
    ingest(sample_root, database_url=db_url)
    refresh(database_url=db_url)
    n = moc.refresh(db)
    with_positions = db.execute("SELECT count(DISTINCT source_catalogue) FROM ivoa.obscore "
                                "WHERE s_region IS NOT NULL OR hpx IS NOT NULL").fetchone()[0]
    assert n == with_positions > 0
    for cat, ra, dec in db.execute("SELECT source_catalogue, s_ra, s_dec FROM ivoa.obscore "
                                   "WHERE hpx IS NOT NULL").fetchall():
        assert cat in moc.catalogues_at(db, ra, dec, 0.001)
    assert moc.catalogues_at(db, 0.0, -89.9, 0.01) == []
    mocpy = pytest.importorskip("mocpy")
    cat = db.execute("SELECT source_catalogue FROM hpx.catalogue_moc ORDER BY n_footprints DESC "
                     "LIMIT 1").fetchone()[0]
    path = moc.write_fits(db, cat, tmp_path / "cov.fits")
    back = mocpy.MOC.from_fits(str(path))
    assert back.max_order == moc.DEFAULT_FITS_ORDER and back.sky_fraction > 0
    plan = "\n".join(r[0] for r in db.execute(
        "EXPLAIN SELECT * FROM hpx.catalogue_moc WHERE moc && hpx.cone_moc(10, 10, 1)"))
    assert "catalogue_moc" in plan
