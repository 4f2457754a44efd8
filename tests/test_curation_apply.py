"""Curation end to end on real catalogues of the dev corpus: caches -> empty ObsCore cells.

Against the real PostgreSQL; Simbad's answer is a recorded one (only the HTTP
post of astroquery's session is replaced).
"""

from __future__ import annotations

import importlib.resources
import io
import json

import psycopg
import pytest
import requests
import urllib3

from assocdata import extract
from assocdata.cli import main as cli
from assocdata.curation import apply_curation, curate, simbad
from assocdata.curation.ratelimit import RateLimiter
from assocdata.derive.refresh import refresh
from assocdata.ingest import ingest

ASTROPY = "DEMO/astropy-data"      # gc_2mass_k.fits: DATASET = '2MASS', BAND = 'K', no band limits
SPECUTILS = "DEMO/specutils-history"  # AAO.fits: OBJECT = 'TW Hya', no position
PKG = "DEMO/pkg-astropy"           # header_newlines.fits: FILTER = 'R' on P48 (ambiguous)
CATALOGUES = [ASTROPY, SPECUTILS, PKG]
K_DID = "ivo://cds.unistra.fr/DEMO/astropy-data?gc_2mass_k.fits#0"
AAO_DID = "ivo://cds.unistra.fr/DEMO/specutils-history?AAO.fits#0"
EQUISPEC_DID = "ivo://cds.unistra.fr/DEMO/specutils-history?multispec_equispec.fits#0"
CURATION = "curation.simbad, curation.filter_match, curation.suggestion, curation.svo_fetch"
TABLES = (f"{CURATION}, ivoa.obscore, derive.product, derive.issue, derive.file_state, staging.reject, "
          "staging.hdu, staging.file, staging.catalogue")


@pytest.fixture(scope="module")
def module_db(db_url, sample_root):
    """Three catalogues staged and derived once for the module; everything emptied afterwards."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES} CASCADE")
        ingest(sample_root, CATALOGUES, database_url=db_url)
        refresh(database_url=db_url)
        yield conn
        conn.execute(f"TRUNCATE {TABLES} CASCADE")
        conn.execute("DELETE FROM curation.filter")


@pytest.fixture
def fresh(module_db, db_url):
    """Rows as the derivation left them, empty caches (the filter seed stays)."""
    module_db.execute(f"TRUNCATE {CURATION}")
    refresh(database_url=db_url, full=True)
    yield module_db
    module_db.execute(f"TRUNCATE {CURATION}")


def row(db, did: str, *cols: str) -> tuple:
    return db.execute(f"SELECT {', '.join(cols)} FROM ivoa.obscore WHERE obs_publisher_did = %s",
                      [did]).fetchone()


def prov(db, did: str) -> dict:
    return db.execute("SELECT provenance FROM derive.product WHERE obs_publisher_did = %s",
                      [did]).fetchone()[0]


def snapshot(db) -> dict[tuple[str, str], str]:
    """Every cell (as text) of the module's rows, with the rule that set it."""
    cols = [r[0] for r in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'ivoa' "
        "AND table_name = 'obscore'")]
    out = {}
    for did, doc, p in db.execute("SELECT o.obs_publisher_did, to_jsonb(o), d.provenance FROM ivoa.obscore o "
                                  "JOIN derive.product d USING (obs_publisher_did)"):
        for c in cols:
            out[(did, c)] = (json.dumps(doc.get(c)), (p.get(c) or {}).get("rule"))
    return out


def recorded_simbad(monkeypatch) -> list:
    """Simbad's service whose HTTP post answers with the recorded answer for M1."""
    body = (importlib.resources.files("astroquery") / "esa/jwst/tests/data/simbad_M1.vot").read_bytes()
    posts: list = []

    def post(self, url, data=None, stream=None, files=None, **kw):
        posts.append(url)
        r = requests.Response()
        r.status_code, r.url = 200, url
        r.raw = urllib3.response.HTTPResponse(body=io.BytesIO(body), preload_content=False, status=200)
        return r

    monkeypatch.setattr(requests.Session, "post", post)
    return posts


def test_offline_curation_fills_a_band_from_the_seed_with_provenance(fresh, db_url):
    summary = curate([ASTROPY], database_url=db_url, offline=True)
    assert row(fresh, K_DID, "em_min", "em_max") == (pytest.approx(1.957e-06), pytest.approx(2.352e-06))
    p = prov(fresh, K_DID)["em_min"]
    assert p["rule"] == "curation.filter" and p["from"] == ["BAND", "DATASET"]
    assert p["note"].startswith("filter 2MASS/2MASS.Ks [19570 .. 23520 Angstrom")
    assert "seed: pyphot 2.1.1" in p["note"]
    assert summary.filters.matched == 1 and summary.rows_changed >= 1
    cell = fresh.execute("SELECT rule, sources FROM derive.cell_provenance "
                         "WHERE obs_publisher_did = %s AND column_name = 'em_max'", [K_DID]).fetchone()
    assert cell == ("curation.filter", ["BAND", "DATASET"])


