"""ivoa.obscore as described by obscore.yaml: against the standard, in PostgreSQL, for TAP.

The reference is /work/shared/reference/obscore-1.1-columns.tsv (ObsCore 1.1
REC, Table 4 and Appendix C). The DDL runs in a scratch database of its own
(created and dropped here), with the corrected pg_sphere version.
"""

from __future__ import annotations

import csv
import os
import uuid
from pathlib import Path

import psycopg
import pytest
from conftest import scratch_database
from psycopg import errors, sql

from assocdata import config
from assocdata.obscore import schema

REFERENCE = Path(os.environ.get(
    "ASSOCDATA_REFERENCE", config.REPO_ROOT.parent / "shared" / "reference")) / "obscore-1.1-columns.tsv"
#: Datatypes Vollt's TAP_SCHEMA reader accepts (adql.db.DBType.DBDatatype).
VOLLT_DATATYPES = {"SMALLINT", "INTEGER", "BIGINT", "REAL", "DOUBLE", "BINARY", "VARBINARY",
                   "CHAR", "VARCHAR", "BLOB", "CLOB", "TIMESTAMP", "POINT", "REGION"}
#: The cone search Vollt's PgSphereTranslator emits for
#: CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 10.68, 41.27, 0.5)).
CONE = ("SELECT * FROM ivoa.obscore WHERE spoint(radians(s_ra),radians(s_dec)) "
        "@ scircle(spoint(radians(10.68),radians(41.27)),radians(0.5))")


# ------------------------------------------------------------------ reference


def _reference() -> dict[str, dict[str, str]]:
    if not REFERENCE.exists():
        pytest.fail(f"reference table not found at {REFERENCE}")
    with REFERENCE.open(encoding="utf-8", newline="") as fh:
        return {row["name"]: row for row in csv.DictReader(fh, delimiter="\t")}


@pytest.fixture(scope="module")
def reference() -> dict[str, dict[str, str]]:
    return _reference()


def _norm(text: str | None) -> str:
    return (text or "").strip().lower()


def test_description_loads_once_and_validates():
    desc = schema.load()
    assert schema.load() is desc  # cached
    assert desc.qualified_name == "ivoa.obscore"
    assert desc.version and desc.version.startswith("1.1")
    assert len(desc.names) == len(set(desc.names))


def test_every_reference_column_is_described_or_deliberately_omitted(reference):
    desc = schema.load()
    standard = {c.name for c in desc.columns if c.std}
    assert standard | set(desc.omitted_optional) == set(reference)
    assert not standard & set(desc.omitted_optional)
    assert all(reference[n]["mandatory"] == "no" for n in desc.omitted_optional)
    provider = {c.name for c in desc.columns if not c.std}
    assert provider == {"source_catalogue", "header_url", "preview", "hpx"}
    assert not provider & set(reference)


@pytest.mark.parametrize("name", sorted(n for n in _reference() if n not in schema.load().omitted_optional))
def test_standard_column_matches_the_reference(reference, name):
    # Case is normalised (the spec itself mixes Refval/refval). No deliberate
    # difference remains: units are the spec's (t_min/t_max in 'd' = MJD days,
    # access_estsize in 'kbyte'), utypes keep the 'obscore:' prefix as the TSV does
    # (App. C omits it from its tables only for brevity), and instrument_name is
    # lower case (App. C misprints it 'Instrument_name').
    ref = reference[name]
    col = schema.load().column(name)
    assert _norm(col.unit) == _norm(ref["unit"])
    assert _norm(col.ucd) == _norm(ref["ucd"])
    assert _norm(col.utype) == _norm(ref["utype"])
    adql = ref["adql_type"]
    expected_type, _, size = adql.partition("(")
    assert col.datatype == expected_type
    assert col.size == (int(size.rstrip(")")) if size else None)
    assert col.mandatory is (ref["mandatory"] == "yes")
    assert col.std is True


