"""The public search page on the sample collection: filters, cap, links, downloads, plans."""

from __future__ import annotations

import csv
import io
import re
import tarfile
import time

import psycopg
import pytest

from test_web_support import client, env  # noqa: F401  (fixtures)

from assocdata.web import query, search

HORSEHEAD = "ivo://cds.unistra.fr/DEMO/astropy-data?HorseHead.fits#0"
SDSS = "ivo://cds.unistra.fr/DEMO/pyspeckit?sample_sdss.fits#0"


def dids(html: str) -> list[str]:
    return re.findall(r'<tr data-did="([^"]+)"', html)


def test_cone_in_degrees_finds_the_horsehead_image(client):
    page = client.get("/", params={"pos": "85.275 -2.4583", "radius": "1", "radius_unit": "arcmin"})
    assert page.status_code == 200
    assert dids(page.text) == [HORSEHEAD]


def test_cone_in_sexagesimal_is_the_same_search(client):
    page = client.get("/", params={"pos": "05:41:06.0 -02:27:30", "radius": "60", "radius_unit": "arcsec"})
    assert HORSEHEAD in dids(page.text)


def test_name_resolves_through_the_curation_cache(client, env):
    with psycopg.connect(env.url, autocommit=True) as conn:
        # a cache row as `assocdata curate` writes it (coordinates of Barnard 33 in Simbad)
        conn.execute("""INSERT INTO curation.simbad (name_norm, name, status, main_id, ra, dec, query)
                        VALUES (curation.norm_name('Horsehead Nebula'), 'Horsehead Nebula', 'resolved',
                                'NAME Horsehead Nebula', 85.2458, -2.4583, 'web test fixture')
                        ON CONFLICT DO NOTHING""")
    page = client.get("/", params={"pos": "horsehead  nebula", "radius": "5", "radius_unit": "arcmin"})
    assert HORSEHEAD in dids(page.text)
    unknown = client.get("/", params={"pos": "Not A Known Object 12345"})
    assert "not in the name resolver" in unknown.text


def test_cone_uses_the_pgsphere_indexes(env):
    """The statement the page runs, planned with sequential scans discouraged (72 rows would
    otherwise always be scanned): the GiST index on spoint(radians(s_ra), radians(s_dec)) for
    the centres, ORed with the GiST index on s_region for the footprints."""
    s = query.Search.from_params({"pos": "85.275 -2.4583", "radius": "1"})
    with psycopg.connect(env.url, autocommit=True) as conn:
        built = search.build(conn, s)
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN SELECT * FROM ivoa.obscore o WHERE {built.where}", built.args))
    assert "obscore_spoint_gist" in plan and "obscore_s_region_gist" in plan
    assert "Seq Scan" not in plan


def test_catalogue_prefix_search_is_an_index_range(env):
    """'DEMO/pyspec' -> LIKE 'DEMO/pyspec%': under the database's collation (C.UTF-8 here, not "C"
    to PostgreSQL 15) only the text_pattern_ops index of sql/081 turns the prefix into a range."""
    s = query.Search.from_params({"cat": "DEMO/pyspec"})
    with psycopg.connect(env.url, autocommit=True) as conn:
        built = search.build(conn, s)
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN SELECT * FROM ivoa.obscore o WHERE {built.where}", built.args))
        found = {r[0] for r in conn.execute(
            f"SELECT o.source_catalogue FROM ivoa.obscore o WHERE {built.where}", built.args)}
    assert "obscore_source_catalogue_prefix_idx" in plan and "~>=~" in plan, plan
    assert found == {"DEMO/pyspeckit"}


def test_cone_finds_an_image_by_its_footprint_away_from_its_centre(client):
    """1' from a corner of HorseHead.fits (about 7' from its centre): found by its footprint."""
    page = client.get("/", params={"pos": "85.35 -2.55", "radius": "1", "radius_unit": "arcmin"})
    assert HORSEHEAD in dids(page.text)
    far = client.get("/", params={"pos": "86.5 -2.5", "radius": "1", "radius_unit": "arcmin"})
    assert HORSEHEAD not in dids(far.text)


