"""The seed's Python API: extract → Table → write → load_table, units from the spec."""

from __future__ import annotations

import pytest

import assocdata
from assocdata import extract, load_table

pytestmark = pytest.mark.usefixtures("empty_derived")


@pytest.fixture
def empty_derived(db):
    db.execute("TRUNCATE ivoa.obscore, derive.product, derive.issue, derive.file_state, derive.withdrawn, "
               "staging.reject, staging.hdu, staging.file, staging.catalogue CASCADE")


def test_extract_a_catalogue_directory_gives_an_astropy_table_with_spec_units(db_url, collection):
    response = extract(collection / "DEMO" / "laspec", database_url=db_url)
    table = response.to_table()
    assert len(table) >= 3
    assert set(table["source_catalogue"]) == {"laspec"}
    assert str(table["em_min"].unit) == "m"
    assert str(table["s_ra"].unit) == "deg"
    assert str(table["t_min"].unit) == "d"
    assert table["em_min"].description
    assert all(s.startswith("Polygon ICRS") for s in table["s_region"] if s)


@pytest.mark.parametrize("suffix", [".csv", ".ecsv", ".xml", ".fits"])
def test_write_then_load_table_restores_units(db_url, collection, tmp_path, suffix):
    response = extract(collection / "DEMO" / "laspec", database_url=db_url)
    path = response.write(tmp_path / f"obscore{suffix}")
    table = load_table(path)
    assert len(table) == len(response.to_table())
    assert str(table["em_max"].unit) == "m"
    assert str(table["access_estsize"].unit) in ("kbyte", "kB")
    original = response.to_table()
    for name in ("obs_publisher_did", "dataproduct_type"):
        assert [str(v) for v in table[name]] == [str(v) for v in original[name]]
    assert list(table["em_min"]) == pytest.approx(list(original["em_min"]), rel=1e-12)


def test_apply_mapping_of_a_missing_file_names_the_file(db_url, collection, tmp_path):
    extract(collection / "DEMO" / "laspec", database_url=db_url)
    with pytest.raises(FileNotFoundError, match="x.map"):
        assocdata.apply_mapping("DEMO/laspec", tmp_path / "x.map", database_url=db_url)


def test_unknown_output_format_is_a_clear_error(db_url, collection, tmp_path):
    response = extract(collection / "DEMO" / "laspec", database_url=db_url)
    with pytest.raises(ValueError, match="unknown format"):
        response.write(tmp_path / "obscore.txt")
