"""etl/assocdata/tap/check.py: TAP_SCHEMA against the catalog, the checks Vollt never makes."""

from __future__ import annotations

import pytest

from assocdata.tap import check, publish


@pytest.fixture
def published(db):
    publish.refresh_schema(db)
    yield db
    publish.refresh_schema(db)  # undo what a test broke


def test_freshly_generated_tap_schema_has_no_problem(published):
    assert check.check(published) == []


def test_a_listed_column_missing_from_the_table_is_reported(published):
    published.execute('INSERT INTO "TAP_SCHEMA".columns (table_name, column_name, datatype, '
                      "principal, indexed, std) VALUES ('ivoa.obscore', 'ghost', 'VARCHAR', 0, 0, 0)")
    problems = [str(p) for p in check.check(published)]
    assert any("ivoa.obscore.ghost" in p and "SELECT * would fail" in p for p in problems)


def test_a_wrong_datatype_is_reported(published):
    published.execute('UPDATE "TAP_SCHEMA".columns SET datatype = \'INTEGER\' '
                      "WHERE table_name = 'ivoa.obscore' AND column_name = 's_ra'")
    problems = [str(p) for p in check.check(published)]
    assert any("ivoa.obscore.s_ra: declared INTEGER but the column is double precision" in p
               for p in problems)


def test_a_polygon_not_declared_region_is_reported(published):
    published.execute('UPDATE "TAP_SCHEMA".columns SET datatype = \'VARCHAR\' '
                      "WHERE table_name = 'ivoa.obscore' AND column_name = 's_region'")
    assert any("must be declared REGION" in str(p) for p in check.check(published))


def test_a_missing_table_is_reported(published):
    published.execute('INSERT INTO "TAP_SCHEMA".tables (schema_name, table_name, table_type) '
                      "VALUES ('ivoa', 'ivoa.nothing', 'table')")
    assert any(str(p) == "ivoa.nothing: no table ivoa.nothing in the database"
               for p in check.check(published))


def test_hand_edits_and_stale_generation_are_reported(published):
    published.execute('UPDATE "TAP_SCHEMA".columns SET description = \'edited\' '
                      "WHERE column_name = 'obs_id'")
    assert any("edited by hand" in str(p) for p in check.check(published))
    published.execute('UPDATE "TAP_SCHEMA".assocdata_generation SET content_hash = \'old\'')
    assert any("older than obscore.yaml" in str(p) for p in check.check(published))


def test_cli_exits_1_and_names_the_column(published, monkeypatch, capsys):
    from assocdata import cli, config

    monkeypatch.setattr(config, "database_url", lambda dbname=None, _u=published.info.dsn: _u)
    published.execute('INSERT INTO "TAP_SCHEMA".columns (table_name, column_name, datatype, '
                      "principal, indexed, std) VALUES ('ivoa.obscore', 'ghost', 'VARCHAR', 0, 0, 0)")
    assert cli.main(["tap", "check"]) == 1
    assert "ivoa.obscore.ghost" in capsys.readouterr().err