def test_offline_curation_finishes_and_says_what_it_could_not_resolve(fresh, db_url):
    summary = curate(CATALOGUES, database_url=db_url, offline=True)
    reasons = {item: reason for kind, item, reason in summary.unresolved}
    assert reasons["TW Hya"] == "no network: not asked (--offline)"
    assert reasons["FILTER=R INSTRUME=PTF/MOSAIC TELESCOP=P48"].startswith("ambiguous: 'R' fits 2 filters")
    text = "\n".join(summary.lines())
    assert "offline (--offline): Simbad not asked" in text
    review = {r[0]: r[1] for r in fresh.execute("SELECT item, status FROM curation.review")}
    assert review['{"FILTER": "R", "INSTRUME": "PTF/MOSAIC", "TELESCOP": "P48"}'] == "ambiguous"
    assert row(fresh, "ivo://cds.unistra.fr/DEMO/pkg-astropy?header_newlines.fits#0", "em_min") == (None,)


def test_header_and_derived_values_are_never_overwritten(fresh, db_url, monkeypatch):
    before = snapshot(fresh)
    # a header whose OBJECT is M1 and which has a position, and one without (AAO.fits)
    fresh.execute("UPDATE ivoa.obscore SET target_name = 'M1' WHERE obs_publisher_did IN (%s, %s)",
                  [K_DID, AAO_DID])
    posts = recorded_simbad(monkeypatch)
    curate(CATALOGUES, database_url=db_url)
    after = snapshot(fresh)
    changed = {k for k in before if before[k] != after[k]}
    for did, col in changed:
        assert after[(did, col)][1] in ("curation.simbad", "curation.filter", "curation.readme",
                                        "hpx.healpix-nest-29") or col == "target_name", (did, col)
        assert before[(did, col)][0] == "null" or col == "target_name", (did, col)
    assert row(fresh, K_DID, "s_ra") == (pytest.approx(266.3999920524497),)  # the header's, not Simbad's
    assert len(posts) == 1  # every name of three catalogues in one Simbad request


def test_a_name_resolved_by_simbad_gives_position_region_and_provenance(fresh, db_url, monkeypatch):
    fresh.execute("UPDATE ivoa.obscore SET target_name = 'M1' WHERE obs_publisher_did = %s", [AAO_DID])
    recorded_simbad(monkeypatch)
    curate([SPECUTILS], database_url=db_url)
    s_ra, s_dec, hpx, inside = fresh.execute(
        "SELECT s_ra, s_dec, hpx, spoint(radians(83.6287), radians(22.0147)) @ s_region "
        "FROM ivoa.obscore WHERE obs_publisher_did = %s", [AAO_DID]).fetchone()
    assert (s_ra, s_dec) == (83.6287, 22.0147) and hpx is not None and inside
    p = prov(fresh, AAO_DID)
    assert p["s_ra"]["rule"] == "curation.simbad" and p["s_ra"]["from"] == ["target_name"]
    assert p["s_ra"]["note"].startswith("Simbad main_id='M 1' (asked 'M1') 20")
    assert p["s_region"]["note"].startswith("circle of 1.000 arcsec about Simbad's position")
    assert p["hpx"]["rule"] == "hpx.healpix-nest-29"
    # a rerun asks nothing and changes nothing
    posts = recorded_simbad(monkeypatch)
    again = curate([SPECUTILS], database_url=db_url)
    assert posts == [] and again.rows_changed == 0 and again.simbad.cached >= 1


def test_a_cell_a_mapping_emptied_on_purpose_stays_empty(fresh, db_url, monkeypatch):
    from assocdata.mapping.store import apply_file

    fresh.execute("UPDATE ivoa.obscore SET target_name = 'M1' WHERE obs_publisher_did = %s", [AAO_DID])
    try:
        with psycopg.connect(db_url) as conn:
            apply_file(conn, None, [SPECUTILS], name="house.map",
                       source="assocdata-mapping 1\n[files: AAO.fits]\ns_ra := null\ns_dec := null\n")
        recorded_simbad(monkeypatch)
        curate([SPECUTILS], database_url=db_url)
        assert row(fresh, AAO_DID, "s_ra", "s_dec") == (None, None)
        rules = {r[0]: r[1] for r in fresh.execute(
            "SELECT column_name, rule FROM derive.cell_provenance WHERE obs_publisher_did = %s", [AAO_DID])}
        assert rules["s_ra"] == "mapping house.map:3"
    finally:
        fresh.execute("DELETE FROM mapping.mapping")
        fresh.execute("DELETE FROM mapping.cell")


