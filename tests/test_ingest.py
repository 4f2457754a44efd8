"""Staging a collection: every real file staged, bad input rejected, reruns exact.

All against the real PostgreSQL of the test run and the real files of the dev
corpus (arranged as the sample collection).
"""

from __future__ import annotations

import hashlib
import os
import re
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


def test_integers_beyond_64_bits_are_staged_exactly(db, db_url, tmp_path):
    """FITS integers have no size limit; the fast JSON encoder stops at 64 bits, the fallback does not."""
    cat = tmp_path / "BIG"
    cat.mkdir()
    cards = ["SIMPLE  =                    T", "BITPIX  =                    8", "NAXIS   =                    0",
             "BIGINT  = 123456789012345678901234567890", "SMALL   =                   42", "END"]
    (cat / "big.hdr").write_text("\n".join(cards) + "\n")
    (cat / "ReadMe").write_text("a header with a 97-bit integer\n")
    ingest(tmp_path, database_url=db_url)
    row = db.execute("""SELECT h.keywords->>'BIGINT', (h.keywords->'SMALL')::int FROM staging.hdu h
                        JOIN staging.file f ON f.id = h.file_id WHERE f.relpath = 'big.hdr'""").fetchone()
    assert row == ("123456789012345678901234567890", 42)


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


# -- the staged rows themselves, pinned -----------------------------------------

def _equivalence_tree(root: Path, corpus: Path) -> Path:
    """The sample collection, the crafted crashing headers and the broken copies, in one tree."""
    sample.build(root, corpus)
    crash = root / "CRASH"
    crash.mkdir()
    (crash / "ReadMe").write_text("crafted headers that crash wcslib\n")
    for p in sorted((Path(__file__).parent / "data" / "crash").glob("*.hdr")):
        shutil.copy2(p, crash / p.name)
    _broken_catalogue(root, corpus)
    return root


_FRAME = re.compile(r'File "[^"]*", line \d+ in \S+?(?= <-|\)|\\n|\n|$)')


def staged_digests(db) -> dict[str, str]:
    """catalogue/relpath -> sha256 of every staged row of the file (no ids, times or sizes).

    JSONB columns are compared as PostgreSQL stores them.  The source frames
    quoted in crash messages (faulthandler: path, line, function) are left
    out: they move whenever the code does.
    """
    rows: dict[str, list[str]] = {}
    for query in (
        "SELECT catalogue || '/' || relpath, concat_ws('|', header_hash, n_hdus, status) "
        "FROM staging.file",
        "SELECT f.catalogue || '/' || f.relpath, concat_ws('|', h.hdu, h.xtension, h.extname, "
        "h.bitpix, h.naxis::text, h.header_offset, h.data_offset, h.data_size, md5(h.header), "
        "md5(h.keywords::text), md5(coalesce(h.duplicates::text, '-')), "
        "md5(coalesce(h.columns::text, '-')), h.wcs_status, coalesce(h.wcs_message, '-')) "
        "FROM staging.hdu h JOIN staging.file f ON f.id = h.file_id",
        "SELECT catalogue || '/' || relpath, concat_ws('|', coalesce(hdu::text, '-'), "
        "coalesce(keyword, '-'), error_class, severity, message) FROM staging.reject",
    ):
        for key, row in db.execute(query):
            rows.setdefault(key, []).append(_FRAME.sub("FRAME", row))
    return {key: hashlib.sha256("\n".join(sorted(r)).encode()).hexdigest()[:16]
            for key, r in sorted(rows.items())}


def test_staged_rows_of_the_corpus_are_exactly_as_pinned(db, db_url, tmp_path, corpus):
    """Every row staged from the corpus (and from the crashing and broken copies)
    is what the reference reader staged: a faster reader must not change one."""
    ingest(_equivalence_tree(tmp_path, corpus), database_url=db_url)
    got = staged_digests(db)
    assert set(got) == set(STAGED_DIGESTS)
    assert {k: v for k, v in got.items() if STAGED_DIGESTS[k] != v} == {}