def test_band_filter_in_nanometres_keeps_rows_overlapping_the_band(client):
    page = client.get("/", params={"band_min": "600", "band_max": "650", "band_unit": "nm",
                                   "size": "100"})
    found = dids(page.text)
    assert SDSS in found  # 380 .. 922 nm
    with_unit = client.get("/", params={"band_min": "6000", "band_max": "6500", "band_unit": "Å",
                                        "size": "100"})
    assert dids(with_unit.text) == found
    far = client.get("/", params={"band_min": "1", "band_max": "2", "band_unit": "m"})
    assert SDSS not in dids(far.text)


def test_band_in_frequency_swaps_the_bounds():
    from assocdata.web.units import band_to_metres

    lo, hi = band_to_metres(4.0e14, 5.0e14, "Hz")
    assert lo == pytest.approx(299792458 / 5.0e14) and hi == pytest.approx(299792458 / 4.0e14)


def test_time_filter_accepts_iso_and_mjd(client):
    iso = client.get("/", params={"t_start": "2003-11-01", "t_stop": "2004-02-01", "size": "100"})
    mjd = client.get("/", params={"t_start": "52944", "t_stop": "53036", "size": "100"})
    assert SDSS in dids(iso.text)  # t_min 52999.48
    assert dids(iso.text) == dids(mjd.text)


def test_catalogue_prefix_and_type_filters(client):
    page = client.get("/", params={"cat": "DEMO/astro", "type": ["image"], "size": "100"})
    rows = dids(page.text)
    assert HORSEHEAD in rows
    assert all("DEMO/astropy-data?" in d for d in rows)
    spectra = client.get("/", params={"cat": "DEMO/astro", "type": "spectrum", "size": "100"})
    assert HORSEHEAD not in dids(spectra.text)


def test_a_hostile_target_string_is_only_ever_a_value(client, env):
    evil = "x'; DROP TABLE ivoa.obscore; --%_\\"
    page = client.get("/", params={"target": evil})
    assert page.status_code == 200 and dids(page.text) == []
    with psycopg.connect(env.url) as conn:
        assert conn.execute("SELECT count(*) FROM ivoa.obscore").fetchone()[0] > 0
    adql = client.get("/adql", params={"target": evil}).text
    assert "'%x''; DROP TABLE ivoa.obscore; --%_\\%'" in adql  # ADQL literal, quotes doubled


def test_sorting_and_page_sizes(client):
    asc = dids(client.get("/", params={"cat": "DEMO", "sort": "s_dec", "size": "10"}).text)
    desc = dids(client.get("/", params={"cat": "DEMO", "sort": "s_dec", "order": "desc", "size": "10"}).text)
    assert len(asc) == 10 and asc != desc
    hundred = dids(client.get("/", params={"cat": "DEMO", "size": "100"}).text)
    page2 = dids(client.get("/", params={"cat": "DEMO", "size": "10", "page": "2"}).text)
    assert page2 == hundred[10:20]
    sneaky = client.get("/", params={"cat": "DEMO", "sort": "s_ra; DELETE FROM x"})
    assert sneaky.status_code == 200  # an unknown sort key falls back to the DID


def test_the_cap_says_how_many_more_rows(client, monkeypatch):
    monkeypatch.setattr(query, "ROW_CAP", 5)
    monkeypatch.setattr(search, "ROW_CAP", 5)
    page = client.get("/", params={"cat": "DEMO", "size": "10"})
    total = int(re.search(r'<strong id="total">(\d+)</strong>', page.text).group(1))
    assert f"{total - 5} more rows: narrow your query" in page.text
    assert len(dids(page.text)) == 5


def test_live_count_and_adql(client):
    count = client.get("/api/count", params={"cat": "DEMO/astropy-data", "type": "image"}).json()
    page = client.get("/", params={"cat": "DEMO/astropy-data", "type": "image", "size": "100"})
    assert count["count"] == len(dids(page.text)) > 0
    adql = client.get("/adql", params={"pos": "85.275 -2.4583", "radius": "1", "cat": "DEMO/astropy-data",
                                       "band_min": "400", "band_max": "700", "type": "image"}).text
    assert "FROM ivoa.obscore" in adql
    assert "(1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 85.275, -2.4583, 0.01666666" in adql
    assert "OR 1 = INTERSECTS(s_region, CIRCLE('ICRS', 85.275, -2.4583, 0.01666666" in adql
    assert "em_min <= 7e-07" in adql and "em_max >= 4e-07" in adql
    assert "source_catalogue LIKE 'DEMO/astropy-data%'" in adql and "dataproduct_type IN ('image')" in adql
    bad = client.get("/api/count", params={"band_min": "abc"}).json()
    assert bad["errors"] and bad["count"] is None