def test_a_mapping_value_is_kept_even_over_a_value_curation_wrote_before(fresh, db_url):
    from assocdata.mapping.store import apply_file

    curate([ASTROPY], database_url=db_url, offline=True)  # em_min from the filter seed
    try:
        with psycopg.connect(db_url) as conn:
            apply_file(conn, None, [ASTROPY], name="bands.map",
                       source="assocdata-mapping 1\n[files: gc_2mass_k.fits]\nem_min := 2.0e-6\n")
        curate([ASTROPY], database_url=db_url, offline=True)
        assert row(fresh, K_DID, "em_min", "em_max") == (2.0e-6, pytest.approx(2.352e-06))
    finally:
        fresh.execute("DELETE FROM mapping.mapping")
        fresh.execute("DELETE FROM mapping.cell")


def test_a_rederived_file_gets_its_curated_values_back_from_the_caches(fresh, db_url):
    curate([ASTROPY], database_url=db_url, offline=True)
    curated = row(fresh, K_DID, "em_min", "em_max"), prov(fresh, K_DID)["em_min"]
    # what a refresh does to a changed file: derived again, then (its own last step,
    # inside its transaction) apply_curation on its files fills the cells from the caches
    summary = refresh([ASTROPY], database_url=db_url, full=True)
    assert summary.files > 0
    assert (row(fresh, K_DID, "em_min", "em_max"), prov(fresh, K_DID)["em_min"]) == curated


def test_a_curated_value_whose_source_is_gone_is_removed(fresh, db_url):
    curate([ASTROPY], database_url=db_url, offline=True)
    fresh.execute("DELETE FROM curation.filter_match")
    with fresh.transaction():
        fresh.execute("CREATE TEMP TABLE todo ON COMMIT DROP AS SELECT id AS file_id FROM staging.file")
        apply_curation(fresh, CATALOGUES, "todo")
    assert row(fresh, K_DID, "em_min", "em_max") == (None, None)
    assert "em_min" not in prov(fresh, K_DID)


def test_readme_objects_give_a_file_its_position(fresh, db_url):
    # A ReadMe section written for this test in VizieR's Objects format (as in J/MNRAS/301/1031):
    # it names AAO.fits (OBJECT = 'TW Hya' in its header, no position) and a file without a target.
    objects = ("\nObjects:\n    -----------------------------------------------------------\n"
               "       RA   (2000)   DE    Designation(s)          (File)\n"
               "    -----------------------------------------------------------\n"
               "    11 01 51.9 -34 42 17   TW Hya = Hen 3-600A     (AAO.fits)\n"
               "    12 12 12.0 +12 12 12   Target B                (multispec_equispec.fits)\n"
               "    -----------------------------------------------------------\n")
    old = fresh.execute("SELECT readme FROM staging.catalogue WHERE id = %s", [SPECUTILS]).fetchone()[0]
    fresh.execute("UPDATE staging.catalogue SET readme = %s WHERE id = %s", [old + objects, SPECUTILS])
    try:
        curate([SPECUTILS], database_url=db_url, offline=True)
        ra, dec, target = row(fresh, AAO_DID, "s_ra", "s_dec", "target_name")
        assert ra == pytest.approx(15 * (11 + 1 / 60 + 51.9 / 3600)) and dec == pytest.approx(-(34 + 42 / 60 + 17 / 3600))
        assert target == "TW Hya"  # the header's, kept
        p = prov(fresh, AAO_DID)
        assert p["s_ra"]["rule"] == "curation.readme" and p["s_ra"]["note"].startswith("ReadMe Objects, line ")
        assert "target_name" not in p or p["target_name"]["rule"] != "curation.readme"
        # the second file's header has OBJECT = 'HR4659': the header wins over the ReadMe's name
        assert row(fresh, EQUISPEC_DID, "target_name") == ("HR4659",)
        assert row(fresh, EQUISPEC_DID, "s_ra")[0] == pytest.approx(183.05)
    finally:
        fresh.execute("UPDATE staging.catalogue SET readme = %s WHERE id = %s", [old, SPECUTILS])


def test_the_cli_curates_offline_with_a_summary(fresh, db_url, monkeypatch, capsys):
    monkeypatch.setenv("ASSOCDATA_DATABASE_URL", db_url)
    assert cli(["curate", ASTROPY, "--offline"]) == 0
    out = capsys.readouterr().out
    assert "filters         1 matched" in out and "not asked (offline)" in out
    assert cli(["curate", "NO/SUCH"]) == 1


def test_response_curate_reads_the_curated_rows(fresh, db_url, sample_root):
    response = extract(sample_root / ASTROPY, database_url=db_url)
    table = response.curate(offline=True).to_table()
    k = [r for r in table if str(r["obs_publisher_did"]).endswith("?gc_2mass_k.fits#0")][0]
    assert k["em_min"] == pytest.approx(1.957e-06)
    assert response.curation_summary.filters.matched == 1


def test_rate_limiter_spaces_calls():
    class Clock:
        t = 0.0

    def sleep(s: float) -> None:
        Clock.t += s

    lim = RateLimiter(5.0, clock=lambda: Clock.t, sleep=sleep)
    for _ in range(6):
        lim.wait()
    assert Clock.t == pytest.approx(1.0) and lim.waited == pytest.approx(1.0)
    assert simbad.RATE_PER_SECOND <= 10