def test_the_30_mandatory_columns_are_not_null_where_the_standard_says(reference):
    desc = schema.load()
    mandatory = [c for c in desc.columns if c.mandatory]
    assert len(mandatory) == 30
    assert [c.name for c in mandatory] == [n for n, r in reference.items() if r["mandatory"] == "yes"]
    for col in mandatory:
        # The TSV's notes start with "NOT NULL" for exactly the four columns of
        # ObsCore 1.1 Table 4 with a "not null" constraint.
        spec_not_null = reference[col.name]["notes"].startswith("NOT NULL")
        assert col.nullable is not spec_not_null, col.name
    assert {c.name for c in mandatory if not c.nullable} == {
        "calib_level", "obs_collection", "obs_id", "obs_publisher_did"}


def test_units_are_vounits_and_ucds_are_valid():
    import astropy.units as u
    from astropy.io.votable import ucd

    for col in schema.load().columns:
        if col.unit:
            u.Unit(col.unit, format="vounit")  # raises if not a VOUnit
        assert col.ucd, col.name
        assert ucd.check_ucd(col.ucd, check_controlled_vocabulary=True), col.name


def test_s_region_is_a_pgsphere_polygon_and_the_spoint_index_is_vollts_expression():
    desc = schema.load()
    assert desc.column("s_region").pg_type == "spoly"
    assert desc.column("s_region").datatype == "REGION"
    assert desc.region.circle_vertices == 12
    spoint = [i for i in desc.indexes if i.method == "gist" and i.expression]
    assert [i.expression for i in spoint] == ["spoint(radians(s_ra), radians(s_dec))"]
    # The documented error bounds of the circumscribed 12-gon.
    assert desc.region.radius_overshoot == pytest.approx(0.03528, abs=1e-5)
    assert desc.region.area_overshoot == pytest.approx(0.02349, abs=1e-5)


# ------------------------------------------------------------------ validation


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = schema.YAML_PATH.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "obscore.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  - name: calib_level\n", "  - name: calib_level\n    colour: blue\n", "unknown key"),
    ("  - name: obs_id\n", "  - name: obs_collection\n", "duplicate column name"),
    ("  - name: obs_id\n    datatype: VARCHAR\n",
     "  - name: obs_id\n    datatype: VARCHAR\n    datatype: VARCHAR\n", "duplicate key"),
    ("    datatype: INTEGER\n    pg_type: integer\n", "    datatype: INT\n    pg_type: integer\n",
     "datatype 'INT'"),
    ("    datatype: INTEGER\n    pg_type: integer\n", "    datatype: INTEGER\n    pg_type: text\n",
     "does not store INTEGER"),
    ("    pg_type: varchar(200)\n    size: 200\n", "    pg_type: varchar(100)\n    size: 200\n",
     "disagree"),
    ("  - name: obs_id\n    datatype: VARCHAR\n    pg_type: text\n    ucd: meta.id\n"
     "    utype: obscore:DataID.observationID\n    description: Observation identifier, shared by "
     "all the data products of one observation\n    mandatory: true\n    std: true\n"
     "    principal: true\n    indexed: false\n",
     "  - name: obs_id\n    datatype: VARCHAR\n    pg_type: text\n    ucd: meta.id\n"
     "    utype: obscore:DataID.observationID\n    description: Observation identifier, shared by "
     "all the data products of one observation\n    mandatory: true\n    std: true\n"
     "    principal: true\n    indexed: true\n", "disagree with the indexes"),
    ('    range: "[0, 4]"\n', '    range: "[4, 0]"\n', "empty range"),
    ('    range: "(0, inf)"\n', '    range: "(0, inf]"\n', "infinite bounds are open"),
    ("    columns: [em_max]\n", "    columns: [em_maximum]\n", "must name columns"),
    ("table: obscore\n", "table: ObsCore\n", "lower-case SQL identifier"),
    ("  - dataproduct_subtype\n", "  - obs_id\n", "omitted_optional lists described"),
])
def test_invalid_descriptions_are_refused(tmp_path, old, new, message):
    with pytest.raises(schema.SchemaError, match=message):
        schema.load_file(_variant(tmp_path, old, new))


def test_range_notation():
    r = schema.parse_range("x", "[0, 360)", integer=False)
    assert (r.lo, r.hi, r.lo_closed, r.hi_closed) == (0.0, 360.0, True, False)
    r = schema.parse_range("x", "[-1, inf)", integer=True)
    assert (r.lo, r.hi) == (-1, None) and isinstance(r.lo, int)
    with pytest.raises(schema.SchemaError):
        schema.parse_range("x", "[0.5, 2]", integer=True)
    with pytest.raises(schema.SchemaError):
        schema.parse_range("x", "(inf, 3)", integer=False)


