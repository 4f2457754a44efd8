"""The filter table (offline seed, SVO) and the matcher from header strings to filter ids."""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator

import pytest
import requests

from assocdata.curation import filters as fl

SVO_DATA = "svo_fps/tests/data"


def svo_recorded(name: str) -> bytes:
    return (importlib.resources.files("astroquery") / SVO_DATA / name).read_bytes()


@pytest.fixture
def table(db) -> Iterator[list[fl.Filter]]:
    """The offline seed in the database; SVO rows and verdicts added by a test are removed."""
    fl.load_seed(db)
    yield fl.filters(db)
    db.execute("DELETE FROM curation.filter WHERE source NOT LIKE 'seed:%'")
    db.execute("DELETE FROM curation.svo_fetch")


def test_the_seed_covers_the_common_optical_and_infrared_systems(table):
    ids = {f.filter_id for f in table}
    for fid in ("Generic/Johnson.U", "Generic/Johnson.B", "Generic/Johnson.V", "Generic/Cousins.R",
                "Generic/Cousins.I", "SLOAN/SDSS.u", "SLOAN/SDSS.z", "2MASS/2MASS.J", "2MASS/2MASS.Ks",
                "WISE/WISE.W1", "WISE/WISE.W4", "GAIA/Gaia.G", "GAIA/Gaia.Gbp", "HST/ACS_WFC.F606W",
                "HST/WFC3_IR.F160W", "HST/WFPC2.F814W", "Spitzer/IRAC.I1", "Spitzer/IRAC.I4",
                "GALEX/GALEX.FUV", "GALEX/GALEX.NUV", "PAN-STARRS/PS1.g", "PAN-STARRS/PS1.y"):
        assert fid in ids, fid
    assert all(0 < f.lambda_min < f.lambda_max for f in table)
    assert all(f.source.startswith("seed: pyphot 2.1.1") for f in table)


def test_seed_band_limits_agree_with_svo_for_the_same_filter(db, table):
    """SVO's own published limits of 2MASS H (recorded answer) against the seed's, from pyphot's curve."""
    import io

    from astropy.io.votable import parse_single_table

    svo = {p.name: p.value for p in parse_single_table(
        io.BytesIO(svo_recorded("svo_fps_ID=2MASS.2MASS.H.xml"))).params}
    lo, hi, width = db.execute("SELECT lambda_min, lambda_max, width FROM curation.filter "
                               "WHERE filter_id = '2MASS/2MASS.H'").fetchone()
    assert lo == pytest.approx(svo["WavelengthMin"], rel=0.01)
    assert hi == pytest.approx(svo["WavelengthMax"], rel=0.01)
    assert width == pytest.approx(svo["WidthEff"], rel=0.001)


def test_loading_the_seed_twice_changes_nothing(db, table):
    before = db.execute("SELECT count(*), max(loaded_at) FROM curation.filter").fetchone()
    assert fl.load_seed(db) == before[0]
    assert db.execute("SELECT count(*) FROM curation.filter").fetchone()[0] == before[0]


@pytest.mark.parametrize("inputs, filter_id", [
    ({"BAND": "K", "DATASET": "2MASS"}, "2MASS/2MASS.Ks"),        # gc_2mass_k.fits of the corpus
    ({"FILTER": "2MASS Ks"}, "2MASS/2MASS.Ks"),
    ({"FILTER1": "F606W", "FILTER2": "CLEAR2L", "TELESCOP": "HST", "INSTRUME": "ACS",
      "DETECTOR": "WFC"}, "HST/ACS_WFC.F606W"),
    ({"FILTNAM": "F606W", "TELESCOP": "HST", "INSTRUME": "WFPC2"}, "HST/WFPC2.F606W"),
    ({"FILTER": "W1", "TELESCOP": "WISE"}, "WISE/WISE.W1"),
    ({"FILTER": "Johnson V"}, "Generic/Johnson.V"),
    ({"FILTER": "r", "TELESCOP": "SDSS 2.5-M"}, "SLOAN/SDSS.r"),
])
def test_a_filter_named_with_its_facility_is_matched_confidently(table, inputs, filter_id):
    m = fl.match_inputs(inputs, table)
    assert (m.status, m.filter_id) == ("matched", filter_id)
    assert m.confidence >= fl.CONFIDENT


def test_a_band_name_shared_by_several_instruments_is_ambiguous_not_guessed(table):
    m = fl.match_inputs({"FILTER": "F606W"}, table)
    assert m.status == "ambiguous" and m.filter_id is None
    assert {c["filter_id"] for c in m.candidates} >= {"HST/ACS_WFC.F606W", "HST/WFPC2.F606W"}


