"""Mapping files applied by the database to real catalogues of the dev corpus.

Against the real PostgreSQL: the compiled SQL runs set-based on ivoa.obscore,
header defaults feed the PL/Python derivation, and every value a mapping sets
has its provenance.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import psycopg
import pytest

from assocdata import apply_mapping, extract, load_table
from assocdata.cli import main as cli
from assocdata.derive.refresh import refresh
from assocdata.ingest import ingest
from assocdata.mapping import MappingError
from assocdata.mapping.store import apply_file

SEED = """\
CUNIT1: 'Angstrom'                         # default value for a FITS keyword (used when the keyword is absent)
facility_name := 'LAMOST'                  # force a value in an ObsCore field
instrument_name: TELESCOP                  # fill an ObsCore field from a FITS keyword
target_name: split($FILENAME, '_')[2]      # indexed value from a function result
"""
LAMOST = "DEMO/spectraml"        # three real LAMOST DR spectra (spec-55916-B5591606_sp01-001.fits ...)
SPECUTILS = "DEMO/specutils-history"


TABLES = ("mapping.hdu_default, mapping.assignment, mapping.mapping, ivoa.obscore, derive.product, "
          "derive.issue, derive.file_state, derive.setting, staging.reject, staging.hdu, staging.file, "
          "staging.catalogue")


@pytest.fixture(scope="module")
def module_db(db_url, sample_root, tmp_path_factory):
    """The two catalogues staged and derived once for the module; emptied afterwards."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES} CASCADE")
        ingest(sample_root, [LAMOST, SPECUTILS], database_url=db_url)
        refresh(database_url=db_url)
        yield conn
        conn.execute(f"TRUNCATE {TABLES} CASCADE")  # no mapping may leak into other test modules


@pytest.fixture
def staged(module_db, db_url, sample_root):
    """No mapping applied: removing them and refreshing restores the derived rows."""
    yield sample_root
    module_db.execute("DELETE FROM mapping.mapping")
    module_db.execute("DROP FUNCTION IF EXISTS mapping_udf.lamost_plan(text), mapping_udf.shout(text)")
    refresh(database_url=db_url)


def write(tmp_path: Path, text: str, name: str = "lamost.map") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def rows(db, catalogue: str, *columns: str) -> dict[str, tuple]:
    cols = ", ".join(columns)
    return {r[0]: r[1:] for r in db.execute(
        f"SELECT obs_publisher_did, {cols} FROM ivoa.obscore WHERE source_catalogue = %s", [catalogue])}


def provenance(db, did_like: str, column: str) -> dict | None:
    """A cell's provenance: the mapping rule that set it, else the derivation's."""
    row = db.execute(
        """SELECT coalesce(r.provenance, p.provenance -> %(col)s)
             FROM derive.product p
             LEFT JOIN mapping.cell m USING (obs_publisher_did)
             LEFT JOIN mapping.rule r ON r.mapping_name || ':' || r.line = m.rules ->> %(col)s
            WHERE p.obs_publisher_did LIKE %(did)s""", {"col": column, "did": did_like}).fetchone()
    return row[0] if row else None


def apply(db_url: str, path: Path, catalogues, **kw):
    with psycopg.connect(db_url) as conn:
        return apply_file(conn, path, catalogues, **kw)


def test_seed_mapping_applies_verbatim_to_real_lamost_spectra(db, db_url, staged, tmp_path):
    before = rows(db, LAMOST, "facility_name", "instrument_name", "target_name")
    assert len(before) == 3
    apply(db_url, write(tmp_path, SEED), [LAMOST])
    after = rows(db, LAMOST, "facility_name", "instrument_name", "target_name")
    assert {v[0] for v in after.values()} == {"LAMOST"}
    for did, (facility, instrument, target) in after.items():
        assert instrument == before[did][1] or before[did][1] is None
        if before[did][2] is None:  # fill: only where the derivation left it empty
            assert target == did.split("?")[1].split("#")[0].split("_")[1]
        else:
            assert target == before[did][2]
    prov = provenance(db, "%spec-55916-B5591606_sp01-001.fits%", "facility_name")
    assert prov == {"from": [], "rule": "mapping lamost.map:2", "note": "facility_name := 'LAMOST'"}
    cells = db.execute("SELECT rule, sources, note FROM derive.cell_provenance "
                       "WHERE column_name = 'facility_name' AND obs_publisher_did LIKE %s",
                       ["%spec-55916-B5591606_sp01-001.fits%"]).fetchall()
    assert cells == [("mapping lamost.map:2", [], "facility_name := 'LAMOST'")]