# ---------------------------------------------------------------- DDL in PostgreSQL


@pytest.fixture(scope="module")
def scratch_url():
    """A scratch database with pg_sphere and the generated DDL; dropped afterwards."""
    with scratch_database("schema") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(schema.create_table_sql())
        yield url


@pytest.fixture
def scratch(scratch_url):
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        yield conn


def test_ddl_creates_the_described_columns_and_nullability(scratch):
    desc = schema.load()
    rows = scratch.execute(
        "SELECT column_name, is_nullable, udt_name, character_maximum_length "
        "FROM information_schema.columns WHERE table_schema = 'ivoa' AND table_name = 'obscore' "
        "ORDER BY ordinal_position").fetchall()
    assert [r[0] for r in rows] == list(desc.names)
    for (name, nullable, udt, maxlen), col in zip(rows, desc.columns):
        assert (nullable == "YES") is col.nullable, name
        assert maxlen == col.size, name
        if col.datatype == "REGION":
            assert udt == "spoly"
    comment = scratch.execute("SELECT obj_description('ivoa.obscore'::regclass)").fetchone()[0]
    assert desc.version in comment
    unit_comment = scratch.execute(
        "SELECT col_description('ivoa.obscore'::regclass, %s)",
        (desc.names.index("t_min") + 1,)).fetchone()[0]
    assert "unit: d" in unit_comment and "time.start;obs.exposure" in unit_comment


def test_ddl_creates_the_indexes_with_stable_names(scratch):
    defs = dict(scratch.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'ivoa' "
        "AND tablename = 'obscore'").fetchall())
    assert set(defs) == {i.name for i in schema.load().indexes}
    assert "USING gist (spoint(radians(s_ra), radians(s_dec)))" in defs["obscore_spoint_gist"]
    assert "USING gist (s_region)" in defs["obscore_s_region_gist"]
    assert "UNIQUE" in defs["obscore_pkey"] and "(obs_publisher_did)" in defs["obscore_pkey"]
    for name in ("obs_collection", "dataproduct_type", "t_min", "t_max", "em_min", "em_max",
                 "source_catalogue"):
        assert f"USING btree ({name})" in defs[f"obscore_{name}_idx"]


def _insert(conn, **values) -> None:
    base = {"calib_level": 2, "obs_collection": "TEST", "obs_id": "o1",
            "obs_publisher_did": f"ivo://test/obscore?{uuid.uuid4().hex}",
            "source_catalogue": "J/A+A/1/1"}
    base.update(values)
    query = sql.SQL("INSERT INTO ivoa.obscore ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, base)),
        sql.SQL(", ").join(sql.Placeholder() * len(base)))
    conn.execute(query, list(base.values()))


def test_a_complete_row_is_accepted_and_hpx_fits_its_range(scratch):
    s_region = schema.circle_to_spoly(10.68, 41.27, 0.01)
    hpx = scratch.execute(
        "SELECT healpix_nest(29, spoint(radians(10.68), radians(41.27)))").fetchone()[0]
    _insert(scratch, obs_publisher_did="ivo://test/obscore?complete",
            dataproduct_type="spectrum", access_url="https://example.org/f.fits",
            access_format="application/fits", access_estsize=2880, target_name="M 31",
            s_ra=10.68, s_dec=41.27, s_fov=0.02, s_region=s_region, s_resolution=1.5,
            s_xel1=1, s_xel2=1, t_min=51544.0, t_max=51544.1, t_exptime=600.0,
            t_resolution=600.0, t_xel=1, em_min=4e-7, em_max=7e-7, em_res_power=2000.0,
            em_xel=2048, o_ucd="phot.flux.density", pol_states="/I/", pol_xel=1,
            facility_name="OHP 1.93m", instrument_name="SOPHIE", target_class="G",
            obs_title="x" * 200, data_rights="public", s_pixel_scale=0.5, em_ucd="em.wl",
            o_unit="erg.s**-1.cm**-2.Angstrom**-1", header_url="https://example.org/f.txt",
            hpx=hpx)
    row = scratch.execute(
        "SELECT spoint(radians(s_ra), radians(s_dec)) @ s_region FROM ivoa.obscore "
        "WHERE obs_publisher_did = 'ivo://test/obscore?complete'").fetchone()
    assert row == (True,)


