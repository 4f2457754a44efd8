"""sql/060_tap_schema.sql and etl/assocdata/tap/schema.py: TAP_SCHEMA as Vollt reads it."""

from __future__ import annotations

import psycopg
import pytest

from assocdata.obscore import schema as obscore_schema
from assocdata.tap import publish, schema

VOLLT_DATATYPES = {"SMALLINT", "INTEGER", "BIGINT", "REAL", "DOUBLE", "CHAR", "VARCHAR", "CLOB",
                   "TIMESTAMP", "POINT", "REGION"}


def test_every_obscore_column_is_generated_from_the_description():
    rows = schema.generate()
    desc = obscore_schema.load()
    published = [c for c in rows["columns"] if c["table_name"] == "ivoa.obscore"]
    assert [c["column_name"] for c in published] == list(desc.names)
    for row, col in zip(published, desc.columns):
        assert (row["unit"], row["ucd"], row["utype"], row["description"]) == \
            (col.unit, col.ucd, col.utype, col.description)
        assert (row["principal"], row["indexed"], row["std"]) == \
            (int(col.principal), int(col.indexed), int(col.std))
    assert {c["column_name"] for c in published if not c["std"]} >= {"source_catalogue", "hpx"}


def test_datatypes_are_vollt_names_and_arraysize_is_an_integer():
    for row in schema.generate()["columns"]:
        assert row["datatype"] in VOLLT_DATATYPES, row
        assert row["arraysize"] is None or isinstance(row["arraysize"], int), row
        if row["datatype"] == "CHAR":
            assert row["arraysize"], row


def test_s_region_is_a_region_without_unit():
    row = next(c for c in schema.generate()["columns"] if c["column_name"] == "s_region")
    assert (row["datatype"], row["unit"], row["xtype"]) == ("REGION", None, "adql:REGION")


def test_tap_schema_describes_itself_and_its_keys():
    rows = schema.generate()
    tables = {t["table_name"] for t in rows["tables"]}
    assert {f"TAP_SCHEMA.{t}" for t in schema.TABLE_ORDER} | {"ivoa.obscore"} == tables
    assert {k["key_id"] for k in rows["keys"]} == set(schema.TAP_SCHEMA_KEYS)
    key = next(k for k in rows["keys"] if k["key_id"] == "columns_table_name")
    assert (key["from_table"], key["target_table"]) == ("TAP_SCHEMA.columns", "TAP_SCHEMA.tables")


def test_refresh_writes_the_rows_and_reports_a_change_only_once(db):
    rows, changed = publish.refresh_schema(db)
    rows2, changed2 = publish.refresh_schema(db)
    assert rows == rows2 and not changed2
    n = db.execute('SELECT count(*) FROM "TAP_SCHEMA".columns WHERE table_name = %s',
                   ("ivoa.obscore",)).fetchone()[0]
    assert n == len(obscore_schema.load().columns)
    assert db.execute('SELECT datatype, arraysize FROM "TAP_SCHEMA".columns '
                      "WHERE column_name = 'obs_title'").fetchone() == ("VARCHAR", 200)


@pytest.mark.parametrize("column, value, constraint", [
    ("datatype", "char", "columns_vollt_datatype"),
    ("datatype", "long", "columns_vollt_datatype"),
])
def test_tables_refuse_what_vollt_would_misread(db, column, value, constraint):
    publish.refresh_schema(db)
    with pytest.raises(psycopg.errors.CheckViolation, match=constraint):
        db.execute(f'UPDATE "TAP_SCHEMA".columns SET {column} = %s '
                   "WHERE column_name = 'obs_id'", (value,))


def test_arraysize_cannot_be_text(db):
    publish.refresh_schema(db)
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        db.execute('UPDATE "TAP_SCHEMA".columns SET arraysize = %s::text::integer '
                   "WHERE column_name = 'obs_id'", ("*",))


def test_char_without_size_is_refused(db):
    publish.refresh_schema(db)
    with pytest.raises(psycopg.errors.CheckViolation, match="columns_char_has_size"):
        db.execute('UPDATE "TAP_SCHEMA".columns SET datatype = \'CHAR\', arraysize = NULL '
                   "WHERE column_name = 'obs_id'")
