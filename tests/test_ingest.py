"""Staging a collection: every real file staged, bad input rejected, reruns exact.

All against the real PostgreSQL of the test run and the real files of the dev
corpus (arranged as the sample collection).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from astropy.io import fits

from assocdata import sample
from assocdata.ingest import ingest

pytestmark = pytest.mark.usefixtures("empty_staging")

HEADER_SUFFIXES = (".hdr", ".header")


def _astropy_hdus(path: Path) -> list[fits.Header]:
    """astropy's own reading of every header of a file (the reference)."""
    if path.name.endswith(HEADER_SUFFIXES):
        data = path.read_bytes()
        if b"\n" in data[:2880]:  # one card per line
            return [fits.Header.fromtextfile(str(path))]
        return [fits.Header.fromstring(data.decode("ascii"))]  # 2880-byte blocks
    with fits.open(path, lazy_load_hdus=False, ignore_missing_simple=False) as hdul:
        return [hdu.header.copy() for hdu in hdul]


def snapshot(db) -> dict:
    """Everything staged, in a comparable form (no ids, no timestamps)."""
    files = db.execute("""
        SELECT catalogue, relpath, size, mtime_ns, header_hash, n_hdus, status
          FROM staging.file ORDER BY 1, 2""").fetchall()
    hdus = db.execute("""
        SELECT f.catalogue, f.relpath, h.hdu, h.xtension, h.extname, h.bitpix, h.naxis,
               md5(h.header), h.keywords::text, h.duplicates::text, h.columns::text, h.wcs_status
          FROM staging.hdu h JOIN staging.file f ON f.id = h.file_id ORDER BY 1, 2, 3""").fetchall()
    rejects = db.execute("""
        SELECT catalogue, relpath, hdu, keyword, error_class, message
          FROM staging.reject ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST, 5, 6""").fetchall()
    return {"files": files, "hdus": hdus, "rejects": rejects}


def test_every_corpus_file_is_staged_with_astropys_hdus(db, db_url, sample_root, corpus):
    summary = ingest(sample_root, database_url=db_url)
    entries = sample.manifest(corpus)
    assert summary.files_seen == len(entries) == 68
    rows = {(r[0], r[1]): r[2:] for r in db.execute(
        "SELECT catalogue, relpath, status, n_hdus FROM staging.file")}
    for entry in entries:
        key = (sample.catalogue_of(entry), entry.file.split("/", 1)[1])
        status, n_hdus = rows[key]
        reference = _astropy_hdus(corpus / entry.file)
        assert status in ("staged", "partial"), (entry.file, status)
        assert n_hdus == len(reference), entry.file


def test_keywords_and_structure_agree_with_astropy(db, db_url, sample_root, corpus):
    ingest(sample_root, database_url=db_url)
    checked = 0
    for entry in sample.manifest(corpus):
        catalogue, relpath = sample.catalogue_of(entry), entry.file.split("/", 1)[1]
        staged = db.execute("""
            SELECT h.hdu, h.xtension, h.extname, h.bitpix, h.naxis, h.keywords
              FROM staging.hdu h JOIN staging.file f ON f.id = h.file_id
             WHERE f.catalogue = %s AND f.relpath = %s ORDER BY h.hdu""",
            (catalogue, relpath)).fetchall()
        for (index, xtension, extname, bitpix, naxis, keywords), header in zip(
                staged, _astropy_hdus(corpus / entry.file)):
            assert xtension == (header.get("XTENSION") or None if index else None)
            if header.get("ZIMAGE") is not True:
                assert bitpix == header.get("BITPIX")
                assert naxis == [header[f"NAXIS{i}"] for i in range(1, header.get("NAXIS", 0) + 1)]
            assert extname == header.get("EXTNAME"), (entry.file, index)
            for key in ("TELESCOP", "INSTRUME", "OBJECT", "DATE-OBS", "MJD-OBS", "EXPTIME",
                        "CTYPE1", "CTYPE2", "CRVAL1", "CRPIX1", "CDELT1", "EQUINOX", "RADESYS",
                        "TSTART", "TSTOP", "MJDREF", "MJDREFI", "TIMESYS", "RA", "DEC"):
                if key in header and header.count(key) == 1:
                    expected = header[key]
                    if isinstance(expected, float):
                        assert keywords[key] == pytest.approx(expected, rel=1e-15), (entry.file, key)
                    elif isinstance(expected, (bool, int, str)):
                        assert keywords[key] == expected, (entry.file, index, key)
                    checked += 1
    assert checked > 300