@pytest.mark.parametrize(("values", "error"), [
    ({"dataproduct_type": "foo"}, errors.CheckViolation),
    ({"dataproduct_type": "Image"}, errors.CheckViolation),
    ({"calib_level": 7}, errors.CheckViolation),
    ({"calib_level": -1}, errors.CheckViolation),
    ({"calib_level": None}, errors.NotNullViolation),
    ({"obs_id": None}, errors.NotNullViolation),
    ({"obs_collection": None}, errors.NotNullViolation),
    ({"obs_publisher_did": None}, errors.NotNullViolation),
    ({"source_catalogue": None}, errors.NotNullViolation),
    ({"s_dec": 91.0}, errors.CheckViolation),
    ({"s_ra": 360.0}, errors.CheckViolation),
    ({"s_ra": float("nan")}, errors.CheckViolation),
    ({"t_min": float("inf")}, errors.CheckViolation),
    ({"em_min": 7e-7, "em_max": 4e-7}, errors.CheckViolation),
    ({"em_min": 0.0}, errors.CheckViolation),
    ({"t_min": 51545.0, "t_max": 51544.0}, errors.CheckViolation),
    ({"pol_states": "I/Q"}, errors.CheckViolation),
    ({"pol_states": "/I/Z/"}, errors.CheckViolation),
    ({"data_rights": "open"}, errors.CheckViolation),
    ({"s_xel1": -2}, errors.CheckViolation),
    ({"hpx": -1}, errors.CheckViolation),
    ({"obs_title": "x" * 201}, errors.StringDataRightTruncation),
])
def test_bad_rows_are_refused(scratch, values, error):
    with pytest.raises(error):
        _insert(scratch, **values)


def test_obs_publisher_did_is_unique(scratch):
    _insert(scratch, obs_publisher_did="ivo://test/obscore?twice")
    with pytest.raises(errors.UniqueViolation):
        _insert(scratch, obs_publisher_did="ivo://test/obscore?twice")


@pytest.fixture(scope="module")
def populated(scratch_url) -> str:
    """A few thousand rows spread evenly over the sky (golden-angle spiral), analysed."""
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        conn.execute("""
            INSERT INTO ivoa.obscore (calib_level, obs_collection, obs_id, obs_publisher_did,
                                      source_catalogue, dataproduct_type, s_ra, s_dec, s_region)
            SELECT 2, 'SKY', 'sky' || i, 'ivo://test/obscore?sky' || i, 'J/X/' || (i % 50),
                   'image', ra, dec,
                   format('{(%sd,%sd),(%sd,%sd),(%sd,%sd)}', ra, dec - 0.05, ra + 0.05,
                          dec + 0.05, ra - 0.05, dec + 0.05)::spoly
            FROM (SELECT i, ((i * 137.50776405)::numeric % 360)::float8 AS ra,
                         0.99 * degrees(asin(2 * ((i * 0.6180339887) % 1) - 1)) AS dec
                  FROM generate_series(1, 5000) i) AS s""")
        # Two products right at the cone's centre, so that the searches find something.
        for k, (ra, dec) in enumerate([(10.68, 41.27), (10.70, 41.30)]):
            _insert(conn, obs_publisher_did=f"ivo://test/obscore?m31-{k}", s_ra=ra, s_dec=dec,
                    s_region=schema.circle_to_spoly(ra, dec, 0.05))
        conn.execute("ANALYZE ivoa.obscore")
    return scratch_url


def _plan(conn, query: str) -> str:
    return "\n".join(r[0] for r in conn.execute("EXPLAIN " + query))


def _count_without_indexes(conn, query: str) -> int:
    conn.execute("SET enable_indexscan = off")
    conn.execute("SET enable_bitmapscan = off")
    try:
        return len(conn.execute(query).fetchall())
    finally:
        conn.execute("RESET enable_indexscan")
        conn.execute("RESET enable_bitmapscan")