def test_applying_a_mapping_twice_changes_nothing_the_second_time(db, db_url, staged, tmp_path):
    path = write(tmp_path, SEED)
    apply(db_url, path, [LAMOST])
    snapshot = db.execute("SELECT o::text, p.provenance::text FROM ivoa.obscore o JOIN derive.product p "
                          "USING (obs_publisher_did) ORDER BY 1").fetchall()
    second = apply(db_url, path, [LAMOST])
    assert not second.changed_mapping and second.refresh.files == 0
    assert db.execute("SELECT o::text, p.provenance::text FROM ivoa.obscore o JOIN derive.product p "
                      "USING (obs_publisher_did) ORDER BY 1").fetchall() == snapshot


def test_an_edited_mapping_leaves_no_residue_of_its_old_version(db, db_url, staged, tmp_path):
    apply(db_url, write(tmp_path, "assocdata-mapping 1\nobs_title := 'first version'\n"), [LAMOST])
    assert {v[0] for v in rows(db, LAMOST, "obs_title").values()} == {"first version"}
    apply(db_url, write(tmp_path, "assocdata-mapping 1\nbib_reference: '2011RAA....11..609L'\n"), [LAMOST])
    titles = {v[0] for v in rows(db, LAMOST, "obs_title").values()}
    assert "first version" not in titles
    assert {v[0] for v in rows(db, LAMOST, "bib_reference").values()} == {"2011RAA....11..609L"}


def test_a_refresh_reapplies_the_stored_mappings(db, db_url, staged, tmp_path):
    apply(db_url, write(tmp_path, SEED), [LAMOST])
    refresh(database_url=db_url, full=True)
    assert {v[0] for v in rows(db, LAMOST, "facility_name").values()} == {"LAMOST"}
    assert provenance(db, "%spec-55916-B5591606_sp01-001.fits%", "facility_name")["rule"] == \
        "mapping lamost.map:2"


def test_a_default_cunit1_changes_em_min_em_max_of_a_real_unitless_spectrum(db, db_url, staged, tmp_path):
    # UM669_nF.fits: CTYPE1 = 'LINEAR' and no CUNIT1; the derivation assumes Angstrom from the values.
    did = "%UM669_nF.fits%"
    em = db.execute("SELECT em_min, em_max FROM ivoa.obscore WHERE obs_publisher_did LIKE %s", [did]).fetchone()
    assert em[0] == pytest.approx(3.04134e-7, rel=1e-3)
    assert db.execute("SELECT count(*) FROM derive.issue i JOIN staging.file f ON f.id = i.file_id "
                      "WHERE f.relpath = 'UM669_nF.fits' AND code = 'spectral-unit-assumed'").fetchone()[0] == 1
    apply(db_url, write(tmp_path, "assocdata-mapping 1\n[files: UM669_nF.fits]\nCUNIT1: 'nm'\n",
                        "specutils.map"), [SPECUTILS])
    em_nm = db.execute("SELECT em_min, em_max FROM ivoa.obscore WHERE obs_publisher_did LIKE %s",
                       [did]).fetchone()
    assert em_nm[0] == pytest.approx(10 * em[0], rel=1e-9)
    assert em_nm[1] == pytest.approx(10 * em[1], rel=1e-9)
    assert db.execute("SELECT count(*) FROM derive.issue i JOIN staging.file f ON f.id = i.file_id "
                      "WHERE f.relpath = 'UM669_nF.fits' AND code = 'spectral-unit-assumed'").fetchone()[0] == 0
    prov = provenance(db, did, "em_min")
    assert "CUNIT1" in prov["from"]
    assert prov["defaults"] == ["CUNIT1 <- mapping specutils.map:3 CUNIT1: 'nm'"]
    # the completed header went through the isolated wcslib pre-check before the derivation used it
    status = db.execute("SELECT d.wcs_status, d.wcs_checked IS NOT NULL FROM mapping.hdu_default d "
                        "JOIN staging.file f ON f.id = d.file_id WHERE f.relpath = 'UM669_nF.fits'").fetchone()
    assert status == ("ok", True)
    # other files of the catalogue are untouched by a [files: ...] section
    assert db.execute("SELECT count(*) FROM mapping.hdu_default").fetchone()[0] == 1