def test_permalink_restores_the_form(client):
    page = client.get("/", params={"pos": "85.275 -2.4583", "radius": "1", "radius_unit": "arcmin",
                                   "type": "image", "size": "10"})
    link = re.search(r'id="permalink" href="/\?([^"]+)"', page.text).group(1).replace("&amp;", "&")
    again = client.get("/?" + link)
    assert dids(again.text) == dids(page.text)
    assert 'value="85.275 -2.4583"' in again.text and 'value="image" checked' in again.text


def test_header_file_and_provenance_links(client, env):
    header = client.get("/header", params={"did": HORSEHEAD})
    assert header.status_code == 200 and "SIMPLE  =" in header.text
    assert all(len(line) <= 80 for line in header.text.splitlines()[1:])
    f = client.get("/file", params={"did": HORSEHEAD})
    assert f.content == (env.collection / "DEMO/astropy-data/HorseHead.fits").read_bytes()
    prov = client.get("/provenance", params={"did": HORSEHEAD})
    assert prov.status_code == 200 and "s_ra" in prov.text and "CRVAL1" in prov.text
    assert client.get("/header", params={"did": "ivo://nope"}).status_code == 404


def test_csv_and_votable_downloads_hold_the_selection(client):
    params = {"cat": "DEMO/astropy-data", "type": "image"}
    rows = list(csv.DictReader(io.StringIO(client.get("/download.csv", params=params).text)))
    page = client.get("/", params={**params, "size": "100"})
    assert sorted(r["obs_publisher_did"] for r in rows) == sorted(dids(page.text))
    vot = client.get("/download.vot", params=params)
    from astropy.io.votable import parse_single_table

    table = parse_single_table(io.BytesIO(vot.content)).to_table()
    assert len(table) == len(rows) and str(table["em_min"].unit) == "m"


def test_tar_download_size_is_announced_and_exact(client, env):
    params = {"cat": "DEMO/pyspeckit", "type": "spectrum"}
    size = client.get("/download/size", params=params).json()
    response = client.get("/download/selection.tar", params=params)
    assert int(response.headers["content-length"]) == size["bytes"] == len(response.content)
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tf:
        names = tf.getnames()
        for name in names:
            assert tf.extractfile(name).read() == (env.collection / name).read_bytes()
    assert len(names) == size["files"] > 0


def test_previews_are_served_and_missing_ones_are_a_placeholder(client, env):
    from assocdata.web import previews

    page = client.get("/", params={"pos": "85.275 -2.4583", "radius": "1"})
    src = re.search(r'src="(/preview/[0-9a-f]{32}\.png)"', page.text).group(1)
    png = client.get(src)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert "x-preview" not in png.headers
    assert previews.path_for(env.data_dir / "previews", HORSEHEAD).exists()
    missing = client.get("/preview/" + "0" * 32 + ".png")
    assert missing.status_code == 200 and missing.headers["x-preview"] == "placeholder"
    for hostile in ("/preview/..%2F..%2Fetc%2Fpasswd.png", "/preview/" + "../" * 8 + "etc/passwd.png"):
        r = client.get(hostile)
        assert b"root:" not in r.content and (r.status_code == 404 or r.headers["x-preview"] == "placeholder")


def test_answers_on_the_sample_collection(client, capsys):
    """Times are printed, never asserted (the machine is shared)."""
    params = {"pos": "266.4 -28.94", "radius": "30", "radius_unit": "arcmin", "type": "image",
              "size": "100"}
    assert "gc_2mass_k.fits" in " ".join(dids(client.get("/", params=params).text))
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(10):
        assert client.get("/", params=params).status_code == 200
    with capsys.disabled():
        print(f"\nsearch page: {(time.perf_counter() - started) * 100:.1f} ms wall, "
              f"{(time.process_time() - cpu) * 100:.1f} ms client-process CPU per request")