#: staged_digests() of the reference reader (commit a877a0a, before the
#: performance work), on the tree of _equivalence_tree().
STAGED_DIGESTS: dict[str, str] = {
    'BROKEN/cat/badcard.fits': 'acfd6ac8ab61540a',
    'BROKEN/cat/empty.fits': 'e6553cc1a4723c10',
    'BROKEN/cat/good.fits': '21712b6640e47632',
    'BROKEN/cat/good.hdr': 'd2eb11f18c651ec6',
    'BROKEN/cat/notfits.fits': 'aba9b53d8dc61a3d',
    'BROKEN/cat/notgzip.fits.gz': '879359be5a4a9057',
    'BROKEN/cat/truncated.fits': '4aac07e40fe206f0',
    'CRASH/bintable_image_and_pixlist.hdr': 'c957e2fe9cad3fa2',
    'CRASH/dss_plate_string_value.hdr': 'bb929a9978e65f9f',
    'CRASH/felo_hel_velref.hdr': '74173052adcbd981',
    'CRASH/pixlist_column_beyond_tfields.hdr': 'a69370093092e915',
    'CRASH/pixlist_tfields_negative.hdr': '83b761a921f26642',
    'CRASH/spectrum_sip_coefficient.hdr': 'f3366fdb99a89541',
    'CRASH/wcsaxes_huge.hdr': 'd78e27ff5f58c4d1',
    'DEMO/astropy-data/HorseHead.fits': '21712b6640e47632',
    'DEMO/astropy-data/allsky_rosat.fits': '49ae6a9d3cc72acf',
    'DEMO/astropy-data/gc_2mass_k.fits': '711819074fda4652',
    'DEMO/astropy-data/gc_bolocam_gps.fits': '2baaa829777be238',
    'DEMO/astropy-data/gc_msx_e.fits': '171044e3fae661ce',
    'DEMO/astropy-data/hlsp_tess-data-alerts_tess_phot_00025155310-s01_tess_v1_lc.fits': 'd819af5ff6fedf6e',
    'DEMO/astropy-data/input_file.fits': '83d871edb06ff5df',
    'DEMO/astropy-data/kplr010666592-2009131110544_slc.fits': '9149395153501d9c',
    'DEMO/astropy-data/l1448_13co.fits': '32b0d8586d44ff6d',
    'DEMO/astropy-data/r.UVES.2011-08-11T232352.266-A01_0000.fits': '38633cdd36aed4e6',
    'DEMO/astropy-data/r.UVES.2011-08-13T031149.083-A01_0000.fits': '0ad57da3490645be',
    'DEMO/astropy-data/spitzer_example_image.fits': '1a9dc9f56565f75e',
    'DEMO/astropy-data/wright_eastmann_2014_tau_ceti.fits': '5b7aa1f7a0b1ff1e',
    'DEMO/gammapy-data/EventList_Crab_fHitbin9GP.fits.gz': '4dd72702554c5c4a',
    'DEMO/gammapy-data/fermi-3fhl-gc-counts-cube.fits.gz': '59f9b1160e1a70ed',
    'DEMO/gammapy-data/fermi-3fhl-gc-counts.fits.gz': '93a0e60682563f49',
    'DEMO/gammapy-data/fermi-3fhl-gc-events.fits.gz': '415f0cc22b472633',
    'DEMO/gammapy-data/hess_dl3_dr1_obs_id_023523.fits.gz': 'cadaf2c0675bbffe',
    'DEMO/gammapy-data/pks2155_hess_lc.fits': '363d4a3099745a0b',
    'DEMO/gammapy-data/run_05029748_DL3.fits': '854d96c0ef396a94',
    'DEMO/laspec/med-58408-TD230151N343645T01_sp01-015.fits': '87f2ae803db21c54',
    'DEMO/laspec/spec-57287-KP193637N444141V03_sp10-161.fits.gz': '076f07fb3a24d035',
    'DEMO/laspec/spec-58397-EG014118N254444M01_sp03-031.fits': 'fad8a230f9d09dab',
    'DEMO/pkg-astropy/1904-66_CAR.hdr': 'a55eabf321d8d346',
    'DEMO/pkg-astropy/1904-66_SIN.hdr': '54b34667bd24c0de',
    'DEMO/pkg-astropy/1904-66_TAN.hdr': 'd2eb11f18c651ec6',
    'DEMO/pkg-astropy/1904-66_ZEA.hdr': '9a1f54bba5d69030',
    'DEMO/pkg-astropy/checksum.fits': 'd439d46ac7b4945b',
    'DEMO/pkg-astropy/header_newlines.fits': '86367d3b48f1308f',
    'DEMO/pkg-astropy/orion-freq-4.hdr': '148ce4ce62a7f026',
    'DEMO/pkg-astropy/sip.fits': 'bfba06d78454f057',
    'DEMO/pkg-glue/events.fits': '486e07d88e1d8194',
    'DEMO/pkg-irispy/iris_l2_20210905_001833_3620258102_SJI_1330_t000.fits': 'de52a915b5131e19',
    'DEMO/pkg-sunpy/efz20040301.010016_s.fits': 'c51393449709d899',
    'DEMO/pkg-sunpy/go1520120601.fits.gz': '752c3f4630954f36',
    'DEMO/pkg-sunpy/hmi_sharp_magnetogram.header': '76392ef20b84496f',
    'DEMO/pkg-sunpy/hsi_obssumm_20120601_018_truncated.fits.gz': '5349c56b57135871',
    'DEMO/pkg-sunpy/lasco_c2_25299383_s.header': '4300f77e29741416',
    'DEMO/pkg-sunpy/swap_lv1_20140606_000113.header': '27b332b546a94915',
    'DEMO/pyspeckit/10074-190_HCOp.fits': 'b2834bba48bc973c',
    'DEMO/pyspeckit/BD60596_merged.fits': 'f5757c3cdf471c2b',
    'DEMO/pyspeckit/G031.947+00.076_nh3_11_Tastar.fits': '51590e1bb457ba12',
    'DEMO/pyspeckit/G203.04+1.76_h2co.fits': 'c26db40a038226a4',
    'DEMO/pyspeckit/evega.0039.rs.ec.dispcor.fits': '0fc5b4b7ea80a2e9',
    'DEMO/pyspeckit/hr2421.fit': '26ae3ebd5b4de7c5',
    'DEMO/pyspeckit/n2hp_cube.fits': '5fe7f4a87ed19654',
    'DEMO/pyspeckit/sample_13CO.fits': '099f39036b95932b',
    'DEMO/pyspeckit/sample_sdss.fits': 'd8d2707eb493e228',
    'DEMO/pyspeckit/sn2009ip_halpha.fits': 'a3ef001754efd767',
    'DEMO/sherpa-test-data/3c120_heg_1.pha.gz': '5da0c6a3b2b88a2a',
    'DEMO/sherpa-test-data/3c273.pi': '29bde2d7a62bd023',
    'DEMO/sherpa-test-data/MNLup_2138_0670580101_EMOS1_S001_specbg.fits': '4e950e02cb7b1022',
    'DEMO/sherpa-test-data/acisf01575_001N001_r0085_pha3.fits.gz': '17ca43f81f919374',
    'DEMO/sherpa-test-data/acisf07999_000N001_r0035_regevt3_srcimg.fits': '3d4e677011d6f094',
    'DEMO/sherpa-test-data/hrcf24564_000N030_r0001_pha3.fits.gz': '15786a72ca486516',
    'DEMO/spectraml/spec-55916-B5591606_sp01-001.fits': '59e189085fd842be',
    'DEMO/spectraml/spec-55939-B5593905_sp01-018.fits': '81301eb3f4dbaa57',
    'DEMO/spectraml/spec-56257-GAC089N38V2_sp01-001.fits': '695249169429adbd',
    'DEMO/specutils-history/1d.fits': '22f3dc03fec40674',
    'DEMO/specutils-history/AAO.fits': '18cbf42a75eaa8e6',
    'DEMO/specutils-history/L5g_0355+11_Cruz09.fits': '7a226f578defafdd',
    'DEMO/specutils-history/TRES.fits': '637e41a7d95b25aa',
    'DEMO/specutils-history/UM669_nF.fits': '96ec124cf32dbfc9',
    'DEMO/specutils-history/multispec-linear-log.fits': '4b03fd52a7b15308',
    'DEMO/specutils-history/multispec_equispec.fits': 'c9fb658a7bdf2d47',
    'DEMO/specutils-history/odbue5030_x1d.fits': 'c80a21be9cd152a5',
    'DEMO/specutils-history/spec1d.1245.066.12004136.fits': 'a957427f5c6b668b',
    'DEMO/specutils-history/spline.fits': '2cf58f0de3d7119c',
}