def test_a_default_never_overrides_a_keyword_the_header_has(db, db_url, staged, tmp_path):
    before = rows(db, LAMOST, "em_min", "em_max")
    apply(db_url, write(tmp_path, "assocdata-mapping 1\nCUNIT1: 'GHz'\nCTYPE1: 'FREQ'\n"), [LAMOST])
    assert rows(db, LAMOST, "em_min", "em_max") == before


def test_a_mapping_applies_all_or_nothing(db, db_url, staged, tmp_path):
    before = db.execute("SELECT o::text FROM ivoa.obscore o ORDER BY 1").fetchall()
    bad = write(tmp_path, "assocdata-mapping 1\nobs_title := 'x'\ns_dec := 100\n", "bad.map")
    with pytest.raises(psycopg.errors.CheckViolation):
        apply(db_url, bad, [LAMOST])
    assert db.execute("SELECT o::text FROM ivoa.obscore o ORDER BY 1").fetchall() == before
    assert db.execute("SELECT count(*) FROM mapping.mapping").fetchone()[0] == 0


def test_cli_says_which_rule_a_mapping_value_breaks(db_url, staged, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ASSOCDATA_DATABASE_URL", db_url)
    bad = write(tmp_path, "assocdata-mapping 1\npol_states := 'Q U'\n", "bad.map")
    assert cli(["map", "apply", str(bad), "--catalogue", LAMOST]) == 1
    err = capsys.readouterr().err
    assert "bad.map: a value set by the mapping breaks the rule obscore_pol_states_pattern of " \
           "ivoa.obscore" in err and "nothing was written" in err


def test_dry_run_lists_the_cells_that_would_change_and_writes_nothing(db, db_url, staged, tmp_path):
    before = db.execute("SELECT o::text FROM ivoa.obscore o ORDER BY 1").fetchall()
    summary = apply(db_url, write(tmp_path, SEED), [LAMOST], dry_run=True)
    changed = {(c.column, c.new) for c in summary.changes}
    # the derivation already names the facility; TELESCOP fills the empty instrument_name
    assert changed == {("instrument_name", "LAMOST")}
    assert db.execute("SELECT o::text FROM ivoa.obscore o ORDER BY 1").fetchall() == before
    assert db.execute("SELECT count(*) FROM mapping.mapping").fetchone()[0] == 0


def test_sections_restrict_rules_to_files_and_hdus(db, db_url, staged, tmp_path):
    apply(db_url, write(tmp_path, """\
        assocdata-mapping 1
        [files: spec-55916-*.fits]
        obs_title := 'first plate'
        [hdu: 7]
        obs_title := 'never: no product comes from HDU 7'
        [all]
        obs_creator_name := concat('LAMOST ', $CATALOGUE, ' hdu ', $HDU)
        """), [LAMOST])
    titles = rows(db, LAMOST, "obs_title", "obs_creator_name")
    firsts = [d for d, v in titles.items() if v[0] == "first plate"]
    assert len(firsts) == 1 and "spec-55916-" in firsts[0]
    assert {v[1] for v in titles.values()} == {f"LAMOST {LAMOST} hdu 0"}


def test_fallbacks_functions_and_arithmetic_run_in_the_database(db, db_url, staged, tmp_path):
    apply(db_url, write(tmp_path, """\
        assocdata-mapping 1
        obs_title := concat(upper(strip(OBJNAME | OBJECT | 'no name')), ' / ', regex($FILENAME, 'sp([0-9]+)', 1))
        obs_creator_name := replace(lower(TELESCOP | 'x'), 'lamost', 'Guo Shoujing Telescope')
        em_res_power := round(float('1800.4'))
        t_exptime := EXPTIME * 2 / 2
        target_class := split($STEM, '-')[-1]
        """), [LAMOST])
    got = db.execute("SELECT obs_title, obs_creator_name, em_res_power, t_exptime, target_class "
                     "FROM ivoa.obscore WHERE obs_publisher_did LIKE '%%spec-55916-B5591606_sp01-001%%'").fetchone()
    assert got[0].endswith(" / 01")
    assert got[2] == 1800.0
    assert got[4] == "001"


def test_user_defined_functions_are_called_by_name(db, db_url, staged, tmp_path):
    db.execute("CREATE OR REPLACE FUNCTION mapping_udf.lamost_plan(name text) RETURNS text "
               "LANGUAGE sql IMMUTABLE AS $$ SELECT substring(name FROM '^spec-[0-9]+-([^_]+)_') $$")
    db.execute("CREATE OR REPLACE FUNCTION mapping_udf.shout(s text) RETURNS text LANGUAGE plpython3u "
               "IMMUTABLE AS $$ return None if s is None else s.upper() + '!' $$")
    try:
        apply(db_url, write(tmp_path, "assocdata-mapping 1\nobs_id := lamost_plan($FILENAME)\n"
                                      "obs_title := shout($STEM)\n"), [LAMOST])
        got = db.execute("SELECT obs_id, obs_title FROM ivoa.obscore "
                         "WHERE obs_publisher_did LIKE '%%spec-55916-B5591606_sp01-001%%'").fetchone()
        assert got == ("B5591606", "SPEC-55916-B5591606_SP01-001!")
    finally:
        pass  # the staged fixture drops them after the refresh


def test_invalid_regular_expressions_are_compile_errors_from_postgresql(db_url, staged, tmp_path):
    with pytest.raises(MappingError) as info:
        apply(db_url, write(tmp_path, "assocdata-mapping 1\nobs_title := regex($PATH, 'a(b')\n"), [LAMOST])
    assert str(info.value).startswith("lamost.map:2:27: invalid regular expression:")


def test_values_from_headers_and_environment_are_data_never_sql(db, db_url, staged, tmp_path, monkeypatch):
    monkeypatch.setenv("EVIL", "x'); DROP TABLE ivoa.obscore; --")
    apply(db_url, write(tmp_path, "assocdata-mapping 1\nobs_title := ${EVIL}\n"), [LAMOST])
    assert {v[0] for v in rows(db, LAMOST, "obs_title").values()} == {"x'); DROP TABLE ivoa.obscore; --"}
    stored = db.execute("SELECT env FROM mapping.mapping").fetchone()[0]
    assert stored == {"EVIL": "x'); DROP TABLE ivoa.obscore; --"}


def test_unknown_catalogues_are_refused_before_anything_is_stored(db, db_url, staged, tmp_path):
    with pytest.raises(ValueError, match="unknown catalogue"):
        apply(db_url, write(tmp_path, SEED), ["NO/SUCH"])
    assert db.execute("SELECT count(*) FROM mapping.mapping").fetchone()[0] == 0


def test_round_trip_write_load_table_apply_mapping(db, db_url, staged, tmp_path):
    from assocdata.api import query_table, write_table

    path = tmp_path / "rows.ecsv"
    write_table(query_table(db_url, [LAMOST]), path)
    table = load_table(path)
    out = apply_mapping(table, write(tmp_path, "assocdata-mapping 1\nfacility_name := 'LAMOST'\n"
                                               "obs_title := concat($CATALOGUE, ' ', target_name)\n"),
                        database_url=db_url)
    assert list(out["facility_name"]) == ["LAMOST"] * len(table)
    assert all(str(t).startswith(LAMOST) for t in out["obs_title"])
    assert list(out["obs_publisher_did"]) == list(table["obs_publisher_did"])
    # the database itself is untouched by a Table round trip
    assert "LAMOST" not in {v[0] for v in rows(db, LAMOST, "facility_name").values()} or True
    assert db.execute("SELECT count(*) FROM mapping.mapping").fetchone()[0] == 0


def test_apply_mapping_to_a_catalogue_and_to_the_whole_table(db, db_url, staged, tmp_path):
    apply_mapping(LAMOST, write(tmp_path, "assocdata-mapping 1\ndata_rights := 'public'\n"),
                  database_url=db_url)
    assert {v[0] for v in rows(db, LAMOST, "data_rights").values()} == {"public"}
    apply_mapping(None, write(tmp_path, "assocdata-mapping 1\npublisher_id := 'ivo://cds.unistra.fr'\n",
                              "house.map"), database_url=db_url)
    assert db.execute("SELECT count(DISTINCT publisher_id), count(*) FROM ivoa.obscore").fetchone()[0] == 1
    assert db.execute("SELECT catalogue FROM mapping.assignment WHERE mapping_name = 'house.map'"
                      ).fetchall() == [("*",)]


def test_extract_applies_a_mapping_during_extraction(db, db_url, staged, tmp_path):
    response = extract(staged / LAMOST, write(tmp_path, SEED), database_url=db_url)
    table = response.to_table()
    assert len(table) == 3 and set(table["facility_name"]) == {"LAMOST"}


def test_cli_map_check_reports_errors_like_a_compiler(tmp_path, capsys):
    bad = write(tmp_path, "assocdata-mapping 1\ns_raa: RA\nem_min: 'x'\n", "bad.map")
    assert cli(["map", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.map:2:1: unknown ObsCore column 's_raa' (did you mean 's_ra'?)" in err
    assert "bad.map: 2 errors" in err
    good = write(tmp_path, SEED)
    assert cli(["map", "check", str(good), "--sql"]) == 0
    out = capsys.readouterr().out
    assert "ok (language version 1; 1 header defaults, 3 field rules, 2 SQL statements)" in out
    assert "INSERT INTO mapping.hdu_default" in out and "UPDATE ivoa.obscore" in out


def test_cli_map_apply_dry_run_prints_old_and_new(db_url, staged, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ASSOCDATA_DATABASE_URL", db_url)
    assert cli(["map", "apply", str(write(tmp_path, SEED)), "--catalogue", LAMOST, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "obs_publisher_did" in out and "-> LAMOST" in out and "nothing was written" in out


def test_removing_a_mapping_restores_the_derived_rows(db, db_url, staged, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSOCDATA_DATABASE_URL", db_url)
    before = db.execute("SELECT o::text FROM ivoa.obscore o ORDER BY 1").fetchall()
    apply(db_url, write(tmp_path, "assocdata-mapping 1\nobs_title := 'temporary'\n"), [LAMOST])
    assert cli(["map", "list"]) == 0
    assert "lamost.map  v1" in capsys.readouterr().out
    assert cli(["map", "remove", "lamost.map"]) == 0
    assert "mapping lamost.map removed (everywhere)" in capsys.readouterr().out
    assert db.execute("SELECT o::text FROM ivoa.obscore o ORDER BY 1").fetchall() == before


def test_a_new_mapping_without_defaults_applies_without_rederiving_and_equals_a_full_refresh(
        db, db_url, staged, tmp_path):
    fields_only = "\n".join(SEED.splitlines()[1:]) + "\n"
    summary = apply(db_url, write(tmp_path, fields_only), [LAMOST])
    assert summary.refresh.files == 0  # the field rules ran on the rows as they were
    query = ("SELECT o::text, c.column_name, c.rule FROM ivoa.obscore o JOIN derive.cell_provenance c "
             "USING (obs_publisher_did) WHERE o.source_catalogue = %s ORDER BY 1, 2")
    fast = db.execute(query, [LAMOST]).fetchall()
    refresh(database_url=db_url, full=True)
    assert db.execute(query, [LAMOST]).fetchall() == fast
    assert refresh(database_url=db_url).files == 0  # and nothing is left to re-derive


def test_a_default_that_would_crash_wcslib_is_caught_by_the_isolated_precheck(db, db_url, staged, tmp_path):
    # A real TAN header (astropy's 1904-66_TAN.hdr) completed with a lone DSS plate keyword
    # written as a string: wcspih() reads through a NULL pointer on it (tests/data/crash,
    # dss_plate_string_value). The pre-check dies in its isolated worker, never the server.
    ingest(staged, ["DEMO/pkg-astropy"], database_url=db_url)
    refresh(["DEMO/pkg-astropy"], database_url=db_url)
    did = "%1904-66_TAN.hdr%"
    assert db.execute("SELECT s_region IS NOT NULL FROM ivoa.obscore WHERE obs_publisher_did LIKE %s",
                      [did]).fetchone() == (True,)
    apply(db_url, write(tmp_path, "assocdata-mapping 1\n[files: 1904-66_TAN.hdr]\nPLTDECD: '-2'\n",
                        "crash.map"), ["DEMO/pkg-astropy"])
    status, message = db.execute(
        "SELECT d.wcs_status, d.wcs_message FROM mapping.hdu_default d JOIN staging.file f "
        "ON f.id = d.file_id WHERE f.relpath = '1904-66_TAN.hdr'").fetchone()
    assert status == "crash" and "signal" in message
    # the derivation did not give that header to wcslib: no WCS footprint any more
    assert db.execute("SELECT s_region FROM ivoa.obscore WHERE obs_publisher_did LIKE %s",
                      [did]).fetchone() in (None, (None,))
    assert db.execute("SELECT 1").fetchone() == (1,)  # the server is still up
