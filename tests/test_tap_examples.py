"""etl/assocdata/tap/examples.py: the DALI examples document, and its queries on the real table."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from assocdata.derive.refresh import refresh
from assocdata.ingest import ingest
from assocdata.obscore import schema as obscore_schema
from assocdata.tap import examples

XHTML = "{http://www.w3.org/1999/xhtml}"


def test_document_is_xhtml_with_the_rdfa_taplint_reads():
    root = ET.fromstring(examples.render().encode())
    body = root.find(f"{XHTML}body")
    assert body.get("vocab") == "http://www.ivoa.net/rdf/examples#"
    divs = [d for d in root.iter(f"{XHTML}div") if d.get("typeof") == "example"]
    assert len(divs) == len(examples.EXAMPLES) >= 6
    for div in divs:
        assert div.get("resource") == "#" + div.get("id")
        props = {e.get("property"): e.text for e in div.iter() if e.get("property")}
        assert props["name"] and props["query"].startswith("SELECT")
        assert props["table"] == "ivoa.obscore"


def test_examples_cover_the_asked_searches():
    adql = " ".join(e.adql for e in examples.EXAMPLES)
    for needle in ("CONTAINS(POINT", "INTERSECTS(s_region", "em_min", "t_min", "GROUP BY source_catalogue",
                   "hpx_cone("):
        assert needle in adql


def test_examples_name_only_published_columns():
    names = set(obscore_schema.load().names)
    for ex in examples.EXAMPLES:
        select = ex.adql.split("FROM")[0].replace("SELECT", "")
        for item in select.split(","):
            word = item.strip().split()[0]
            assert word in names or word.startswith("COUNT"), (ex.id, word)


@pytest.fixture(scope="module")
def derived(db_url, sample_root):
    ingest(sample_root, database_url=db_url)
    refresh(database_url=db_url)
    return db_url


@pytest.mark.parametrize("example", examples.EXAMPLES, ids=lambda e: e.id)
def test_the_sql_vollt_sends_runs_on_the_derived_sample(db, derived, example):
    db.execute("SET ROLE assocdata_tap")
    try:
        rows = db.execute(example.sql).fetchall()
    finally:
        db.execute("RESET ROLE")
    if example.id == "per-catalogue":
        assert rows and all(n > 0 for *_, n in rows)


def test_hpx_cone_example_returns_the_rows_of_the_cone_example(db, derived):
    by_id = {e.id: e for e in examples.EXAMPLES}
    assert sorted(db.execute(by_id["cone"].sql).fetchall()) == \
        sorted(db.execute(by_id["hpx-cone"].sql).fetchall())