@pytest.mark.parametrize(("query", "index"), [
    (CONE, "obscore_spoint_gist"),
    # The same, as Vollt writes it: quoted identifiers and "= '1'".
    ("SELECT * FROM ivoa.obscore WHERE (spoint(radians(\"s_ra\"),radians(\"s_dec\")) "
     "@ scircle(spoint(radians(10.68),radians(41.27)),radians(0.5))) = '1'", "obscore_spoint_gist"),
    # INTERSECTS(CIRCLE(...), s_region) = 1 and CONTAINS(POINT(...), s_region) = 1.
    ("SELECT * FROM ivoa.obscore WHERE (scircle(spoint(radians(10.68),radians(41.27)),"
     "radians(0.5)) && \"s_region\") = '1'", "obscore_s_region_gist"),
    ("SELECT * FROM ivoa.obscore WHERE (spoint(radians(10.68),radians(41.27)) @ \"s_region\") = '1'",
     "obscore_s_region_gist"),
])
def test_spatial_searches_use_the_gist_indexes(populated, query, index):
    with psycopg.connect(populated, autocommit=True) as conn:
        plan = _plan(conn, query)  # the planner's own choice: no enable_seqscan=off
        assert index in plan, plan
        found = len(conn.execute(query).fetchall())
        assert found >= 1
        assert found == _count_without_indexes(conn, query)


# ------------------------------------------------------------------ s_region helper


@pytest.mark.parametrize(("ra", "dec", "radius"), [
    (10.68, 41.27, 0.5), (0.01, 0.0, 1.0), (359.99, -30.0, 2.0), (123.0, 89.8, 0.5),
    (200.0, -89.99, 0.01), (45.0, 10.0, 30.0), (45.0, 10.0, 80.0), (45.0, 10.0, 1e-6),
])
def test_circumscribed_polygon_contains_the_circle(scratch, ra, dec, radius):
    poly = schema.circle_to_spoly(ra, dec, radius)
    inside, excess = scratch.execute(
        "SELECT c @ p, area(p) / area(c) - 1 FROM (SELECT %s::spoly AS p, "
        "scircle(spoint(radians(%s), radians(%s)), radians(%s)) AS c) AS g",
        (poly, ra, dec, radius)).fetchone()
    assert inside is True
    if radius >= 0.1:  # PgSphere's area() loses precision on tinier polygons
        # The documented bound (small circles; 1e-5 for the 2 mas margin); larger
        # circles overshoot less.
        assert 0 < excess <= schema.load().region.area_overshoot + 1e-5


def test_circle_helper_refuses_all_sky_footprints():
    assert len(schema.circle_vertices(0, 0, 1)) == 12
    with pytest.raises(ValueError):
        schema.circle_vertices(0, 0, schema.MAX_CIRCLE_RADIUS)
    with pytest.raises(ValueError):
        schema.circle_vertices(0, 0, 0)


# ------------------------------------------------------------------ TAP_SCHEMA


def test_tap_schema_rows_use_vollt_datatypes_and_integer_arraysizes():
    desc = schema.load()
    rows = schema.tap_schema_rows()
    assert rows["schemas"] == [{"schema_name": "ivoa", "description": desc.schema_description,
                                "utype": None, "schema_index": None}]
    (table,) = rows["tables"]
    assert table["table_name"] == "ivoa.obscore" and table["schema_name"] == "ivoa"
    cols = rows["columns"]
    assert [c["column_name"] for c in cols] == list(desc.names)
    assert [c["column_index"] for c in cols] == list(range(1, len(cols) + 1))
    expected_keys = {"table_name", "column_name", "datatype", "arraysize", "xtype", "size",
                     "description", "utype", "unit", "ucd", "indexed", "principal", "std",
                     "column_index"}
    for c in cols:
        assert set(c) == expected_keys
        assert c["table_name"] == "ivoa.obscore"
        assert c["datatype"] in VOLLT_DATATYPES, c  # bare names: no CHAR(n), no 'adql:'
        assert c["arraysize"] is None or (isinstance(c["arraysize"], int)
                                          and not isinstance(c["arraysize"], bool)), c
        assert c["size"] is None or isinstance(c["size"], int)
        assert {c["indexed"], c["principal"], c["std"]} <= {0, 1}
        assert c["description"]
    by_name = {c["column_name"]: c for c in cols}
    assert by_name["s_region"]["datatype"] == "REGION" and by_name["s_region"]["unit"] is None
    assert by_name["s_region"]["xtype"] == "adql:REGION"
    assert by_name["obs_title"]["arraysize"] == 200
    assert by_name["t_min"]["unit"] == "d" and by_name["access_estsize"]["unit"] == "kbyte"
    assert all(by_name[n]["principal"] == 1 and by_name[n]["std"] == 1
               for n in desc.names if desc.column(n).mandatory)
    assert by_name["hpx"]["std"] == 0 and by_name["hpx"]["datatype"] == "BIGINT"
    assert by_name["s_ra"]["indexed"] == 1 and by_name["obs_id"]["indexed"] == 0


