"""The run-time SQL helpers of compiled mappings (sql/041_mapping_functions.sql).

They never raise: a value that does not convert is missing, so one odd
header cannot abort a mapping applied to a whole collection.
"""

from __future__ import annotations

import pytest


def one(db, sql: str, *params):
    return db.execute(sql, params).fetchone()[0]


@pytest.mark.parametrize("text, value", [
    ("12.5", 12.5), (" -3 ", -3.0), ("1.0D+03", 1000.0), ("2e-3", 0.002), (".5", 0.5),
    ("abc", None), ("", None), ("1e999", None), ("1e-400", None), ("0", 0.0), ("1e99999", None),
    ("NaN", None),
])
def test_to_double_converts_fits_numbers_and_never_raises(db, text, value):
    assert one(db, "SELECT mapping.to_double(%s)", text) == value


@pytest.mark.parametrize("json, text", [('"abc"', "abc"), ("12", "12"), ("1.5", "1.5"), ("true", "T"),
                                        ("false", "F"), ("null", None), ("[1]", None)])
def test_keyword_values_read_as_text_as_fits_writes_them(db, json, text):
    assert one(db, "SELECT mapping.kw_text(%s::jsonb)", json) == text


@pytest.mark.parametrize("json, value", [("3", 3), ("3.0", 3), ('"4"', 4), ("3.5", None), ('"x"', None),
                                         ("1e30", None)])
def test_integral_keyword_values_only_become_integers(db, json, value):
    assert one(db, "SELECT mapping.kw_bigint(%s::jsonb)", json) == value


@pytest.mark.parametrize("n, item", [(1, "c"), (3, "a"), (4, None), (0, None)])
def test_items_from_the_end(db, n, item):
    assert one(db, "SELECT mapping.item_from_end(ARRAY['a','b','c'], %s)", n) == item


def test_dates_use_the_derivation_parser(db):
    assert one(db, "SELECT mapping.to_mjd('2011-08-11T23:23:52')") == pytest.approx(55784.974907407, abs=1e-8)
    assert one(db, "SELECT mapping.to_mjd('not a date')") is None
    assert str(one(db, "SELECT mapping.to_timestamp('2011-08-11T23:23:52.5')")) == "2011-08-11 23:23:52.500000"
    assert one(db, "SELECT mapping.to_timestamp('2011-02-30')") is None


def test_round_to_digits_and_huge_values(db):
    assert one(db, "SELECT mapping.round_to(3.14159, 2)") == 3.14
    assert one(db, "SELECT mapping.round_to('Infinity', 2)") is None


def test_catalogue_hash_changes_with_the_mappings_assigned(db):
    db.execute("DELETE FROM mapping.mapping WHERE name LIKE 'hash-test%'")
    before = one(db, "SELECT mapping.catalogue_hash('CAT/X')")
    db.execute("INSERT INTO mapping.mapping (name, source, sha256, version) VALUES ('hash-test.map', '', 'a', 1)")
    db.execute("INSERT INTO mapping.assignment (mapping_name, catalogue) VALUES ('hash-test.map', 'CAT/X')")
    after = one(db, "SELECT mapping.catalogue_hash('CAT/X')")
    db.execute("UPDATE mapping.mapping SET sha256 = 'b' WHERE name = 'hash-test.map'")
    edited = one(db, "SELECT mapping.catalogue_hash('CAT/X')")
    db.execute("DELETE FROM mapping.mapping WHERE name = 'hash-test.map'")
    assert len({before, after, edited}) == 3
    assert one(db, "SELECT mapping.catalogue_hash('CAT/X')") == before


def test_catalogue_hashes_answer_for_a_batch_at_once_as_catalogue_hash_does(db):
    db.execute("DELETE FROM mapping.mapping WHERE name LIKE 'hash-test%'")
    db.execute("INSERT INTO mapping.mapping (name, source, sha256, version) VALUES "
               "('hash-test-a.map', '', 'a', 1), ('hash-test-all.map', '', 'b', 1)")
    db.execute("INSERT INTO mapping.assignment (mapping_name, catalogue) VALUES "
               "('hash-test-all.map', '*'), ('hash-test-a.map', 'CAT/A')")
    try:
        batch = dict(db.execute("SELECT * FROM mapping.catalogue_hashes(ARRAY['CAT/A', 'CAT/B'])"))
        assert batch == {c: one(db, "SELECT mapping.catalogue_hash(%s)", c) for c in ("CAT/A", "CAT/B")}
        assert batch["CAT/A"] != batch["CAT/B"] != ""
    finally:
        db.execute("DELETE FROM mapping.mapping WHERE name LIKE 'hash-test%'")
