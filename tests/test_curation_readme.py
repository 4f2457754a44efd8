"""The VizieR ReadMe as a metadata suggester, on real ReadMe files (astropy's CDS test data)."""

from __future__ import annotations

import importlib.resources

import pytest

from assocdata.curation import readme
from assocdata.curation.suggesters import CatalogueInfo, Suggestion, refresh_suggestions

CDS = "io/ascii/tests/data"


def real_readme(name: str) -> str:
    return (importlib.resources.files("astropy") / CDS / name / "ReadMe").read_text()


def test_objects_section_says_which_file_is_which_object_and_where():
    rm = readme.parse(real_readme("cds/multi"))  # J/MNRAS/301/1031, Tinney+ 1998
    assert rm.equinox == "2000"
    got = {o.files: (o.designation, o.aliases) for o in rm.objects}
    assert got[("vb8.dat",)] == ("VB 8", ("LHS 429", "Gl 644 C"))
    assert got[("mucol.dat",)] == ("mu Col", ("HR 1996", "HD 38666"))  # '{mu} Col' as Simbad spells it
    vb8 = next(o for o in rm.objects if o.designation == "VB 8")
    # 16 55 35.7 -08 23 36
    assert vb8.ra == pytest.approx(15 * (16 + 55 / 60 + 35.7 / 3600))
    assert vb8.dec == pytest.approx(-(8 + 23 / 60 + 36 / 3600))


def test_header_keywords_and_file_summary_are_read():
    rm = readme.parse(real_readme("vizier"))  # J/A+A/511/A56, Pancino+ 2010
    assert rm.bibcode == "2010A&A...511A..56P"
    assert rm.authors.startswith("Pancino E., Carrera R.")
    assert rm.adc_keywords == ["Clusters, open", "Stars, giant", "Equivalent widths", "Spectroscopy"]
    assert rm.keywords == ["stars: abundances", "Galaxy: disk", "open clusters and associations: general"]
    assert [(f.name, f.explanation) for f in rm.files] == [
        ("table1.dat", "Observing logs and programme stars information"),
        ("table5.dat", "Atomic data and equivalent widths")]


def test_a_section_title_with_a_release_number_ends_the_keywords():
    rm = readme.parse(real_readme("cds/glob"))  # 'Description (Release 7.15):' follows Keywords
    assert rm.keywords == ["catalogues", "stars: novae, cataclysmic variables", "stars: binaries: close"]


def test_the_readme_suggester_gives_file_level_targets_positions_and_regions():
    info = CatalogueInfo("J/MNRAS/301/1031", real_readme("cds/multi"), None, ())
    got = {(s.relpath, s.column): s for s in readme.ReadmeSuggester().suggest(info)}
    assert got[("vb8.dat", "target_name")].value == "VB 8"
    assert float(got[("vb8.dat", "s_ra")].value) == pytest.approx(253.89875)
    assert got[("vb8.dat", "s_region")].value.startswith("{(")
    assert got[("vb8.dat", "s_ra")].detail.startswith("ReadMe Objects, line ")
    assert got[("", "bib_reference")].value == "1998MNRAS.301.1031T"
    assert got[("", "obs_creator_name")].value == "Tinney C.G., Reid I.N."
    assert got[("", "keywords")].value == "Stars, dwarfs; Stars, late-type; Spectroscopy"


def test_the_thin_sample_readme_suggests_no_position(sample_root):
    text = (sample_root / "DEMO" / "astropy-data" / "ReadMe").read_text()
    got = list(readme.ReadmeSuggester().suggest(CatalogueInfo("DEMO/astropy-data", text, None, ())))
    assert not [s for s in got if s.column in ("s_ra", "s_dec", "target_name")]
    assert [s.value for s in got if s.column == "obs_title"] == [
        "Associated data sample: astropy-data  (assocdata demo)"]  # as the derivation reads it


def test_b1950_positions_are_converted_to_icrs():
    ra, dec = readme.to_icrs(0.0, 0.0, "1950")
    assert abs(ra - 0.64) < 0.02 and abs(dec - 0.28) < 0.02  # precession over 50 years
    assert readme.to_icrs(10.0, 20.0, "J2000") == (10.0, 20.0)
    assert readme.to_icrs(10.0, 20.0, "galactic") is None


def test_garbage_is_no_error():
    rm = readme.parse("\x00\nObjects:\n  99 99 99 +99 99 99 nothing (x.fits)\nFile Summary:\n---\n")
    assert rm.objects == [] and rm.files == []


class Broken:
    name = "broken"

    def suggest(self, catalogue):
        yield Suggestion("", "obs_title", "x", "first")
        raise RuntimeError("boom")


def test_suggestions_are_replaced_per_catalogue_and_a_broken_suggester_is_skipped(db, db_url, sample_root):
    from assocdata.ingest import ingest

    cat = "DEMO/astropy-data"
    ingest(sample_root, [cat], database_url=db_url)
    try:
        n = refresh_suggestions(db, [cat])
        assert n == db.execute("SELECT count(*) FROM curation.suggestion WHERE catalogue = %s",
                               [cat]).fetchone()[0] > 0
        assert refresh_suggestions(db, [cat]) == n  # replaced, not added
        with pytest.warns(UserWarning, match="suggester broken failed"):
            refresh_suggestions(db, [cat], [Broken()])
        assert db.execute("SELECT count(*) FROM curation.suggestion WHERE suggester = 'broken'"
                          ).fetchone()[0] == 0
    finally:
        db.execute("DELETE FROM curation.suggestion")
        db.execute("DELETE FROM staging.catalogue WHERE id = %s", [cat])