# ------------------------------------------------------------------ astropy


def test_empty_table_has_every_column_with_units_descriptions_and_ucds():
    import astropy.units as u

    t = schema.empty_table()
    desc = schema.load()
    assert t.colnames == list(desc.names) and len(t) == 0
    assert t.meta["schema_version"] == desc.version
    assert t["t_min"].unit == u.day and t["t_exptime"].unit == u.s
    assert t["access_estsize"].unit == u.kbyte and t["em_min"].unit == u.m
    assert t["s_ra"].unit == u.deg and t["s_resolution"].unit == u.arcsec
    assert t["s_region"].unit is None
    for col in desc.columns:
        assert t[col.name].description == col.description
        assert t[col.name].meta["ucd"] == col.ucd
    assert t["calib_level"].dtype.kind == "i" and t["s_ra"].dtype.kind == "f"
    meta = schema.astropy_meta()
    assert meta["t_min"] == {"unit": "d", "description": desc.column("t_min").description,
                             "ucd": "time.start;obs.exposure",
                             "utype": "obscore:Char.TimeAxis.Coverage.Bounds.Limits.StartTime",
                             "dtype": "float64", "xtype": None}


def test_table_from_rows_keeps_dtypes_and_masks_nulls():
    import datetime

    t = schema.table_from_rows(
        [("ivo://a", 2, None, None), ("ivo://b", None, 51544.5, datetime.datetime(2020, 1, 2))],
        names=["obs_publisher_did", "calib_level", "t_min", "obs_release_date"])
    assert t["calib_level"].dtype.kind == "i" and list(t["calib_level"].mask) == [False, True]
    assert t["t_min"].unit.to_string() == "d" and bool(t["t_min"].mask[0])
    assert t["obs_release_date"][1] == "2020-01-02T00:00:00"
    with pytest.raises(KeyError):
        schema.table_from_rows([], names=["nope"])


# ------------------------------------------------------------------ docs and CLI


def test_committed_docs_are_up_to_date():
    assert schema.DOCS_PATH.exists(), "run: python -m assocdata.obscore.schema docs -o docs/obscore-columns.md"
    assert schema.DOCS_PATH.read_text(encoding="utf-8") == schema.markdown_docs(), (
        "docs/obscore-columns.md is stale: "
        "python -m assocdata.obscore.schema docs -o docs/obscore-columns.md")


def test_docs_list_every_column_and_index():
    text = schema.markdown_docs()
    desc = schema.load()
    assert desc.version in text
    for name in desc.names:
        assert f"| `{name}` |" in text
    for idx in desc.indexes:
        assert f"`{idx.name}`" in text


def test_cli_prints_and_writes_each_artefact(tmp_path, capsys):
    assert schema.main(["ddl"]) == 0
    assert capsys.readouterr().out == schema.create_table_sql()
    assert schema.main(["tap-schema"]) == 0
    assert '"column_name": "s_region"' in capsys.readouterr().out
    out = tmp_path / "obscore.md"
    assert schema.main(["docs", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == schema.markdown_docs()
    sql_path = schema.write_sql(tmp_path / "100_obscore_table.sql")
    assert sql_path.read_text(encoding="utf-8").startswith("-- ivoa.obscore")