def test_table_column_descriptors_agree_with_astropy(db, db_url, sample_root, corpus):
    ingest(sample_root, database_url=db_url)
    rows = db.execute("""
        SELECT f.catalogue, f.relpath, h.hdu, h.columns
          FROM staging.hdu h JOIN staging.file f ON f.id = h.file_id
         WHERE h.xtension IN ('BINTABLE', 'TABLE')""").fetchall()
    assert len(rows) > 50
    by_path = {(sample.catalogue_of(e), e.file.split("/", 1)[1]): e.file for e in sample.manifest(corpus)}
    for catalogue, relpath, index, columns in rows:
        with fits.open(corpus / by_path[(catalogue, relpath)]) as hdul:
            expected = hdul[index].columns
            assert [c["ttype"] for c in columns] == [c.name for c in expected]
            assert [c["tform"] for c in columns] == [str(c.format) for c in expected] or \
                [c["tform"].strip() for c in columns] == [hdul[index].header[f"TFORM{i + 1}"].strip() for i in range(len(expected))]
            assert [c["tunit"] or None for c in columns] == [c.unit or None for c in expected]


def test_spectral_and_temporal_column_ranges_are_read(db, db_url, sample_root):
    ingest(sample_root, database_url=db_url)

    def ranges(relpath: str, hdu: int) -> dict[str, tuple[float, float]]:
        columns = db.execute("""
            SELECT h.columns FROM staging.hdu h JOIN staging.file f ON f.id = h.file_id
             WHERE f.relpath = %s AND h.hdu = %s""", (relpath, hdu)).fetchone()[0]
        return {c["ttype"]: (c["min"], c["max"]) for c in columns if c["role"]}

    # Keck DEIMOS spec1d: LAMBDA in Angstrom, a few thousand A in the red.
    deimos = ranges("spec1d.1245.066.12004136.fits", 1)
    lam_min, lam_max = deimos["LAMBDA"]
    assert 6000 < lam_min < lam_max < 11000
    # Kepler short cadence: TIME in BKJD (BJD - 2454833), Q0/Q1 2009 => about 120-140.
    kepler = ranges("kplr010666592-2009131110544_slc.fits", 1)
    t_min, t_max = kepler["TIME"]
    assert 100 < t_min < t_max < 200


def test_readme_is_stored_with_the_catalogue(db, db_url, sample_root):
    ingest(sample_root, database_url=db_url)
    readme = db.execute(
        "SELECT readme FROM staging.catalogue WHERE id = 'DEMO/gammapy-data'").fetchone()[0]
    assert "HESS_DL3_DR1" in readme or "hess_dl3_dr1" in readme


# -- bad input ------------------------------------------------------------------