def test_R_on_an_unknown_telescope_is_left_for_review(table):
    # DEMO/pkg-astropy header_newlines.fits: FILTER = 'R', PTF/MOSAIC on P48
    m = fl.match_inputs({"FILTER": "R", "TELESCOP": "P48", "INSTRUME": "PTF/MOSAIC"}, table)
    assert m.status == "ambiguous" and m.filter_id is None
    assert m.candidates[0]["filter_id"] in ("Generic/Cousins.R", "Palomar/ZTF.r")


@pytest.mark.parametrize("band", ["Ks", "g'", "V"])
def test_a_bare_band_without_facility_is_low_confidence(table, band):
    m = fl.match_inputs({"FILTER": band}, table)
    assert m.status == "low-confidence" and m.filter_id is None


def test_two_real_filters_in_the_beam_are_ambiguous(table):
    m = fl.match_inputs({"FILTER1": "F555W", "FILTER2": "F814W", "TELESCOP": "HST", "INSTRUME": "WFPC2"},
                        table)
    assert m.status == "ambiguous" and "several filters" in m.reason


@pytest.mark.parametrize("value", ["Open", "CLEAR", "NONE", "open2-8 "])
def test_neutral_wheel_positions_are_no_filter(table, value):
    assert fl.match_inputs({"FILTER": value}, table).status == "no-filter"


@pytest.mark.parametrize("value", ["OG590", "Al +1", "Orange"])  # real FILTER values of the corpus
def test_unknown_filter_names_are_unmatched(table, value):
    assert fl.match_inputs({"FILTER": value}, table).status == "unmatched"


def test_filter_inputs_inherit_the_primary_header_unless_inherit_is_false(db):
    got = db.execute("""SELECT curation.filter_inputs('{"BAND": "K "}', '{"DATASET": "2MASS"}'),
                               curation.filter_inputs('{"BAND": "K", "INHERIT": false}', '{"DATASET": "2MASS"}'),
                               curation.filter_inputs('{"TELESCOP": "HST"}', NULL)""").fetchone()
    assert got == ({"BAND": "K", "DATASET": "2MASS"}, {"BAND": "K"}, None)


# -- SVO ---------------------------------------------------------------------------------------

class SvoRecorder:
    def __init__(self, monkeypatch, body: bytes | Exception) -> None:
        from astroquery.svo_fps import SvoFps

        self.calls: list[dict] = []
        self.body = body
        monkeypatch.setattr(SvoFps, "_request", self.request)  # astroquery's HTTP method

    def request(self, method, url, params=None, timeout=None, cache=None, **kw):
        self.calls.append(dict(params or {}))
        if isinstance(self.body, Exception):
            raise self.body
        r = requests.Response()
        r.status_code = 200
        r._content = self.body
        return r


def test_svo_fills_the_table_for_a_facility_the_seed_lacks(db, table, monkeypatch):
    rec = SvoRecorder(monkeypatch, svo_recorded("svo_fps_Facility=Keck_Instrument=NIRC2.xml"))
    inputs = {"FILTER": "Kp", "TELESCOP": "Keck II", "INSTRUME": "NIRC2"}
    assert fl.match_inputs(inputs, table).status != "matched"  # only Kepler's Kp in the seed
    requests_made, offline = fl._complete_from_svo(db, [inputs], svo=None, limiter=None, refresh=False)
    assert (requests_made, offline) == (1, None)
    assert rec.calls == [{"Facility": "Keck", "Instrument": "NIRC2"}]
    row = db.execute("SELECT lambda_min, lambda_eff, source FROM curation.filter "
                     "WHERE filter_id = 'Keck/NIRC2.Kp'").fetchone()
    assert row[0] > 0 and row[1] == pytest.approx(21035.117, rel=1e-6) and row[2].startswith("svo-fps ")
    m = fl.match_inputs(inputs, fl.filters(db))
    assert (m.status, m.filter_id) == ("matched", "Keck/NIRC2.Kp")
    # asked once: a rerun costs nothing
    assert fl._complete_from_svo(db, [inputs], svo=None, limiter=None, refresh=False) == (0, None)
    assert len(rec.calls) == 1


def test_svo_unreachable_is_reported_not_raised(db, table, monkeypatch):
    SvoRecorder(monkeypatch, requests.ConnectionError(
        "HTTPSConnectionPool(host='svo2.cab.inta-csic.es', port=443): Max retries exceeded "
        "(Caused by NameResolutionError(\"Failed to resolve 'svo2.cab.inta-csic.es'\"))"))
    n, offline = fl._complete_from_svo(db, [{"FILTER": "Kp", "TELESCOP": "Keck II", "INSTRUME": "NIRC2"}],
                                       svo=None, limiter=None, refresh=False)
    assert n == 1 and offline.startswith("SVO unreachable")
    assert db.execute("SELECT count(*) FROM curation.svo_fetch").fetchone()[0] == 0
