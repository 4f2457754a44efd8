"""The search form's parsing and units, and the ADQL it shows (no database needed)."""

from __future__ import annotations

import pytest

from assocdata.web import query
from assocdata.web.query import QueryError, Search, parse_coordinates
from assocdata.web.units import band_to_metres, parse_time


def fail_resolve(text: str):
    raise QueryError(f"{text!r} unknown")


def test_coordinates_in_degrees_and_sexagesimal():
    p = parse_coordinates("83.63 22.01")
    assert (p.ra, p.dec) == (83.63, 22.01)
    p = parse_coordinates("83.63, -22.01")
    assert (p.ra, p.dec) == (83.63, -22.01)
    p = parse_coordinates("05:34:31.94 +22:00:52.2")
    assert p.ra == pytest.approx(83.633083, abs=1e-5) and p.dec == pytest.approx(22.014500, abs=1e-5)
    q = parse_coordinates("05h34m31.94s +22d00m52.2s")
    assert (q.ra, q.dec) == pytest.approx((p.ra, p.dec))
    assert parse_coordinates("M 42") is None and parse_coordinates("Crab Nebula") is None
    with pytest.raises(QueryError, match="Dec"):
        parse_coordinates("10 95")


def test_band_units_become_metres_and_frequencies_swap():
    assert band_to_metres(400, 700, "nm") == pytest.approx((4e-7, 7e-7))
    assert band_to_metres(4000, None, "Å") == (pytest.approx(4e-7), None)
    assert band_to_metres(1, 2, "µm") == pytest.approx((1e-6, 2e-6))
    lo, hi = band_to_metres(1, 10, "keV")
    assert lo == pytest.approx(1.23984e-10, rel=1e-5) and hi == pytest.approx(1.23984e-9, rel=1e-5)
    assert band_to_metres(None, 1.4e9, "Hz") == (pytest.approx(0.2141, rel=1e-3), None)
    with pytest.raises(ValueError, match="above"):
        band_to_metres(700, 400, "nm")
    with pytest.raises(ValueError, match="positive"):
        band_to_metres(-1, 4, "nm")


def test_times_iso_or_mjd():
    assert parse_time("51544.5") == 51544.5
    assert parse_time("2000-01-01T12:00:00") == pytest.approx(51544.5)
    assert parse_time("2000-01-01") == pytest.approx(51544.0)
    with pytest.raises(ValueError, match="neither an ISO date"):
        parse_time("yesterday")


def test_bad_fields_are_errors_not_exceptions():
    s = Search.from_params({"radius": "abc", "band_min": "nan", "band_unit": "furlong",
                            "radius_unit": "parsec", "type": "hologram", "t_start": "soon"})
    s.build(fail_resolve)
    text = " ".join(s.errors)
    for needle in ("radius", "band min", "furlong", "parsec", "hologram", "time start"):
        assert needle in text


def test_sort_and_page_are_whitelisted_and_capped():
    s = Search.from_params({"sort": "s_ra; DROP TABLE x", "order": "sideways", "size": "7", "page": "999"})
    assert s.sort == "obs_publisher_did" and s.order == "asc" and s.size == 25
    assert s.page == query.ROW_CAP // 25  # the last page within the cap
    built = Search.from_params({"cat": "J", "sort": "em_min", "order": "desc"}).build(fail_resolve)
    assert built.order == "o.em_min DESC NULLS LAST, o.obs_publisher_did"


def test_values_are_bind_parameters_and_like_wildcards_are_literal():
    s = Search.from_params({"cat": "J/A+A/5_6%", "target": "O'Brien"})
    built = s.build(fail_resolve)
    assert "O'Brien" not in built.where and "J/A+A" not in built.where
    assert "J/A+A/5\\_6\\%%" in built.args and "%O'Brien%" in built.args
    assert "source_catalogue LIKE 'J/A+A/5_6%%'" in built.adql
    assert "'%O''Brien%'" in built.adql


def test_permalink_parameters_round_trip():
    s = Search.from_params({"pos": "83.63 22.01", "radius": "30", "radius_unit": "arcsec",
                            "band_min": "1", "band_unit": "µm", "t_start": "2011-08-11",
                            "cat": "J/A+A", "target": "crab", "type": ["image", "cube"],
                            "sort": "t_min", "order": "desc", "size": "100", "page": "2"})
    from starlette.datastructures import QueryParams

    again = Search.from_params(QueryParams(s.params()))
    assert again.params() == s.params()
    assert again.types == ["image", "cube"] and again.radius_degrees() == pytest.approx(30 / 3600)


def test_adql_is_the_same_search_for_a_tap_client():
    from assocdata.web.query import Position

    s = Search.from_params({"pos": "10 20", "radius": "2", "radius_unit": "deg", "t_start": "51544",
                            "t_stop": "51545", "type": "spectrum"})
    built = s.build(lambda text: Position(10.0, 20.0, text))
    assert built.adql.splitlines() == [
        "SELECT TOP 500 *", "FROM ivoa.obscore",
        "WHERE (1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 10, 20, 2)) "
        "OR 1 = INTERSECTS(s_region, CIRCLE('ICRS', 10, 20, 2)))",
        "  AND t_min <= 51545", "  AND t_max >= 51544", "  AND dataproduct_type IN ('spectrum')",
        "ORDER BY obs_publisher_did ASC"]
    assert built.args[:3] == [10.0, 20.0, 2.0]
