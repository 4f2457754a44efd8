"""Deriving ivoa.obscore in the database: set-based, incremental, file-free, provenance for all.

Against the real PostgreSQL (PL/Python runs the package's own rules) and the
real files of the dev corpus.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from astropy.io import fits

from assocdata.derive.refresh import refresh
from assocdata.ingest import ingest

pytestmark = pytest.mark.usefixtures("empty_derived")


@pytest.fixture
def empty_derived(db):
    db.execute("TRUNCATE ivoa.obscore, derive.product, derive.issue, derive.file_state, "
               "derive.withdrawn, derive.setting, staging.reject, staging.hdu, staging.file, staging.catalogue CASCADE")


def _published(db) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in db.execute(
        "SELECT obs_publisher_did, dataproduct_type, s_ra, s_dec, em_min, em_max, t_min, t_max, "
        "target_name, facility_name FROM ivoa.obscore")}


def test_refresh_publishes_rows_for_the_sample_collection(db, db_url, collection):
    ingest(collection, database_url=db_url)
    summary = refresh(database_url=db_url)
    assert summary.files == 68
    assert summary.rows >= 60, summary.lines()
    types = {r[0] for r in db.execute("SELECT DISTINCT dataproduct_type FROM ivoa.obscore")}
    assert {"image", "spectrum", "timeseries", "event", "cube"} <= types


def test_every_non_null_cell_has_provenance(db, db_url, collection):
    ingest(collection, database_url=db_url)
    refresh(database_url=db_url)
    columns = [r[0] for r in db.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'ivoa' AND table_name = 'obscore'")]
    missing = []
    for did, provenance in db.execute(
            "SELECT o.obs_publisher_did, p.provenance FROM ivoa.obscore o "
            "JOIN derive.product p USING (obs_publisher_did)"):
        row = db.execute(
            "SELECT " + ", ".join(f"{c} IS NOT NULL" for c in columns) +
            " FROM ivoa.obscore WHERE obs_publisher_did = %s", (did,)).fetchone()
        for column, present in zip(columns, row):
            if present and column not in provenance:
                missing.append((did, column))
    assert not missing, missing[:20]


def test_provenance_is_queryable_per_cell(db, db_url, collection):
    ingest(collection, database_url=db_url)
    refresh(database_url=db_url)
    rows = db.execute("""
        SELECT column_name, rule, sources FROM derive.cell_provenance
         WHERE obs_publisher_did LIKE '%%HorseHead.fits%%' ORDER BY column_name""").fetchall()
    by_column = {r[0]: (r[1], r[2]) for r in rows}
    # HorseHead: RA---TAN/DEC--TAN image; TELESCOP = 'UK Schmidt - Doubl' (an alias);
    # OBJECT = 'data' is a placeholder, so no target_name (and an issue says so).
    assert by_column["s_ra"][0] == "spatial.wcs"
    assert "TELESCOP" in by_column["facility_name"][1]
    assert "target_name" not in by_column
    assert db.execute("SELECT count(*) FROM derive.issue WHERE code = 'target-name-placeholder' "
                      "AND obs_publisher_did LIKE '%%HorseHead.fits%%'").fetchone()[0] == 1


def test_second_refresh_recomputes_nothing(db, db_url, collection):
    ingest(collection, database_url=db_url)
    refresh(database_url=db_url)
    before = _published(db)
    summary = refresh(database_url=db_url)
    assert summary.files == 0 and summary.rows == 0
    assert _published(db) == before


def _set_horsehead_object(collection: Path, name: str) -> None:
    """A modified copy of a real file: HorseHead.fits with another OBJECT."""
    target = collection / "DEMO" / "astropy-data" / "HorseHead.fits"
    with fits.open(target) as hdul:
        hdul[0].header["OBJECT"] = name
        hdul.writeto(target.with_suffix(".tmp"))
    target.with_suffix(".tmp").replace(target)


def test_a_changed_file_is_the_only_one_recomputed(db, db_url, collection):
    ingest(collection, database_url=db_url)
    refresh(database_url=db_url)
    _set_horsehead_object(collection, "Barnard 33")
    ingest(collection, database_url=db_url)
    summary = refresh(database_url=db_url)
    assert summary.files == 1
    names = [r[0] for r in db.execute(
        "SELECT target_name FROM ivoa.obscore WHERE obs_publisher_did LIKE '%%HorseHead.fits%%'")]
    assert names == ["Barnard 33"]


def test_a_restaged_file_queues_its_published_rows_and_the_next_refresh_replaces_them(
        db, db_url, collection):
    """Re-staging deletes the old file row and its products (cascade): the trigger queues the
    rows left published, and the incremental refresh deletes exactly those before inserting
    the new derivation (same obs_publisher_did), leaving the queue empty."""
    ingest(collection, database_url=db_url)
    refresh(database_url=db_url)
    assert db.execute("SELECT count(*) FROM derive.withdrawn").fetchone()[0] == 0
    _set_horsehead_object(collection, "Barnard 33 again")
    ingest(collection, database_url=db_url)
    queued = db.execute("SELECT obs_publisher_did, catalogue FROM derive.withdrawn").fetchall()
    assert [(c, "HorseHead.fits" in d) for d, c in queued] == [("DEMO/astropy-data", True)]
    summary = refresh(database_url=db_url)
    assert (summary.rows, summary.removed) == (1, 0)  # replaced, not removed
    assert db.execute("SELECT count(*) FROM derive.withdrawn").fetchone()[0] == 0
    names = [r[0] for r in db.execute(
        "SELECT target_name FROM ivoa.obscore WHERE obs_publisher_did = %s", [queued[0][0]])]
    assert names == ["Barnard 33 again"]


def test_a_file_that_became_unreadable_loses_its_rows_at_the_next_refresh(db, db_url, collection):
    ingest(collection, database_url=db_url)
    refresh(database_url=db_url)
    target = collection / "DEMO" / "astropy-data" / "HorseHead.fits"
    target.write_bytes(b"this is not FITS any more" * 200)
    ingest(collection, database_url=db_url)
    summary = refresh(database_url=db_url)
    assert summary.removed == 1
    assert not db.execute("SELECT 1 FROM ivoa.obscore WHERE obs_publisher_did LIKE '%%HorseHead%%'"
                          ).fetchall()
    assert db.execute("SELECT count(*) FROM derive.withdrawn").fetchone()[0] == 0


def test_a_gone_file_loses_its_rows(db, db_url, collection):
    ingest(collection, database_url=db_url)
    refresh(database_url=db_url)
    (collection / "DEMO" / "astropy-data" / "HorseHead.fits").unlink()
    ingest(collection, database_url=db_url)
    summary = refresh(database_url=db_url)
    assert summary.removed == 1
    assert not db.execute("SELECT 1 FROM ivoa.obscore WHERE obs_publisher_did LIKE '%%HorseHead%%'"
                          ).fetchall()


def test_a_settings_change_rederives_everything_without_reading_any_file(db, db_url, collection):
    """A rule/settings change + refresh reads no FITS file: the collection is gone from disk."""
    ingest(collection, database_url=db_url)
    refresh(database_url=db_url)
    shutil.rmtree(collection)
    db.execute("""INSERT INTO derive.setting VALUES ('authority', '"example.org"')""")
    summary = refresh(database_url=db_url)
    assert summary.files == 68
    dids = [r[0] for r in db.execute("SELECT obs_publisher_did FROM ivoa.obscore")]
    assert dids and all(d.startswith("ivo://example.org/") for d in dids)


def test_footprints_contain_their_centre(db, db_url, collection):
    ingest(collection, database_url=db_url)
    refresh(database_url=db_url)
    outside = db.execute("""
        SELECT obs_publisher_did FROM ivoa.obscore
         WHERE s_region IS NOT NULL AND s_ra IS NOT NULL
           AND NOT (spoint(radians(s_ra), radians(s_dec)) @ s_region)""").fetchall()
    assert not outside
    assert db.execute("SELECT count(*) FROM ivoa.obscore WHERE s_region IS NOT NULL").fetchone()[0] > 20


def test_headers_that_crashed_wcslib_never_reach_it_in_the_server(db, db_url, tmp_path):
    crash_dir = Path(__file__).parent / "data" / "crash"
    cat = tmp_path / "CRASH"
    cat.mkdir()
    (cat / "ReadMe").write_text("crafted headers that crash wcslib\n")
    for p in crash_dir.iterdir():
        if p.suffix in (".hdr", ".fits"):
            shutil.copy2(p, cat / p.name)
    ingest(tmp_path, database_url=db_url)
    started = db.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
    refresh(database_url=db_url)
    assert db.execute("SELECT pg_postmaster_start_time()").fetchone()[0] == started


def test_a_parallel_refresh_publishes_what_a_serial_one_does(db, db_url, collection):
    """Two backends, one catalogue a batch: the same rows, issues and provenance as one backend."""
    from assocdata.derive.refresh import close_idle_connections

    ingest(collection, database_url=db_url)
    refresh(database_url=db_url)
    serial = _published(db)
    counts = db.execute("SELECT (SELECT count(*) FROM derive.issue), "
                        "(SELECT count(*) FROM derive.cell_provenance)").fetchone()
    try:
        summary = refresh(database_url=db_url, full=True, workers=2, batch_size=1)
        assert summary.files == 68
        assert _published(db) == serial
        assert db.execute("SELECT (SELECT count(*) FROM derive.issue), "
                          "(SELECT count(*) FROM derive.cell_provenance)").fetchone() == counts
    finally:
        close_idle_connections()


def test_parallel_refreshes_reuse_their_backends(db, db_url, collection):
    """The second refresh of a process does not pay the rules' imports again in new backends."""
    from assocdata.derive import refresh as refresh_module

    ingest(collection, database_url=db_url)
    try:
        refresh(database_url=db_url, workers=2, batch_size=1)
        first = {c.info.backend_pid for c in refresh_module._IDLE.get(db_url, [])}
        assert len(first) == 2
        refresh(database_url=db_url, full=True, workers=2, batch_size=1)
        assert {c.info.backend_pid for c in refresh_module._IDLE[db_url]} == first
    finally:
        refresh_module.close_idle_connections()
    assert not refresh_module._IDLE


def test_parallel_batches_cover_every_catalogue_once_and_shrink_towards_the_end():
    from assocdata.derive.refresh import _guided_batches

    names = [f"C{i:03d}" for i in range(300)]
    files = {n: 10 + (i % 7) for i, n in enumerate(names)}
    batches = _guided_batches(names, files, workers=2, size=100)
    assert [n for b in batches for n in b] == names
    assert all(len(b) <= 100 for b in batches)
    weights = [sum(files[n] for n in b) for b in batches]
    assert weights[-1] < weights[0] / 4  # the tail is small: no worker waits long for another
    assert len(batches) <= 40  # and the per-batch overhead stays bounded