def _broken_catalogue(root: Path, corpus: Path) -> Path:
    """Real files, plus broken copies of real files, in one catalogue."""
    cat = root / "BROKEN" / "cat"
    cat.mkdir(parents=True)
    (cat / "ReadMe").write_text("Broken copies of real files (assocdata tests)\n")
    good = corpus / "astropy-data" / "HorseHead.fits"
    shutil.copy2(good, cat / "good.fits")
    shutil.copy2(corpus / "pkg-astropy" / "1904-66_TAN.hdr", cat / "good.hdr")
    data = good.read_bytes()
    # truncated in the middle of the second HDU's header: the primary HDU survives
    with fits.open(good) as hdul:
        second = hdul.fileinfo(1)["hdrLoc"]
    (cat / "truncated.fits").write_bytes(data[: second + 1000])
    # a card with an invalid value: EXPTIME = 'abc' without quotes -> malformed
    header_end = data.index(b"END" + b" " * 77)
    cards = bytearray(data)
    pos = data.index(b"EXPOSURE=")
    cards[pos:pos + 80] = b"EXPOSURE=          65.0.0.1 / not a number".ljust(80)
    (cat / "badcard.fits").write_bytes(bytes(cards))
    assert header_end > pos
    (cat / "notfits.fits").write_bytes(b"<html><body>404 Not Found</body></html>\n" * 100)
    (cat / "empty.fits").write_bytes(b"")
    (cat / "notgzip.fits.gz").write_bytes(b"this is not gzip data" * 10)
    return cat


def test_broken_copies_give_reject_rows_and_neighbours_are_staged(db, db_url, tmp_path, corpus):
    _broken_catalogue(tmp_path, corpus)
    summary = ingest(tmp_path, database_url=db_url)
    files = {r[0]: (r[1], r[2]) for r in db.execute("SELECT relpath, status, n_hdus FROM staging.file")}
    assert files["good.fits"] == ("staged", 2)
    assert files["good.hdr"] == ("staged", 1)
    rejects = {(r[0], r[1]): (r[2], r[3], r[4]) for r in db.execute(
        "SELECT relpath, error_class, hdu, keyword, message FROM staging.reject")}
    assert ("empty.fits", "empty") in rejects
    assert ("notfits.fits", "not-fits") in rejects
    assert ("notgzip.fits.gz", "not-fits") in rejects or ("notgzip.fits.gz", "bad-gzip") in rejects
    assert rejects[("truncated.fits", "truncated")][0] == 1  # the second HDU
    assert files["truncated.fits"] == ("partial", 1)
    hdu, keyword, message = rejects[("badcard.fits", "invalid-value")]
    assert (hdu, keyword) == (0, "EXPOSURE") and "65.0.0.1" in message
    assert files["badcard.fits"] == ("partial", 2)
    assert summary.files_rejected >= 3


def test_crashing_wcs_becomes_a_reject_and_the_rest_of_the_file_is_staged(db, db_url, tmp_path):
    crash_dir = Path(__file__).parent / "data" / "crash"
    crafted = sorted(p for p in crash_dir.iterdir() if p.suffix in (".hdr", ".fits"))
    assert crafted, "tests/data/crash holds the crafted headers (see its README.md)"
    cat = tmp_path / "CRASH"
    cat.mkdir()
    (cat / "ReadMe").write_text("crafted headers that crash wcslib\n")
    for p in crafted:
        shutil.copy2(p, cat / p.name)
    summary = ingest(tmp_path, database_url=db_url)
    crashes = db.execute("""
        SELECT relpath, hdu, error_class FROM staging.reject WHERE error_class = 'wcs-crash'""").fetchall()
    assert crashes, summary.lines()
    for relpath, hdu, _ in crashes:
        status, wcs_status = db.execute("""
            SELECT f.status, h.wcs_status FROM staging.file f JOIN staging.hdu h ON h.file_id = f.id
             WHERE f.relpath = %s AND h.hdu = %s""", (relpath, hdu)).fetchone()
        assert (status, wcs_status) == ("partial", "crash")


# -- reruns -----------------------------------------------------------------------

def test_reingest_of_an_unchanged_tree_writes_nothing(db, db_url, collection):
    ingest(collection, database_url=db_url)
    before = db.execute("""
        SELECT (SELECT array_agg(xmin::text ORDER BY id) FROM staging.file),
               (SELECT array_agg(xmin::text ORDER BY file_id, hdu) FROM staging.hdu),
               (SELECT array_agg(xmin::text ORDER BY id) FROM staging.reject),
               (SELECT array_agg(xmin::text ORDER BY id) FROM staging.catalogue)""").fetchone()
    summary = ingest(collection, database_url=db_url)
    after = db.execute("""
        SELECT (SELECT array_agg(xmin::text ORDER BY id) FROM staging.file),
               (SELECT array_agg(xmin::text ORDER BY file_id, hdu) FROM staging.hdu),
               (SELECT array_agg(xmin::text ORDER BY id) FROM staging.reject),
               (SELECT array_agg(xmin::text ORDER BY id) FROM staging.catalogue)""").fetchone()
    assert summary.files_unchanged == summary.files_seen == 68
    assert summary.files_staged == 0
    assert before == after


def test_a_modified_file_replaces_its_rows(db, db_url, collection, corpus):
    ingest(collection, database_url=db_url)
    target = collection / "DEMO" / "astropy-data" / "input_file.fits"
    with fits.open(target) as hdul:
        hdul[0].header["OBJECT"] = "PUPPY"
        hdul.writeto(target.with_suffix(".tmp"))
    target.with_suffix(".tmp").replace(target)
    summary = ingest(collection, database_url=db_url)
    assert summary.files_staged == 1
    rows = db.execute("""
        SELECT h.keywords->>'OBJECT' FROM staging.hdu h JOIN staging.file f ON f.id = h.file_id
         WHERE f.relpath = 'input_file.fits' AND h.hdu = 0""").fetchall()
    assert rows == [("PUPPY",)]


def test_a_removed_file_is_marked_gone(db, db_url, collection):
    ingest(collection, database_url=db_url)
    (collection / "DEMO" / "pyspeckit" / "hr2421.fit").unlink()
    summary = ingest(collection, database_url=db_url)
    assert summary.files_gone == 1
    status, gone_at = db.execute(
        "SELECT status, gone_at FROM staging.file WHERE relpath = 'hr2421.fit'").fetchone()
    assert status == "gone" and gone_at is not None
    assert ingest(collection, database_url=db_url).files_gone == 0


def _ingest_command(root: Path, db_url: str) -> list[str]:
    return [sys.executable, "-c",
            "import sys; from assocdata.ingest import ingest; "
            f"ingest({str(root)!r}, database_url={db_url!r})"]


@pytest.mark.slow
def test_kill_9_at_any_point_then_rerun_equals_an_uninterrupted_run(db, db_url, collection):
    ingest(collection, database_url=db_url)
    reference = snapshot(db)
    env = {**os.environ, "ASSOCDATA_BATCH_FILES": "3"}  # many commits: kills land between and inside
    for delay in (0.5, 1.0, 1.5, 2.5):
        db.execute("TRUNCATE staging.reject, staging.hdu, staging.file, staging.catalogue CASCADE")
        proc = subprocess.Popen(_ingest_command(collection, db_url), env=env, start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        partial = db.execute("SELECT count(*) FROM staging.file").fetchone()[0]
        ingest(collection, database_url=db_url)
        assert snapshot(db) == reference, f"killed after {delay}s with {partial} files staged"


def test_cli_exits_non_zero_with_advice_when_the_database_is_unreachable(tmp_path, sample_root):
    env = {**os.environ, "ASSOCDATA_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2"}
    proc = subprocess.run([sys.executable, "-m", "assocdata.cli", "ingest", "-q", str(sample_root)],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "cannot connect to the database" in proc.stderr
    assert "assocdata db start" in proc.stderr


def test_cli_summary_counts_files_hdus_and_rejects(db_url, tmp_path, corpus):
    _broken_catalogue(tmp_path, corpus)
    env = {**os.environ, "ASSOCDATA_DATABASE_URL": db_url}
    proc = subprocess.run([sys.executable, "-m", "assocdata.cli", "ingest", str(tmp_path)],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "files seen      7" in proc.stdout
    assert "rejects         5 " in proc.stdout and "not-fits" in proc.stdout
